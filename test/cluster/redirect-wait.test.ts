/**
 * `waitReplicas` and a slot that moved: the claim and its `WAIT` must be answered by the same node,
 * the one that took the write. A subject's slot is reassigned from its master A to master B (the
 * client's slot map still says A) and B's replica is frozen, so only a `WAIT` on B can tell that no
 * replica holds the claim. A `WAIT` answered by A (whose replica is live) would let the claim pass.
 * With each client, built as docs/deployment.md does: no claim passes while B's replica is frozen;
 * once it thaws, claims pass again.
 */
import { randomUUID } from 'node:crypto';
import { CLIENT_KINDS, docsClusterClient, type DocsClusterClient } from './clients.js';
import { rawCommand, useCluster } from '../helpers/redis-cluster.js';

const getCluster = useCluster();
const used = new Set<number>();

describe.each(CLIENT_KINDS)('waitReplicas 1 after a slot moved, with %s', (kind) => {
  let c: DocsClusterClient;
  beforeAll(async () => {
    c = await docsClusterClient(kind, getCluster().rootNodes, {
      keyPrefix: `test:redirect-wait:${randomUUID()}:`,
      timeoutMs: 2000,
      waitReplicas: 1,
      waitTimeoutMs: 200,
    });
    await c.replayStore.ready({ timeoutMs: 10_000 });
  });
  afterAll(() => c?.close());

  it("the WAIT is answered by the node that took the claim: none passes while that node's replica is frozen", async () => {
    const cluster = getCluster();
    const claim = (subject: string): Promise<boolean> => c.replayStore.claim({ subject, time: '1', nonce: randomUUID(), ttlMs: 40_000 });
    // A subject of its own (an empty slot, so reassigning it moves no key) on a master not used before.
    let subject = '';
    let from = 0;
    for (let i = 0; subject === ''; i++) {
      const candidate = `svc-moved-${kind}-${i}`;
      const m = await cluster.masterOfSlot(await cluster.slotOf(c.replayStore.keyFor({ subject: candidate, time: '0', nonce: 'x' })));
      if (!used.has(m)) [subject, from] = [candidate, m];
    }
    used.add(from);
    const slot = await cluster.slotOf(c.replayStore.keyFor({ subject, time: '0', nonce: 'x' }));
    const masters = new Set(await Promise.all([0, 5461, 10923].map((s) => cluster.masterOfSlot(s))));
    const to = [...masters].find((m) => m !== from) as number;
    const [toReplica] = await cluster.replicasOf(to);
    const [fromReplica] = await cluster.replicasOf(from);
    expect(toReplica).toBeDefined();
    expect(fromReplica).toBeDefined();

    const toId = (await rawCommand(to, ['CLUSTER', 'MYID'])).replace(/^\$\d+\r\n/, '').trim();
    // The new owner first, then the old, then the third master (replicas learn it by gossip).
    for (const port of [to, from, ...[...masters].filter((p) => p !== to && p !== from)]) {
      expect(await rawCommand(port, ['CLUSTER', 'SETSLOT', String(slot), 'NODE', toId])).toBe('+OK');
    }
    cluster.signal(toReplica as number, 'SIGSTOP');
    const frozen: Array<boolean | number> = [];
    try {
      for (let i = 0; i < 5; i++) {
        frozen.push(await claim(subject).catch((error: { status?: number }) => error.status ?? -1));
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    } finally {
      cluster.signal(toReplica as number, 'SIGCONT');
    }
    expect(frozen.filter((r) => r !== 503)).toEqual([]);
    await cluster.waitHealthy(30_000);
    expect(await claim(subject)).toBe(true);
    expect(await cluster.masterOfSlot(slot)).toBe(to);
  }, 60_000);
});
