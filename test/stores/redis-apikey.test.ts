/**
 * RedisApiKeyStore against the shared Redis (keys under a prefix of each test, removed after it):
 * the store contract through ApiKeyManager with ioredis and node-redis, the TTL it derives from a
 * record's expiry, the listing index pruned of records that are gone, and a 503 when Redis is down.
 */
import express from 'express';
import request from 'supertest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { randomBytes } from 'node:crypto';
import { authenticate, ApiKeyManager, apiKeyScheme, parseApiKey, type ApiKeyRecord, type ApiKeyStore } from '../../src/index.js';
import { RedisApiKeyStore } from '../../src/redis.js';
import { redisUrl } from '../helpers/services.js';

const REDIS_URL = redisUrl();
const PEPPER = randomBytes(32);

/** Every key under a pattern with its value (strings and sets), for "the secret is nowhere" checks. */
async function dumpKeys(
  keys: string[],
  type: (k: string) => Promise<string>,
  get: (k: string) => Promise<string | null>,
  members: (k: string) => Promise<string[]>,
): Promise<string> {
  const parts: string[] = [...keys];
  for (const k of keys) parts.push((await type(k)) === 'string' ? String(await get(k)) : (await members(k)).join(','));
  return parts.join('\n');
}

async function redisStoreContract(
  name: string,
  makeClient: () => Promise<{
    client: ConstructorParameters<typeof RedisApiKeyStore>[0];
    scan: (pattern: string) => Promise<string>;
    close: (prefix: string) => Promise<void>;
  }>,
) {
  describe(`RedisApiKeyStore (${name})`, () => {
    it('stores digests only, lists, revokes, and sets a TTL from the expiry', async () => {
      const { client, scan, close } = await makeClient();
      // This suite's own namespace: it deletes only what it wrote.
      const prefix = `test:apikey:${randomBytes(6).toString('hex')}:`;
      try {
        const store: ApiKeyStore = new RedisApiKeyStore(client, { keyPrefix: prefix });
        const manager = new ApiKeyManager({ store, pepper: PEPPER });
        const a = await manager.issue({ owner: 'o', scopes: ['s'], expiresInSeconds: 120, allowedCidrs: ['10.0.0.0/8'] });
        const b = await manager.issue({ owner: 'p' });
        await expect(manager.verify(a.key, { clientIp: '10.0.0.1' })).resolves.toMatchObject({ record: { owner: 'o', scopes: ['s'] } });
        expect((await manager.list()).map((r) => r.id).sort()).toEqual([a.record.id, b.record.id].sort());
        await manager.revoke(b.record.id);
        await expect(manager.verify(b.key)).rejects.toMatchObject({ reason: 'revoked' });
        const dump = await scan(`${prefix}*`);
        expect(dump).toContain(a.record.hash);
        for (const k of [a.key, b.key]) expect(dump).not.toContain(parseApiKey(k)!.secret);
        await store.delete(a.record.id);
        expect(await store.get(a.record.id)).toBeUndefined();
      } finally {
        await close(prefix);
      }
    });
  });
}

redisStoreContract('ioredis', async () => {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return {
    client,
    async scan(pattern) {
      const keys = await client.keys(pattern);
      const dump = await dumpKeys(
        keys,
        (k) => client.type(k),
        (k) => client.get(k),
        (k) => client.smembers(k),
      );
      const ttls = await Promise.all(keys.filter((k) => k.includes(':apikey:')).map((k) => client.pttl(k)));
      expect(ttls.some((t) => t > 0)).toBe(true);
      return dump;
    },
    async close(prefix) {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      client.disconnect();
    },
  };
});

redisStoreContract('node-redis', async () => {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  return {
    client,
    async scan(pattern) {
      return dumpKeys(
        await client.keys(pattern),
        (k) => client.type(k),
        (k) => client.get(k),
        (k) => client.sMembers(k),
      );
    },
    async close(prefix) {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(keys);
      client.destroy();
    },
  };
});

describe('RedisApiKeyStore outage', () => {
  it('answers 503 when Redis does not answer', async () => {
    const client = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    const manager = new ApiKeyManager({ store: new RedisApiKeyStore(client, { keyPrefix: 'test:apikey:down:' }), pepper: PEPPER });
    const app = express();
    app.get('/who', authenticate([apiKeyScheme({ manager })]), (_q, r) => {
      r.send('ok');
    });
    const res = await request(app)
      .get('/who')
      .set('X-API-Key', `ak_0123456789abcdef.${'a'.repeat(43)}`);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('dependency_unavailable');
    client.disconnect();
  });
});

describe('RedisApiKeyStore: expiry TTLs and the listing index', () => {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = `test:apikey:${randomBytes(6).toString('hex')}:`;
  const now = Date.UTC(2026, 0, 1);
  const store = new RedisApiKeyStore(client, { keyPrefix: prefix, clock: () => now });
  const record = (fields: Partial<ApiKeyRecord>): ApiKeyRecord => ({
    id: randomBytes(8).toString('hex'),
    prefix: 'ak',
    hash: randomBytes(32).toString('hex'),
    owner: 'svc',
    kind: 'service',
    scopes: [],
    level: 1,
    createdAt: now,
    ...fields,
  });

  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  it('a record with an expiry lives in Redis a day past it (by the store clock); one without has no TTL', async () => {
    const expiring = record({ expiresAt: now + 60_000 });
    const lasting = record({});
    await store.save(expiring);
    await store.save(lasting);
    const ttl = await client.pttl(`${prefix}apikey:${expiring.id}`);
    expect(ttl).toBeGreaterThan(86_400_000 + 55_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000 + 60_000);
    expect(await client.pttl(`${prefix}apikey:${lasting.id}`)).toBe(-1);
    // Long expired by the store clock: still kept at least a second.
    const old = record({ expiresAt: now - 2 * 86_400_000 });
    await store.save(old);
    expect(await client.pttl(`${prefix}apikey:${old.id}`)).toBeGreaterThan(0);
    expect(await client.pttl(`${prefix}apikey:${old.id}`)).toBeLessThanOrEqual(1000);
  });

  it('list() is ordered by creation time and drops from the index the ids whose record is gone', async () => {
    const first = record({ createdAt: now - 2000 });
    const second = record({ createdAt: now - 1000 });
    const gone = record({ createdAt: now - 3000 });
    for (const r of [second, gone, first]) await store.save(r);
    await client.del(`${prefix}apikey:${gone.id}`); // as when its TTL ran out
    const listed = (await store.list()).map((r) => r.id);
    expect(listed.indexOf(first.id)).toBeLessThan(listed.indexOf(second.id));
    expect(listed).not.toContain(gone.id);
    expect(await client.sismember(`${prefix}apikeys`, gone.id)).toBe(0);
    expect(await client.sismember(`${prefix}apikeys`, first.id)).toBe(1);
  });
});
