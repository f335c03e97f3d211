/**
 * `npm run example` started the way docs/deployment.md ("The example app on Redis and PostgreSQL")
 * shows it: each line of that page's `sh` block, with its variables pointed at private servers of the
 * same kind (one redis-server, a three-master Redis Cluster, a throwaway PostgreSQL). The state must
 * land in those servers, not in the example's memory stores.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createAuthHeader } from '../../src/schemes/asymmetric-jwt/index.js';
import { rawCommand, RedisClusterFixture } from '../helpers/redis-cluster.js';
import { ROOT } from '../docs/snippets.js';
import { freePort, PrivateRedis } from '../helpers/redis-server.js';
import { startAppProcess, stopAppProcess, type AppProcess } from '../helpers/app-process.js';
import { PrivatePostgres } from '../helpers/private-postgres.js';

/** One command line of the docs' block: its variables and the command after them. */
interface DocsCommand {
  readonly vars: Record<string, string>;
  readonly command: string;
}

/** The command lines of the `sh` block under "## The example app on Redis and PostgreSQL". */
function docsCommands(): DocsCommand[] {
  const page = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8');
  const section = page.slice(page.indexOf('## The example app on Redis and PostgreSQL'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .map((line) => {
      const words = line.split(/\s+/);
      const vars: Record<string, string> = {};
      while (/^[A-Z_]+=/.test(words[0] ?? '')) {
        const [name, ...value] = (words.shift() as string).split('=');
        vars[name as string] = value.join('=');
      }
      return { vars, command: words.join(' ') };
    });
}

/** Keys held by the Redis servers on `ports` (`DBSIZE`, summed). */
async function keyCount(ports: readonly number[]): Promise<number> {
  const sizes = await Promise.all(ports.map(async (port) => Number((await rawCommand(port, ['DBSIZE'])).slice(1))));
  return sizes.reduce((a, b) => a + b, 0);
}

const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('docs/deployment.md: the example app started with REDIS_URL / DATABASE_URL', () => {
  const commands = docsCommands();
  let redis: PrivateRedis;
  let cluster: RedisClusterFixture;
  let postgres: PrivatePostgres;
  const apps: AppProcess[] = [];
  const devDirs: string[] = [];

  beforeAll(async () => {
    [redis, cluster, postgres] = await Promise.all([PrivateRedis.start(), RedisClusterFixture.start(), PrivatePostgres.start()]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all(apps.map((app) => stopAppProcess(app.child)));
    await Promise.all([redis?.dispose(), cluster?.stop(), postgres?.dispose()]);
    for (const dir of devDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('the block has the two lines, each `npm run example`, and that script runs examples/express-app/server.ts', () => {
    expect(commands.map((c) => [c.command, Object.keys(c.vars)])).toEqual([
      ['npm run example', ['REDIS_URL', 'DATABASE_URL']],
      ['npm run example', ['REDIS_URL']],
    ]);
    expect(commands[1]?.vars['REDIS_URL']).toContain(',');
    expect(packageJson.scripts['example']).toBe('tsx examples/express-app/server.ts');
  });

  /** Starts server.ts with the line's variables, each pointed at the private server of its kind. */
  async function start(line: DocsCommand): Promise<{ url: string; devDir: string; app: AppProcess }> {
    const devDir = mkdtempSync(join(tmpdir(), 'authnz-example-env-'));
    devDirs.push(devDir);
    const env: Record<string, string> = { PORT: String(await freePort()), AUTHNZ_DEV_DIR: devDir };
    for (const [name, value] of Object.entries(line.vars)) {
      if (name === 'REDIS_URL')
        env[name] = value.includes(',') ? cluster.rootNodes.map(({ host, port }) => `redis://${host}:${port}`).join(',') : redis.url;
      else if (name === 'DATABASE_URL') env[name] = postgres.url;
      else throw new Error(`no private server for ${name}`);
    }
    const app = startAppProcess(new URL('../../examples/express-app/server.ts', import.meta.url), env, {
      listening: /example listening on http:\/\/127\.0\.0\.1:(\d+)/,
    });
    apps.push(app);
    return { url: await app.url, devDir, app };
  }

  /** An asymmetric JWT signed with the example's development key. */
  const jwt = (devDir: string): string =>
    createAuthHeader({ username: 'svc-client', privateKey: readFileSync(join(devDir, 'asymmetric_jwt_svc_private.pem'), 'utf8') });

  it('line 1 (one REDIS_URL, DATABASE_URL): nonces in that Redis, the development API key in that PostgreSQL', async () => {
    const { url, devDir, app } = await start(commands[0] as DocsCommand);
    expect(app.output.text).toMatch(/^stores: redis\+postgres$/m);
    const { key } = JSON.parse(readFileSync(join(devDir, 'apikey-dev.json'), 'utf8')) as { key: string };
    expect((await fetch(`${url}/apikey/datasets/mine`, { headers: { 'X-API-Key': key } })).status).toBe(200);
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    try {
      expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM public.authnz_api_keys')).rows[0]?.n).toBe('1');
    } finally {
      await db.end();
    }
    const before = await keyCount([redis.port]);
    const header = jwt(devDir);
    expect((await fetch(`${url}/asymmetric-jwt/whoami`, { headers: { authorization: header } })).status).toBe(200);
    expect(await keyCount([redis.port])).toBeGreaterThan(before);
    expect((await fetch(`${url}/asymmetric-jwt/whoami`, { headers: { authorization: header } })).status).toBe(401);
  }, 90_000);

  it('line 2 (several REDIS_URLs): a Redis Cluster client, nonces on the cluster', async () => {
    const { url, devDir, app } = await start(commands[1] as DocsCommand);
    expect(app.output.text).toMatch(/^stores: redis-cluster$/m);
    const ports = cluster.live().map((n) => n.port);
    const before = await keyCount(ports);
    const header = jwt(devDir);
    expect((await fetch(`${url}/asymmetric-jwt/whoami`, { headers: { authorization: header } })).status).toBe(200);
    expect(await keyCount(ports)).toBeGreaterThan(before);
    expect((await fetch(`${url}/asymmetric-jwt/whoami`, { headers: { authorization: header } })).status).toBe(401);
  }, 90_000);
});
