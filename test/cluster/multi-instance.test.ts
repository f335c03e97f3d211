/**
 * Three app processes share one Redis Cluster, with each cluster client: 300 concurrent
 * presentations of one asymmetric JWT spread over them give exactly one 200 (the other 299 are
 * 401 replay), and a rate limit of N per minute holds across them at exactly N.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createAuthHeader } from '../../src/schemes/asymmetric-jwt/index.js';
import { startAppProcess, stopAppProcess } from '../helpers/app-process.js';
import { CLIENT_KINDS, type ClientKind } from './clients.js';
import { useCluster } from '../helpers/redis-cluster.js';

const privateKey = readFileSync(new URL('../fixtures/asymmetric-jwt/keys/ed25519_private.pem', import.meta.url), 'utf8');
const getCluster = useCluster();

/** Starts one app child and resolves with its base URL once it listens. */
function startApp(kind: ClientKind, prefix: string, points: number, children: ChildProcess[]): Promise<string> {
  const app = startAppProcess(
    new URL('./app-child.ts', import.meta.url),
    {
      CLIENT: kind,
      CLUSTER_PORTS: getCluster()
        .nodes.map((n) => n.port)
        .join(','),
      KEY_PREFIX: prefix,
      RATE_POINTS: String(points),
    },
    { timeoutMs: 30_000 },
  );
  children.push(app.child);
  return app.url;
}

describe.each(CLIENT_KINDS)('three app processes on one Redis Cluster (%s)', (kind) => {
  const children: ChildProcess[] = [];
  const prefix = `test:cluster:multi:${kind}:${randomUUID()}:`;
  const POINTS = 25;
  let urls: string[] = [];

  beforeAll(async () => {
    urls = await Promise.all([0, 1, 2].map(() => startApp(kind, prefix, POINTS, children)));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(children.map((child) => stopAppProcess(child)));
  });

  it('300 concurrent presentations of one token across three processes: exactly one 200, 299 replays', async () => {
    const header = createAuthHeader({ username: 'svc-client', privateKey });
    const results = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const res = await fetch(`${urls[i % 3]}/whoami`, { headers: { authorization: header } });
        return { status: res.status, body: (await res.json()) as { code?: string; pid?: number } };
      }),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    // Every refusal, by status and code, so a failure says what the other answers were.
    const refused = results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body.code ?? ''}`);
    expect(refused).toEqual(Array.from({ length: 299 }, () => '401 replay'));
  });

  it(`a rate limit of ${POINTS} per minute holds across the three processes: exactly ${POINTS} of 90 pass`, async () => {
    const subject = `alice-${randomUUID()}`;
    const call = async (i: number): Promise<{ status: number; pid: number | undefined }> => {
      const res = await fetch(`${urls[i % 3]}/limited`, { headers: { authorization: `Toy ${subject}` } });
      return { status: res.status, pid: res.status === 200 ? ((await res.json()) as { pid: number }).pid : undefined };
    };
    // One request to each process first, so every process spends from the shared budget whatever the
    // scheduling of the burst that follows; then the other 87 at once.
    const first = [await call(0), await call(1), await call(2)];
    const results = [...first, ...(await Promise.all(Array.from({ length: 87 }, (_, i) => call(i + 3))))];
    const passed = results.filter((r) => r.status === 200);
    expect(passed).toHaveLength(POINTS);
    expect(results.filter((r) => r.status === 429)).toHaveLength(90 - POINTS);
    // The passes came from all three processes: the limit really was shared, not local.
    expect(new Set(passed.map((r) => r.pid)).size).toBe(3);
  });
});
