/**
 * The whole app at the top of docs/deployment.md (the block `id=deployment-app`), run as written in
 * one child process on a private Redis Cluster and a private PostgreSQL, its table created by the
 * page's own `npx authnz apikey migrate` line. Then PostgreSQL is SIGKILLed and restarted, and the
 * Redis Cluster stopped, under the running process.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { runCli } from '../../src/cli/main.js';
import { ApiKeyManager } from '../../src/index.js';
import { PostgresApiKeyStore } from '../../src/postgres.js';
import { createAuthHeader } from '../../src/schemes/asymmetric-jwt/index.js';
import { RedisClusterFixture } from '../helpers/redis-cluster.js';
import { freePort } from '../helpers/redis-server.js';
import { isRunning, startAppProcess, stopAppProcess, type AppProcess } from '../helpers/app-process.js';
import { PrivatePostgres } from '../helpers/private-postgres.js';
import { extractSnippets, ROOT, writeSnippets } from './snippets.js';

const PEPPER = randomBytes(32).toString('base64url');
const keyFile = (name: string): string => readFileSync(new URL(`../fixtures/asymmetric-jwt/keys/${name}`, import.meta.url), 'utf8');
const privateKey = keyFile('ed25519_private.pem');

/** The page's `npx authnz apikey migrate …` line as CLI arguments, its `--store` pointed at `url`. */
function docsMigrateArgs(url: string): string[] {
  const line = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('npx authnz apikey migrate '));
  if (!line) throw new Error('docs/deployment.md has no `npx authnz apikey migrate` line');
  const args = line.trim().split(/\s+/).slice(2);
  const store = args.indexOf('--store');
  if (store < 0) throw new Error(`no --store in: ${line}`);
  args[store + 1] = url;
  return args;
}

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly code: string | undefined;
  readonly reason: string | undefined;
}

