/**
 * The PostgreSQL wiring docs/deployment.md shows, run as written in an app process, with PostgreSQL
 * SIGKILLed under it and restarted: the process survives (no unhandled `'error'` event from the
 * pool), answers 503 meanwhile and 200 again afterwards without a restart.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ApiKeyManager } from '../../src/index.js';
import { migrateApiKeys, PostgresApiKeyStore } from '../../src/postgres.js';
import { extractSnippets } from '../docs/snippets.js';
import { startAppProcess, stopAppProcess, type AppProcess } from '../helpers/app-process.js';
import { PrivatePostgres } from '../helpers/private-postgres.js';

const PEPPER = randomBytes(32).toString('base64url');

describe('docs/deployment.md, PostgreSQL for API keys', () => {
  it('the example at the top of the page builds its pool and key store with the lines of the tested block', () => {
    const blocks = extractSnippets(['docs/deployment.md']).snippets;
    const tested = blocks.find((b) => b.id === 'postgres-apikeys');
    const top = blocks[0];
    expect(tested).toBeDefined();
    const topLines = new Set(top!.code.split('\n').map((l) => l.trim()));
    const wiring = tested!.code
      .split('\n')
      .map((l) => l.trim().replace(/^export /, ''))
      .filter((l) => l !== '' && !l.startsWith('import ') && !l.startsWith('//'));
    expect(wiring.length).toBeGreaterThanOrEqual(4);
    expect(wiring.filter((l) => !topLines.has(l))).toEqual([]);
  });

  describe('run as written in an app process, PostgreSQL SIGKILLed and restarted', () => {
    let server: PrivatePostgres;
    let admin: pg.Pool;
    let app: AppProcess;
    const keys: string[] = [];

    beforeAll(async () => {
      server = await PrivatePostgres.start();
      admin = new pg.Pool({ connectionString: server.url, max: 1 });
      admin.on('error', () => undefined);
      await migrateApiKeys(admin, { schema: 'auth' });
      const manager = new ApiKeyManager({ store: new PostgresApiKeyStore(admin, { schema: 'auth' }), pepper: PEPPER });
      for (let i = 0; i < 3; i++) keys.push((await manager.issue({ owner: `svc-${i}` })).key);
      app = startAppProcess(new URL('./docs-wiring-child.ts', import.meta.url), { DATABASE_URL: server.url, AUTHNZ_APIKEY_PEPPER: PEPPER });
      await app.url;
    }, 120_000);
    afterAll(async () => {
      await stopAppProcess(app?.child);
      await admin?.end();
      await server?.dispose();
    });

    const get = async (key: string): Promise<{ status: number; retryAfter: string | null }> => {
      const res = await fetch(`${await app.url}/reports`, { headers: { 'X-API-Key': key } });
      await res.arrayBuffer();
      return { status: res.status, retryAfter: res.headers.get('retry-after') };
    };

    it('keeps running, answers 503 while PostgreSQL is down and 200 again once it is back', async () => {
      expect((await get(keys[0]!)).status).toBe(200); // the pool now holds an idle connection
      await server.kill();
      await new Promise((resolve) => setTimeout(resolve, 500)); // the idle connection's 'error' event fires
      expect(app.child.exitCode).toBeNull();
      const down = await get(keys[1]!); // never read before: not in the cache
      expect(down.status).toBe(503);
      expect(down.retryAfter).not.toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 2000)); // cacheSeconds of the cached key
      expect((await get(keys[0]!)).status).toBe(503);
      await server.restart();
      const restarted = Date.now();
      let status = 0;
      while (status !== 200 && Date.now() - restarted < 10_000) {
        status = (await get(keys[2]!)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
      expect((await get(keys[1]!)).status).toBe(200);
      expect(app.child.exitCode).toBeNull();
      expect(app.output.text).not.toMatch(/Unhandled 'error' event/);
    }, 90_000);
  });
});
