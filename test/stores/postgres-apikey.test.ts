/**
 * PostgresApiKeyStore against real PostgreSQL: the shared server on 127.0.0.1:5432 (db `test`, a
 * schema of this file's own) for the contract, revocation across instances and the race, and a
 * private server for kill-and-restart. Also the migration file, a 503 when PostgreSQL cannot
 * answer, and the CLI. The read-through cache in front of it: test/stores/apikey-cache.test.ts.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { ApiKeyManager } from '../../src/index.js';
import { apiKeyMigrationSql, migrateApiKeys, PostgresApiKeyStore } from '../../src/postgres.js';
import { runCli } from '../../src/cli/main.js';
import { PrivatePostgres } from '../helpers/private-postgres.js';
import { databaseUrl } from '../helpers/services.js';
import { apiKeyDatabase } from '../helpers/apikey-database.js';

const DATABASE_URL = databaseUrl();
const PEPPER = 'postgres-suite-pepper-0123456789abcdef';
const { schema: SCHEMA, pools, pool, instance } = apiKeyDatabase('authnz_scale', PEPPER);

it('the shipped migration file is the migration the code runs, and running it twice is harmless', async () => {
  const shipped = readFileSync(new URL('../../migrations/postgres/001_authnz_api_keys.sql', import.meta.url), 'utf8');
  expect(shipped).toBe(apiKeyMigrationSql());
  await migrateApiKeys(pools[0] as pg.Pool, { schema: SCHEMA });
  const { rows } = await (pools[0] as pg.Pool).query(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
    [SCHEMA, 'authnz_api_keys'],
  );
  expect(rows.map((r: { column_name: string }) => r.column_name)).toEqual(
    expect.arrayContaining(['hash', 'created', 'expires', 'revoked', 'last_used']),
  );
  expect(() => new PostgresApiKeyStore(pools[0] as pg.Pool, { schema: 'x"; drop' })).toThrow(
    'new PostgresApiKeyStore(): "schema" must be lower-case letters, digits and _ (at most 63, not starting with a digit) (got a string)',
  );
});

it('round-trips every field exactly, stores only the digest, and records last_used', async () => {
  const { store, manager } = instance();
  // verify() records the use without waiting for it; the test waits for that write itself.
  const markUsed = store.markUsed.bind(store);
  let usageWritten: Promise<void> | undefined;
  store.markUsed = (id, at) => (usageWritten = markUsed(id, at));
  const { key, record } = await manager.issue({
    owner: 'ci',
    kind: 'user',
    scopes: ['deploy', 'read'],
    level: 2,
    name: 'ci key',
    role: 'deployer',
    expiresInSeconds: 3600,
    notBefore: 1_000,
    allowedCidrs: ['10.0.0.0/8'],
  });
  expect(await store.get(record.id)).toEqual(record);
  expect((await store.list()).map((r) => r.id)).toContain(record.id);
  const { rows } = await (pools[0] as pg.Pool).query(`SELECT * FROM "${SCHEMA}".authnz_api_keys WHERE id = $1`, [record.id]);
  const secret = key.slice(key.indexOf('.') + 1);
  expect(JSON.stringify(rows[0])).not.toContain(secret);
  expect(rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
  expect(await store.lastUsed(record.id)).toBeUndefined();
  await manager.verify(key, { clientIp: '10.1.2.3' });
  expect(usageWritten).toBeDefined();
  await usageWritten;
  expect(await store.lastUsed(record.id)).toBeGreaterThanOrEqual(record.createdAt);
  await store.delete(record.id);
  expect(await store.get(record.id)).toBeUndefined();
});

it('a key revoked through one instance is refused by every other instance on its next request', async () => {
  const [a, b, c] = [instance(), instance(), instance()];
  const { key, record } = await a.manager.issue({ owner: 'svc', scopes: ['read'] });
  for (const i of [a, b, c]) expect((await i.manager.verify(key)).record.id).toBe(record.id);
  expect(await a.manager.revoke(record.id)).toBe(true);
  for (const i of [b, c, a]) await expect(i.manager.verify(key)).rejects.toMatchObject({ status: 401, reason: 'revoked' });
});

it('100+ concurrent verifications during a revoke: none that started after the revoke committed is accepted', async () => {
  const instances = [instance(), instance(), instance()];
  const { key, record } = await instances[0]!.manager.issue({ owner: 'race' });
  let committedAt = Infinity;
  let launched = 0;
  let launchedAfterCommit = 0;
  let revoke: Promise<void> | undefined;
  const outcomes: Array<{ startedAt: number; accepted: boolean }> = [];
  // 20 concurrent workers on three instances; the revoke starts once 30 verifications are under way,
  // and the workers go on until 100 have started and 20 of them after the commit was confirmed.
  const worker = async (w: number): Promise<void> => {
    while (launched < 100 || launchedAfterCommit < 20) {
      launched += 1;
      if (committedAt !== Infinity) launchedAfterCommit += 1;
      if (launched === 30) {
        revoke = instances[1]!.manager.revoke(record.id).then(() => {
          committedAt = performance.now();
        });
      }
      const startedAt = performance.now();
      const accepted = await instances[w % 3]!.manager.verify(key).then(
        () => true,
        (e: { reason?: string }) => {
          if (e.reason !== 'revoked') throw e;
          return false;
        },
      );
      outcomes.push({ startedAt, accepted });
    }
  };
  await Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
  await revoke;
  expect(outcomes.length).toBeGreaterThanOrEqual(100);
  const startedAfter = outcomes.filter((o) => o.startedAt > committedAt);
  expect(startedAfter.length).toBeGreaterThanOrEqual(20);
  expect(startedAfter.filter((o) => o.accepted)).toHaveLength(0);
  // Acceptances happened (the key was valid before), and each began before the commit was confirmed.
  const accepted = outcomes.filter((o) => o.accepted);
  expect(accepted.length).toBeGreaterThan(0);
  expect(accepted.every((o) => o.startedAt < committedAt)).toBe(true);
});

it('PostgreSQL unreachable: 503 dependency_unavailable, never a pass or a 500', async () => {
  const { key } = await instance().manager.issue({ owner: 'outage' });
  const store = new PostgresApiKeyStore(pool('postgres://postgres@127.0.0.1:1/test'), { schema: SCHEMA, timeoutMs: 1000 });
  const manager = new ApiKeyManager({ store, pepper: PEPPER });
  await expect(manager.verify(key)).rejects.toMatchObject({ status: 503, code: 'dependency_unavailable' });
});

it('CLI: migrate, create, list and revoke against postgres://', async () => {
  const schema = `${SCHEMA}_cli`;
  const io = { out: '', err: '' };
  const run = (args: string[]): Promise<number> => {
    io.out = '';
    io.err = '';
    return runCli(args, { out: (t) => void (io.out += t), err: (t) => void (io.err += t) });
  };
  process.env['AUTHNZ_APIKEY_PEPPER'] = PEPPER;
  try {
    expect(await run(['apikey', 'migrate', '--store', DATABASE_URL, '--pg-schema', schema])).toBe(0);
    expect(await run(['apikey', 'create', '--store', DATABASE_URL, '--pg-schema', schema, '--subject', 'ci', '--scope', 'deploy'])).toBe(0);
    const key = io.out.trim();
    const store = new PostgresApiKeyStore(pool(), { schema });
    expect((await new ApiKeyManager({ store, pepper: PEPPER }).verify(key)).record.owner).toBe('ci');
    expect(await run(['apikey', 'list', '--store', DATABASE_URL, '--pg-schema', schema, '--json'])).toBe(0);
    const [listed] = JSON.parse(io.out) as Array<{ id: string; hash?: string }>;
    expect(listed?.hash).toBeUndefined();
    expect(await run(['apikey', 'revoke', listed?.id as string, '--store', DATABASE_URL, '--pg-schema', schema])).toBe(0);
    await expect(new ApiKeyManager({ store, pepper: PEPPER }).verify(key)).rejects.toMatchObject({ reason: 'revoked' });
    expect(await run(['apikey', 'migrate', '--print'])).toBe(0);
    expect(io.out).toBe(apiKeyMigrationSql());
  } finally {
    delete process.env['AUTHNZ_APIKEY_PEPPER'];
    await pools[0]?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
});

describe('a private PostgreSQL server killed (SIGKILL) and restarted', () => {
  let server: PrivatePostgres;
  beforeAll(async () => {
    server = await PrivatePostgres.start();
  }, 90_000);
  afterAll(async () => {
    await server?.dispose();
  });

  it('loses no key and no revocation: all 20 keys verify after the restart, the revoked one stays refused', async () => {
    const db = pool(server.url, 2);
    await migrateApiKeys(db);
    const manager = new ApiKeyManager({ store: new PostgresApiKeyStore(db), pepper: PEPPER });
    const issued = await Promise.all(Array.from({ length: 20 }, (_, i) => manager.issue({ owner: `svc-${i}` })));
    expect(await manager.revoke(issued[0]!.record.id)).toBe(true);
    await server.kill();
    await expect(manager.verify(issued[1]!.key)).rejects.toMatchObject({ status: 503 });
    await server.restart();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = await manager.verify(issued[1]!.key).then(
        () => true,
        () => false,
      ); // the pool replaces its dead connections
      if (!ok) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ok).toBe(true);
    for (const { key, record } of issued.slice(1)) expect((await manager.verify(key)).record.id).toBe(record.id);
    await expect(manager.verify(issued[0]!.key)).rejects.toMatchObject({ reason: 'revoked' });
  }, 90_000);
});
