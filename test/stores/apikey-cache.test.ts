/**
 * CachedApiKeyStore in front of PostgresApiKeyStore on the shared PostgreSQL (127.0.0.1:5432, db
 * `test`, a schema of this file's own): the staleness bound of a revocation made elsewhere, unknown
 * ids remembered like known ones, a look-up racing a save, equal cost of unknown and known ids, and
 * bruteForce() capping the store reads of random ids.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import {
  ApiKeyManager,
  apiKeyScheme,
  authenticate,
  bruteForce,
  CachedApiKeyStore,
  MemoryApiKeyStore,
  parseApiKey,
} from '../../src/index.js';
import { PostgresApiKeyStore, type PgQueryable } from '../../src/postgres.js';
import { interleavedMedianRatio } from '../helpers/timing.js';
import { apiKeyDatabase } from '../helpers/apikey-database.js';

const PEPPER = 'apikey-cache-suite-pepper-0123456789abcdef';
const { schema: SCHEMA, pool, instance } = apiKeyDatabase('authnz_cache', PEPPER);

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
    // The look-up's SELECT runs to completion before the save starts, and its answer is handed to the
    // cache only after the save: the order is fixed, not left to which pool connection is faster.
    const db = pool();
    let selectDone: Promise<unknown> | undefined;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held: PgQueryable = {
      query: (text, values) => {
        const result = db.query(text, values);
        if (selectDone !== undefined || !/^\s*select/i.test(text)) return result;
        selectDone = result;
        return result.then(async (rows) => (await released, rows));
      },
    };
    const cached = new CachedApiKeyStore(new PostgresApiKeyStore(held, { schema: SCHEMA }), { cacheSeconds: 60 });
    const writer = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER });
    const { record } = await writer.issue({ owner: 'raced' });
    const pending = cached.get(record.id);
    await selectDone; // PostgreSQL answered "no such row"
    await cached.save(record);
    release();
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

describe('CachedApiKeyStore: writes, listing and usage through the cache', () => {
  it('a delete through the cache is seen at once, list() always reads the store, and markUsed() reaches it', async () => {
    const now = Date.now();
    const writer = instance();
    const cached = new CachedApiKeyStore(new PostgresApiKeyStore(pool(), { schema: SCHEMA }), { cacheSeconds: 60, clock: () => now });
    const { record } = await writer.manager.issue({ owner: 'through' });
    expect((await cached.get(record.id))?.owner).toBe('through'); // now cached for 60 s
    await cached.markUsed(record.id, now);
    expect(await writer.store.lastUsed(record.id)).toBe(now);
    const other = await writer.manager.issue({ owner: 'listed' });
    expect((await cached.list()).map((r) => r.id)).toEqual(expect.arrayContaining([record.id, other.record.id]));
    await cached.delete(record.id);
    expect(await cached.get(record.id)).toBeUndefined();
    expect(await writer.store.get(record.id)).toBeUndefined();
  });
});
