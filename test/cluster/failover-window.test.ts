/**
 * The failover window as a function of `cluster-node-timeout`: for each timeout, a cluster of its
 * own, and with each client (built as docs/deployment.md does) the master holding a subject's
 * nonces is SIGKILLed while requests keep coming. The window has two parts, each bounded from its
 * own event: the cluster's (kill → the replica reports itself master: at least the timeout, since no
 * replica may take over earlier) and the client's (promotion → first 200: a bounded margin).
 */
import { randomUUID } from 'node:crypto';
import { CLIENT_KINDS, docsClusterClient } from './clients.js';
import { RedisClusterFixture } from '../helpers/redis-cluster.js';
import { nonceApp, type Outcome } from './traffic.js';

const TIMEOUT_MS = 500;
/**
 * Longest wait for the promotion past the node timeout: the other masters' failure reports travel by
 * gossip (up to half the timeout more), then the replica's election delay (0.5–1 s), and slack.
 */
const clusterMarginMs = (nodeTimeoutMs: number): number => nodeTimeoutMs / 2 + 4000;
/** Promotion → first 200: the client learning the new slot map. */
const CLIENT_MARGIN_MS = 2000;

describe.each([1000, 3000, 5000])('cluster-node-timeout %i ms', (nodeTimeoutMs) => {
  let cluster: RedisClusterFixture | undefined;
  const used = new Set<number>();
  beforeAll(async () => {
    cluster = await RedisClusterFixture.start({ nodeTimeoutMs });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it.each(CLIENT_KINDS)(
    'with %s: promotion comes after the timeout, the first 200 within the margin after promotion',
    async (kind) => {
      const fixture = cluster as RedisClusterFixture;
      const c = await docsClusterClient(kind, fixture.rootNodes, {
        keyPrefix: `test:failover-window:${randomUUID()}:`,
        timeoutMs: TIMEOUT_MS,
      });
      const app = await nonceApp(
        c.replayStore,
        Array.from({ length: 40 }, (_, i) => `svc-window-${i}`),
      );
      try {
        await c.replayStore.ready({ timeoutMs: 10_000 });
        let subject = '';
        let master = 0;
        for (let i = 0; subject === ''; i++) {
          const m = await fixture.masterOfSlot(
            await fixture.slotOf(c.replayStore.keyFor({ subject: `svc-window-${i}`, time: '0', nonce: 'x' })),
          );
          // A master promoted by the previous test has no replica left: nothing could take over from it.
          if (!used.has(m) && (await fixture.replicasOf(m)).length > 0) [subject, master] = [`svc-window-${i}`, m];
        }
        used.add(master);
        const [replica] = await fixture.replicasOf(master);
        expect((await app.present(subject)).status).toBe(200);
        const killedAt = Date.now() - app.t0;
        await fixture.kill(master);
        let promotedAt: number | undefined;
        const promoted = fixture
          .waitMaster(replica as number, nodeTimeoutMs + clusterMarginMs(nodeTimeoutMs))
          .then(() => (promotedAt = Date.now() - app.t0));
        promoted.catch(() => undefined);
        let firstOk: Outcome | undefined;
        const refused: Outcome[] = [];
        while (!firstOk && Date.now() - app.t0 - killedAt < nodeTimeoutMs + clusterMarginMs(nodeTimeoutMs) + CLIENT_MARGIN_MS + 5000) {
          const o = await app.present(subject);
          if (o.status === 200) firstOk = o;
          else {
            refused.push(o);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        await promoted;
        expect(refused.map((o) => o.status).filter((s) => s !== 503)).toEqual([]);
        expect(firstOk).toBeDefined();
        const okAt = (firstOk as Outcome).startedMs + (firstOk as Outcome).tookMs;
        const clusterMs = (promotedAt as number) - killedAt;
        expect(clusterMs).toBeGreaterThanOrEqual(nodeTimeoutMs);
        expect(okAt - killedAt).toBeGreaterThanOrEqual(nodeTimeoutMs);
        expect(okAt - (promotedAt as number)).toBeLessThan(CLIENT_MARGIN_MS);
        console.log(
          `failover window (${kind}, cluster-node-timeout ${nodeTimeoutMs} ms): killed → promoted ${clusterMs} ms (timeout + ${clusterMs - nodeTimeoutMs} ms), ` +
            `→ first 200 ${okAt - killedAt} ms (${okAt - (promotedAt as number)} ms after the promotion was seen); ${refused.length} requests got 503`,
        );
      } finally {
        await app.close();
        c.close();
      }
    },
    60_000,
  );
});