describe('docs/deployment.md, the app at the top of the page, run as written in one process', () => {
  let cluster: RedisClusterFixture;
  let server: PrivatePostgres;
  let app: AppProcess;
  let moduleDir: string;
  const keys: string[] = [];

  beforeAll(async () => {
    [cluster, server] = await Promise.all([RedisClusterFixture.start(), PrivatePostgres.start()]);
    const io = { text: '' };
    const migrate = docsMigrateArgs(server.url);
    expect(await runCli(migrate, { out: (t) => void (io.text += t), err: (t) => void (io.text += t) })).toBe(0);
    const admin = new pg.Pool({ connectionString: server.url, max: 1 });
    try {
      const manager = new ApiKeyManager({ store: new PostgresApiKeyStore(admin, { schema: 'auth' }), pepper: PEPPER });
      for (let i = 0; i < 4; i++) keys.push((await manager.issue({ owner: `svc-${i}` })).key);
    } finally {
      await admin.end();
    }
    const block = extractSnippets(['docs/deployment.md']).snippets.filter((s) => s.id === 'deployment-app');
    expect(block).toHaveLength(1);
    const { paths } = writeSnippets(block, `deployment-app-${process.pid}`);
    moduleDir = dirname(paths[0] as string);
    app = startAppProcess(
      new URL(`file://${paths[0] as string}`),
      {
        REDIS_NODES: cluster.rootNodes.map(({ host, port }) => `redis://${host}:${port}`).join(','),
        DATABASE_URL: server.url,
        AUTHNZ_APIKEY_PEPPER: PEPPER,
        SVC_CLIENT_PUBLIC_KEY: keyFile('ed25519_public.pem'),
        PORT: String(await freePort()),
      },
      { listening: /listening on port (\d+)/ },
    );
    await app.url;
  }, 110_000);

  afterAll(async () => {
    await stopAppProcess(app?.child);
    await Promise.all([cluster?.stop(), server?.dispose()]);
    if (moduleDir) rmSync(moduleDir, { recursive: true, force: true });
  });

  const get = async (headers: Record<string, string>): Promise<Answer> => {
    const res = await fetch(`${await app.url}/reports`, { headers });
    const body = (await res.json()) as { code?: string; reason?: string };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.code, reason: body.reason };
  };
  const withKey = (key: string): Promise<Answer> => get({ 'X-API-Key': key });
  const withJwt = (header: string): Promise<Answer> => get({ authorization: header });

  it('an API key answers 200; an asymmetric JWT is accepted once and its replay refused; the 61st request in a minute gets 429', async () => {
    expect(await withKey(keys[0] as string)).toMatchObject({ status: 200 });
    const header = createAuthHeader({ username: 'svc-client', privateKey });
    expect(await withJwt(header)).toMatchObject({ status: 200 });
    expect(await withJwt(header)).toMatchObject({ status: 401, code: 'replay' });
    // `limit: 60` per principal and route: key 0 has used one of its 60.
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await withKey(keys[0] as string)).status);
    expect(statuses.slice(0, 59)).toEqual(Array.from({ length: 59 }, () => 200));
    expect(statuses[59]).toBe(429);
    expect(await withKey(keys[0] as string)).toMatchObject({ status: 429, code: 'rate_limited' });
    expect((await withKey(keys[0] as string)).retryAfter).not.toBeNull();
  }, 30_000);

  it('PostgreSQL SIGKILLed: the process stays up, API keys get 503 with Retry-After, and 200 again once it is back', async () => {
    expect(await withKey(keys[1] as string)).toMatchObject({ status: 200 }); // the pool holds an idle connection
    await server.kill();
    await new Promise((resolve) => setTimeout(resolve, 500)); // the idle connection's 'error' event fires
    expect(isRunning(app.child)).toBe(true);
    const down = await withKey(keys[2] as string); // never read before: not in the cache
    expect(down).toMatchObject({ status: 503, code: 'dependency_unavailable', reason: expect.stringMatching(/^postgres_/) });
    expect(down.retryAfter).not.toBeNull();
    await server.restart();
    const restarted = Date.now();
    let back = down;
    while (back.status !== 200 && Date.now() - restarted < 10_000) {
      back = await withKey(keys[3] as string);
      if (back.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(back).toMatchObject({ status: 200 });
    expect(await withKey(keys[2] as string)).toMatchObject({ status: 200 });
    expect(isRunning(app.child)).toBe(true);
  }, 40_000);

  it('Redis Cluster stopped: asymmetric JWTs get 503 with Retry-After, and the process stays up', async () => {
    const jwt = (): Promise<Answer> => withJwt(createAuthHeader({ username: 'svc-client', privateKey }));
    expect(await jwt()).toMatchObject({ status: 200 });
    await cluster.stop();
    const timed = async (): Promise<Answer & { ms: number }> => {
      const started = Date.now();
      const answer = await jwt();
      return { ...answer, ms: Date.now() - started };
    };
    const first = await timed();
    expect(first).toMatchObject({ status: 503, code: 'dependency_unavailable', reason: expect.stringMatching(/^redis_/) });
    expect(first.retryAfter).not.toBeNull();
    expect(first.ms).toBeLessThan(2000); // the block's timeoutMs: 250, plus slack for a loaded host
    // The client has noticed: its 'error' events reached the block's listener, not an unhandled 'error'.
    const deadline = Date.now() + 10_000;
    while (!/^redis: /m.test(app.output.text) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(app.output.text).toMatch(/^redis: /m);
    const later = await timed();
    expect(later).toMatchObject({ status: 503, code: 'dependency_unavailable', reason: expect.stringMatching(/^redis_/) });
    expect(later.ms).toBeLessThan(2000);
    expect(isRunning(app.child)).toBe(true);
    expect(app.output.text).not.toMatch(/Unhandled 'error' event|unhandledRejection|UnhandledPromiseRejection/);
  }, 30_000);
});
