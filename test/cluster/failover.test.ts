/**
 * Failover on a real Redis Cluster, with each cluster client: SIGKILL the master that holds a
 * subject's nonces while requests keep coming. Requests that need it answer 503 within the store's
 * timeout (never a pass), requests for other shards keep passing, service resumes after the replica
 * is promoted without restarting the app, and no token accepted before or during the failover is
 * accepted again after it. The last test measures the replication window and shows what
 * `waitReplicas` (Redis WAIT) changes: a claim no replica confirmed is answered 503, not 200.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createAuthHeader } from '../../src/schemes/asymmetric-jwt/index.js';
import { RedisReplayStore } from '../../src/redis.js';
import { appWith, keyText } from '../asymmetric-jwt/helpers.js';
import { CLIENT_KINDS, clusterClient, docsClusterClient, type DocsClusterClient } from './clients.js';
import { rawCommand, useCluster } from '../helpers/redis-cluster.js';

const TIMEOUT_MS = 500;
const publicKey = keyText('ed25519_public.pem');
const privateKey = keyText('ed25519_private.pem');
const killed = new Set<number>();
const getCluster = useCluster();

/** A subject whose nonce keys live on a master not yet used by an earlier test, and that master. */
async function subjectOnFreshMaster(store: RedisReplayStore, tag: string): Promise<{ subject: string; master: number }> {
  for (let i = 0; ; i++) {
    const subject = `svc-${tag}-${i}`;
    const master = await getCluster().masterOfSlot(await getCluster().slotOf(store.keyFor({ subject, time: '0', nonce: 'x' })));
    if (
      !killed.has(master) &&
      !(await getCluster()
        .replicasOf(master)
        .then((r) => r.length === 0))
    )
      return { subject, master };
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Outcome {
  readonly status: number;
  readonly startedMs: number;
  readonly tookMs: number;
  readonly header: string;
}

describe.each(CLIENT_KINDS)('failover with %s', (kind) => {
  // The client and store as docs/deployment.md builds them, without waitReplicas (see failover-wait.test.ts).
  let c: DocsClusterClient;
  beforeAll(async () => {
    c = await docsClusterClient(kind, getCluster().rootNodes, { keyPrefix: `test:failover:${randomUUID()}:`, timeoutMs: TIMEOUT_MS });
    await c.replayStore.ready({ timeoutMs: 10_000 });
  });
  afterAll(() => c?.close());

  it('master killed: 503 within the timeout, never a pass; other shards pass; resumes after promotion; 0 replays', async () => {
    const store = c.replayStore;
    const { subject, master } = await subjectOnFreshMaster(store, kind);
    const [replica] = await getCluster().replicasOf(master);
    // A control subject on another live master: its requests do not need the killed one.
    let control = '';
    for (let i = 0; control === ''; i++) {
      const candidate = `ctl-${kind}-${i}`;
      const m = await getCluster().masterOfSlot(await getCluster().slotOf(store.keyFor({ subject: candidate, time: '0', nonce: 'x' })));
      if (m !== master && !killed.has(m)) control = candidate;
    }
    const server = appWith({
      users: { [subject]: { publicKeys: [publicKey] }, [control]: { publicKeys: [publicKey] } },
      replayStore: store,
    }).listen(0, '127.0.0.1');
    const url = await listen(server);
    const t0 = Date.now();
    const present = async (who: string, header = createAuthHeader({ username: who, privateKey })): Promise<Outcome> => {
      const startedMs = Date.now() - t0;
      const res = await fetch(`${url}/whoami`, { headers: { authorization: header } });
      await res.arrayBuffer();
      return { status: res.status, startedMs, tookMs: Date.now() - t0 - startedMs, header };
    };
    try {
      const before: Outcome[] = [];
      for (let i = 0; i < 5; i++) before.push(await present(subject));
      expect(before.map((o) => o.status)).toEqual([200, 200, 200, 200, 200]);

      killed.add(master);
      const killedAt = Date.now() - t0;
      await getCluster().kill(master);
      const during: Outcome[] = [];
      const controls: Outcome[] = [];
      let resumedAt: number | undefined;
      const promoted = getCluster().waitMaster(replica as number, 30_000);
      while (resumedAt === undefined && Date.now() - t0 < 40_000) {
        const [o, ctl] = await Promise.all([present(subject), present(control)]);
        during.push(o);
        controls.push(ctl);
        if (o.status === 200) resumedAt = o.startedMs;
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await promoted;
      expect(resumedAt).toBeDefined();
      const refused = during.filter((o) => o.status !== 200);
      expect(refused.length).toBeGreaterThan(0);
      // Every refusal is a 503, bounded by the store's timeout (slack for a loaded machine's event loop).
      expect(refused.every((o) => o.status === 503)).toBe(true);
      expect(Math.max(...refused.map((o) => o.tookMs))).toBeLessThan(TIMEOUT_MS + 1500);
      expect(controls.filter((o) => o.status === 200).length).toBeGreaterThan(0);
      const after: Outcome[] = [];
      for (let i = 0; i < 5; i++) after.push(await present(subject));
      expect(after.map((o) => o.status)).toEqual([200, 200, 200, 200, 200]);

      // Every token accepted before, during or after the failover is refused as a replay now.
      const accepted = [...before, ...during, ...after, ...controls].filter((o) => o.status === 200);
      const replays = await Promise.all(accepted.map((o) => present('', o.header)));
      expect(replays.filter((o) => o.status === 200)).toHaveLength(0);
      expect(replays.every((o) => o.status === 401)).toBe(true);
      console.log(
        `failover (${kind}): master killed at ${killedAt} ms, service resumed at ${String(resumedAt)} ms: window ${String((resumedAt as number) - killedAt)} ms; ` +
          `${refused.length} requests got 503, ${accepted.length} accepted tokens replayed: 0 passed`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);
});

it('the replication window: a frozen replica leaves acknowledged claims on the master alone; waitReplicas 1 answers 503 instead, and after promotion until a replica rejoins', async () => {
  const c = await clusterClient(
    'ioredis',
    getCluster()
      .live()
      .map((n) => n.port),
  );
  try {
    const prefix = `test:failover:window:${randomUUID()}:`;
    const plain = new RedisReplayStore(c.client, { keyPrefix: prefix, timeoutMs: 2000 });
    const waited = new RedisReplayStore(c.client, { keyPrefix: prefix, timeoutMs: 2000, waitReplicas: 1, waitTimeoutMs: 100 });
    const { subject, master } = await subjectOnFreshMaster(plain, 'window');
    const [replica] = await getCluster().replicasOf(master);
    const claim = (): { subject: string; time: string; nonce: string; ttlMs: number } => ({
      subject,
      time: '1',
      nonce: randomUUID(),
      ttlMs: 40_000,
    });

    // Measured on a healthy shard: median claim latency with and without WAIT, and how long a claim
    // takes to become visible on the replica (the window a failover can lose).
    const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const timed = async (run: () => Promise<unknown>): Promise<number> => {
      const started = process.hrtime.bigint();
      await run();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const plainMs: number[] = [];
    const waitedMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      plainMs.push(await timed(async () => expect(await plain.claim(claim())).toBe(true)));
      waitedMs.push(await timed(async () => expect(await waited.claim(claim())).toBe(true)));
    }
    const reader = new Redis({ host: '127.0.0.1', port: replica as number });
    const lagMs: number[] = [];
    try {
      await reader.call('READONLY');
      for (let i = 0; i < 100; i++) {
        const one = claim();
        lagMs.push(
          (await timed(async () => {
            await plain.claim(one);
            while ((await reader.exists(plain.keyFor(one))) === 0) await new Promise((resolve) => setImmediate(resolve));
          })) - median([...plainMs]),
        );
      }
    } finally {
      reader.disconnect();
    }

    // The replica stops acknowledging (frozen): the master still acknowledges plain claims, which
    // then exist on the master only as far as any replica has confirmed.
    getCluster().signal(replica as number, 'SIGSTOP');
    expect(await plain.claim(claim())).toBe(true);
    const info = await rawCommand(master, ['INFO', 'replication']);
    const masterOffset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
    const ackedOffset = Number(/slave0:[^\r\n]*offset=(\d+)/.exec(info)?.[1]);
    expect(ackedOffset).toBeLessThan(masterOffset);
    await expect(waited.claim(claim())).rejects.toMatchObject({ status: 503, reason: 'redis_replication' });

    killed.add(master);
    await getCluster().kill(master);
    getCluster().signal(replica as number, 'SIGCONT');
    await getCluster().waitMaster(replica as number, 30_000);
    // The promoted master has no replica now: plain claims resume, waitReplicas 1 refuses (503)
    // until one joins. The old master restarted rejoins as its replica, and waited claims pass again.
    let plainResumed = false;
    for (let i = 0; i < 100 && !plainResumed; i++) {
      plainResumed = await plain.claim(claim()).catch(() => false);
      if (!plainResumed) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(plainResumed).toBe(true);
    await expect(waited.claim(claim())).rejects.toMatchObject({ status: 503, reason: 'redis_replication' });
    await getCluster().restart(master);
    await getCluster().waitHealthy(30_000);
    let resumed = false;
    for (let i = 0; i < 100 && !resumed; i++) {
      resumed = await waited.claim(claim()).catch(() => false);
      if (!resumed) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(resumed).toBe(true);
    console.log(
      `replication window (loopback): claim median ${median(plainMs).toFixed(3)} ms without WAIT, ${median(waitedMs).toFixed(3)} ms with WAIT 1; ` +
        `a claim is on the replica ${median(lagMs).toFixed(3)} ms (median) after the master acknowledged it`,
    );
  } finally {
    await c.close();
  }
}, 90_000);
