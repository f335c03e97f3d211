/**
 * PostgresApiKeyStore against real PostgreSQL: the shared server on 127.0.0.1:5432 (db `test`, a
 * schema of this file's own) for the contract, revocation across instances and the race, and a
 * private server for kill-and-restart. Also the migration file, the read-through cache's staleness
 * bound, a 503 when PostgreSQL cannot answer, and the CLI.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import request from 'supertest';
import pg from 'pg';
import {
  ApiKeyManager,
  apiKeyScheme,
  authenticate,
  bruteForce,
  CachedApiKeyStore,
  MemoryApiKeyStore,
  parseApiKey,
} from '../../src/index.js';
import { apiKeyMigrationSql, migrateApiKeys, PostgresApiKeyStore, type PgQueryable } from '../../src/postgres.js';
import { runCli } from '../../src/cli/main.js';
import { interleavedMedianRatio } from '../helpers/timing.js';
import { PrivatePostgres } from '../helpers/private-postgres.js';
import { databaseUrl } from '../helpers/services.js';

const DATABASE_URL = databaseUrl();
const SCHEMA = `authnz_scale_${randomBytes(4).toString('hex')}`;
const PEPPER = 'postgres-suite-pepper-0123456789abcdef';
const pools: pg.Pool[] = [];

function pool(url = DATABASE_URL, max = 10): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  p.on('error', () => undefined);
  pools.push(p);
  return p;
}

/** One app instance: its own pool, store and manager. */
function instance(options: { cache?: CachedApiKeyStore } = {}): { store: PostgresApiKeyStore; manager: ApiKeyManager } {
  const store = new PostgresApiKeyStore(pool(), { schema: SCHEMA });
  return { store, manager: new ApiKeyManager({ store: options.cache ?? store, pepper: PEPPER }) };
}

beforeAll(async () => {
  await migrateApiKeys(pool(), { schema: SCHEMA });
});

afterAll(async () => {
  await pools[0]?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await Promise.all(pools.map((p) => p.end()));
});

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
  let used: number | undefined;
  for (let i = 0; i < 50 && used === undefined; i++) {
    used = await store.lastUsed(record.id);
    if (used === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(used).toBeGreaterThanOrEqual(record.createdAt);
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

it('read-through cache: a revocation made elsewhere is seen within cacheSeconds, never later', async () => {
  let now = Date.now();
  const clock = (): number => now;
  const writer = instance();
  const cached = new CachedApiKeyStore(new PostgresApiKeyStore(pool(), { schema: SCHEMA }), { cacheSeconds: 2, clock });
  const reader = new ApiKeyManager({ store: cached, pepper: PEPPER });
  const { key, record } = await writer.manager.issue({ owner: 'cached' });
  await reader.verify(key); // read and cached at `now`
  await writer.manager.revoke(record.id, now - 1);
  now += 1999;
  expect((await reader.verify(key)).record.id).toBe(record.id); // stale, within the bound
  now += 1;
  await expect(reader.verify(key)).rejects.toMatchObject({ reason: 'revoked' }); // bound reached: read again
  expect(() => new CachedApiKeyStore(writer.store, { cacheSeconds: Number.NaN })).toThrow(
    'new CachedApiKeyStore(): "cacheSeconds" must be a finite number > 0 (got NaN)',
  );
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

describe('CachedApiKeyStore: unknown ids', () => {
  /** A store on its own pool that counts the queries it sends. */
  function countingStore(): { store: PostgresApiKeyStore; queries: () => number } {
    const db = pool();
    let n = 0;
    const counted: PgQueryable = { query: (text, values) => ((n += 1), db.query(text, values)) };
    return { store: new PostgresApiKeyStore(counted, { schema: SCHEMA }), queries: () => n };
  }
  const unknownKey = (prefix = 'ak'): string => `${prefix}_${randomBytes(8).toString('hex')}.${randomBytes(32).toString('base64url')}`;

  it('an unknown id is answered from memory for cacheSeconds like a known one (one read), read again after it; a key saved through the cache is found at once', async () => {
    let now = Date.now();
    const { store, queries } = countingStore();
    const cached = new CachedApiKeyStore(store, { cacheSeconds: 2, clock: () => now });
    const manager = new ApiKeyManager({ store: cached, pepper: PEPPER });
    const unknown = unknownKey();
    await expect(manager.verify(unknown)).rejects.toMatchObject({ status: 401, reason: 'invalid' });
    const afterFirst = queries();
    now += 1999;
    for (let i = 0; i < 20; i++) await expect(manager.verify(unknown)).rejects.toMatchObject({ status: 401, reason: 'invalid' });
    expect(queries()).toBe(afterFirst);
    now += 1;
    await expect(manager.verify(unknown)).rejects.toMatchObject({ status: 401, reason: 'invalid' });
    expect(queries()).toBe(afterFirst + 1);
    // A miss never hides a key created through this cache.
    const { key, record } = await manager.issue({ owner: 'cached-miss' });
    expect((await manager.verify(key)).record.id).toBe(record.id);
  });

  it('a look-up that was out while the same id was saved through the cache leaves no note that it is unknown', async () => {
    const { store } = countingStore();
    const cached = new CachedApiKeyStore(store, { cacheSeconds: 60 });
    const writer = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER });
    const { record } = await writer.issue({ owner: 'raced' });
    const pending = cached.get(record.id); // reads PostgreSQL before the row exists
    await cached.save(record);
    expect(await pending).toBeUndefined();
    expect((await cached.get(record.id))?.id).toBe(record.id);
  });

  it('an unknown id and a cached known id with a wrong secret cost about the same (interleaved medians within a factor of 2)', async () => {
    const { store } = countingStore();
    const manager = new ApiKeyManager({ store: new CachedApiKeyStore(store, { cacheSeconds: 60 }), pepper: PEPPER });
    const { key } = await manager.issue({ owner: 'timing' });
    const p = parseApiKey(key)!;
    const wrongSecret = `${p.prefix}_${p.id}.${randomBytes(32).toString('base64url')}`;
    const unknown = unknownKey(p.prefix);
    // The warm-up reads both once; after it both are answered from memory.
    const ratio = await interleavedMedianRatio(
      () => manager.verify(unknown),
      () => manager.verify(wrongSecret),
      300,
    );
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('bruteForce() in front caps the store reads one client causes with random ids at maxFailures', async () => {
    const { store, queries } = countingStore();
    const manager = new ApiKeyManager({ store: new CachedApiKeyStore(store), pepper: PEPPER });
    const guard = bruteForce({ maxFailures: 5, freeRetries: 5, lockSeconds: 60 });
    const app = express();
    app.get('/r', authenticate([guard.protect(apiKeyScheme({ manager }))]), (_req, res) => {
      res.json({ ok: true });
    });
    const before = queries();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await request(app).get('/r').set('X-API-Key', unknownKey())).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(statuses.slice(5))).toEqual(new Set([429]));
    expect(queries() - before).toBe(5);
  });
});
