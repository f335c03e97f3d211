/**
 * Start-up order: an app whose Redis Cluster does not exist yet, its client built as
 * docs/deployment.md does, each client library. It listens at once and answers 503 (never a pass)
 * while the nodes are absent and while they run unjoined; once the cluster is formed it answers 200
 * within a bounded margin of that event, without a restart, and `ready()`, called at start-up,
 * resolves only after the formation began.
 */
import { randomUUID } from 'node:crypto';
import { CLIENT_KINDS, docsClusterClient } from './clients.js';
import { RedisClusterFixture } from '../helpers/redis-cluster.js';
import { nonceApp, type Outcome } from './traffic.js';

const TIMEOUT_MS = 500;
/** Longest the client may take, after every node reports the cluster healthy, to pass a claim. */
const RECOVERY_MARGIN_MS = 5000;

describe.each(CLIENT_KINDS)('started before its cluster, with %s', (kind) => {
  let cluster: RedisClusterFixture | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('503 while the cluster is absent or unformed; 200 within the margin after it formed, no restart; ready() waits for it', async () => {
    cluster = await RedisClusterFixture.reserve();
    const c = await docsClusterClient(kind, cluster.rootNodes, {
      keyPrefix: `test:start-order:${randomUUID()}:`,
      timeoutMs: TIMEOUT_MS,
      waitReplicas: 1,
      waitTimeoutMs: 100,
    });
    const app = await nonceApp(c.replayStore, ['svc-early']);
    try {
      let readyAt: number | undefined;
      let readyFailed: unknown;
      c.replayStore.ready({ timeoutMs: 60_000 }).then(
        () => (readyAt = Date.now() - app.t0),
        (error: unknown) => (readyFailed = error),
      );
      const outcomes: Outcome[] = [];
      const traffic = async (untilMs: number): Promise<void> => {
        while (Date.now() - app.t0 < untilMs) {
          outcomes.push(await app.present('svc-early'));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      await traffic(1500);
      const launchedAt = Date.now() - app.t0;
      await cluster.launch();
      await traffic(Date.now() - app.t0 + 1500);
      const formStartedAt = Date.now() - app.t0;
      const formed = cluster.form().then(() => Date.now() - app.t0);
      let formedAt: number | undefined;
      formed.then(
        (t) => (formedAt = t),
        () => undefined,
      );
      // Until formed: nothing passes. After: the first 200 ends the wait (bounded past the formation).
      let firstOk: Outcome | undefined;
      while (!firstOk && (formedAt === undefined || Date.now() - app.t0 - formedAt < RECOVERY_MARGIN_MS + 20_000)) {
        const o = await app.present('svc-early');
        outcomes.push(o);
        if (o.status === 200) firstOk = o;
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const formedMs = await formed;
      const early = outcomes.filter((o) => o.startedMs < formStartedAt);
      expect(early.length).toBeGreaterThan(3);
      expect(early.map((o) => o.status).filter((s) => s !== 503)).toEqual([]);
      expect(firstOk).toBeDefined();
      expect((firstOk as Outcome).startedMs + (firstOk as Outcome).tookMs - formedMs).toBeLessThan(RECOVERY_MARGIN_MS);
      const after: Outcome[] = [];
      for (let i = 0; i < 5; i++) after.push(await app.present('svc-early'));
      expect(after.map((o) => o.status)).toEqual([200, 200, 200, 200, 200]);
      // ready() started with the app: it resolves, and not before the nodes were being joined.
      for (let i = 0; i < 100 && readyAt === undefined && readyFailed === undefined; i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(readyFailed).toBeUndefined();
      expect(readyAt).toBeGreaterThanOrEqual(formStartedAt);
      console.log(
        `start before the cluster (${kind}): nodes launched at ${launchedAt} ms, formation from ${formStartedAt} ms to ${formedMs} ms, ` +
          `first 200 at ${(firstOk as Outcome).startedMs} ms (+${(firstOk as Outcome).startedMs - formedMs} ms), ready() at ${String(readyAt)} ms; ${outcomes.length - 1} requests got 503`,
      );
    } finally {
      await app.close();
      c.close();
    }
  }, 120_000);
});
