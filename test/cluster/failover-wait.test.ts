/**
 * Failover on a real Redis Cluster with `waitReplicas: 1` alone (no plain claims on the same client
 * to refresh its slot map for it), the client built as docs/deployment.md does, each client library:
 * the master holding a subject's nonces is SIGKILLed while requests keep coming, its replica is
 * promoted, and the old master is restarted and rejoins as the new master's replica. Waited claims
 * answer 503 while no replica can confirm them (never a pass), and 200 again soon after the replica
 * is linked: the window is bounded from the cluster's own events, not from a fixed sleep.
 */
import { randomUUID } from 'node:crypto';
import { CLIENT_KINDS, docsClusterClient, type DocsClusterClient } from './clients.js';
import { useCluster } from '../helpers/redis-cluster.js';
import { nonceApp, type Outcome } from './traffic.js';

const TIMEOUT_MS = 500;
/** Longest the client may take, after a replica is linked to the new master, to pass a claim again. */
const CLIENT_MARGIN_MS = 2500;
const getCluster = useCluster();
const used = new Set<number>();

describe.each(CLIENT_KINDS)('waitReplicas 1 alone, failover with %s', (kind) => {
  let c: DocsClusterClient;
  beforeAll(async () => {
    c = await docsClusterClient(kind, getCluster().rootNodes, {
      keyPrefix: `test:failover-wait:${randomUUID()}:`,
      timeoutMs: TIMEOUT_MS,
      waitReplicas: 1,
      waitTimeoutMs: 100,
    });
    await c.replayStore.ready({ timeoutMs: 10_000 });
  });
  afterAll(() => c?.close());

  it('master killed: 503 (never a pass) until a replica confirms again; 200 within the margin after the old master rejoins; 0 replays', async () => {
    const cluster = getCluster();
    let subject = '';
    let master = 0;
    for (let i = 0; subject === ''; i++) {
      const candidate = `svc-wait-${kind}-${i}`;
      const m = await cluster.masterOfSlot(await cluster.slotOf(c.replayStore.keyFor({ subject: candidate, time: '0', nonce: 'x' })));
      if (!used.has(m) && (await cluster.replicasOf(m)).length > 0) [subject, master] = [candidate, m];
    }
    used.add(master);
    const [replica] = await cluster.replicasOf(master);
    const app = await nonceApp(c.replayStore, [subject]);
    try {
      const before: Outcome[] = [];
      for (let i = 0; i < 5; i++) before.push(await app.present(subject));
      expect(before.map((o) => o.status)).toEqual([200, 200, 200, 200, 200]);

      // The cluster's side, as events: kill, promotion of the replica, restart of the old master, its link.
      const at: { killed?: number; promoted?: number; linked?: number } = {};
      const choreography = (async () => {
        at.killed = Date.now() - app.t0;
        await cluster.kill(master);
        await cluster.waitMaster(replica as number, 30_000);
        at.promoted = Date.now() - app.t0;
        await cluster.restart(master);
        await cluster.waitLinked(master, 30_000);
        at.linked = Date.now() - app.t0;
      })();
      let failed: unknown;
      choreography.catch((error: unknown) => (failed = error));
      const during: Outcome[] = [];
      let resumedAt: number | undefined;
      while (failed === undefined && (at.linked === undefined || Date.now() - app.t0 - at.linked < CLIENT_MARGIN_MS + 10_000)) {
        const o = await app.present(subject);
        if (at.killed === undefined) continue;
        during.push(o);
        if (o.status === 200 && at.linked !== undefined && o.startedMs >= at.linked) {
          resumedAt = o.startedMs;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await choreography;
      const linked = at.linked as number;
      // No claim passes between the kill and the replica's link: nothing could have confirmed it.
      const passedUnconfirmed = during.filter(
        (o) => o.status === 200 && o.startedMs > (at.killed as number) && o.startedMs + o.tookMs < (at.promoted as number),
      );
      expect(passedUnconfirmed).toEqual([]);
      const refused = during.filter((o) => o.status !== 200);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((o) => o.status === 503)).toBe(true);
      expect(Math.max(...refused.map((o) => o.tookMs))).toBeLessThan(TIMEOUT_MS + 1500);
      expect(resumedAt).toBeDefined();
      expect((resumedAt as number) - linked).toBeLessThan(CLIENT_MARGIN_MS);
      const after: Outcome[] = [];
      for (let i = 0; i < 5; i++) after.push(await app.present(subject));
      expect(after.map((o) => o.status)).toEqual([200, 200, 200, 200, 200]);

      const accepted = [...before, ...during, ...after].filter((o) => o.status === 200);
      const replays = await Promise.all(accepted.map((o) => app.present('', o.header)));
      expect(replays.map((o) => o.status).filter((s) => s !== 401)).toEqual([]);
      console.log(
        `waitReplicas 1 failover (${kind}): killed at ${String(at.killed)} ms, promoted +${(at.promoted as number) - (at.killed as number)} ms, ` +
          `old master linked as replica +${linked - (at.killed as number)} ms, first 200 +${(resumedAt as number) - (at.killed as number)} ms ` +
          `(${(resumedAt as number) - linked} ms after the link); ${refused.length} requests got 503, ${accepted.length} accepted tokens replayed: 0 passed`,
      );
    } finally {
      await app.close();
    }
  }, 90_000);
});
