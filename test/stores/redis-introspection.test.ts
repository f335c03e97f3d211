/**
 * RedisIntrospectionCache against the shared Redis (keys under a prefix of this run, removed after
 * it), with ioredis and node-redis: answers shared between instances, TTLs capped by cacheSeconds,
 * unreadable entries read as none, and a 503 when Redis cannot answer.
 */
import { randomUUID } from 'node:crypto';
import { RedisIntrospectionCache } from '../../src/redis.js';
import type { IntrospectionCacheEntry } from '../../src/stores/introspection-cache.js';
import { bothRedisClients, unreachableRedis } from '../helpers/redis-clients.js';

const PREFIX = `test:introspection:${randomUUID()}:`;
const ACTIVE: IntrospectionCacheEntry = { active: true, claims: { sub: 'alice', scope: 'read', exp: 1_900_000_000 } };

describe('RedisIntrospectionCache (real Redis)', () => {
  const { io, node } = bothRedisClients(PREFIX);

  it('an answer stored through one client library is read through the other, under keyPrefix + key', async () => {
    const a = new RedisIntrospectionCache(io, { keyPrefix: PREFIX });
    const b = new RedisIntrospectionCache(node, { keyPrefix: PREFIX });
    await a.set('shared-1', ACTIVE, 60_000);
    await b.set('shared-2', { active: false }, 60_000);
    expect(await b.get('shared-1')).toEqual(ACTIVE);
    expect(await a.get('shared-2')).toEqual({ active: false });
    expect(await a.get('never-set')).toBeUndefined();
    expect(JSON.parse(String(await io.get(`${PREFIX}shared-1`)))).toEqual(ACTIVE);
  });

  it('the TTL is the one given, capped by cacheSeconds; a TTL under 1 ms stores nothing', async () => {
    const cache = new RedisIntrospectionCache(io, { keyPrefix: PREFIX, cacheSeconds: 2 });
    await cache.set('short', ACTIVE, 500);
    await cache.set('long', ACTIVE, 3_600_000);
    const short = await io.pttl(`${PREFIX}short`);
    const long = await io.pttl(`${PREFIX}long`);
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThanOrEqual(500);
    expect(long).toBeGreaterThan(1000);
    expect(long).toBeLessThanOrEqual(2000);
    for (const [i, ttl] of [0.5, 0, -1000, Number.NaN].entries()) {
      await cache.set(`none-${i}`, ACTIVE, ttl);
      expect(await io.exists(`${PREFIX}none-${i}`)).toBe(0);
    }
  });

  it('an entry that is not JSON or not of the cache shape reads as none (the token is asked about again)', async () => {
    const cache = new RedisIntrospectionCache(io, { keyPrefix: PREFIX });
    const stored: Array<[string, string]> = [
      ['not-json', '{"active":tr'],
      ['no-claims', '{"active":true}'],
      ['array-claims', '{"active":true,"claims":[]}'],
      ['string-active', '{"active":"true","claims":{}}'],
      ['null', 'null'],
    ];
    for (const [key, value] of stored) await io.set(`${PREFIX}${key}`, value, 'PX', 60_000);
    for (const [key] of stored) expect(await cache.get(key)).toBeUndefined();
    await io.set(`${PREFIX}inactive`, '{"active":false}', 'PX', 60_000);
    expect(await cache.get('inactive')).toEqual({ active: false });
  });

  it('without keyPrefix the keys are under authnz:introspection:', async () => {
    const key = `default-prefix-${randomUUID()}`;
    try {
      await new RedisIntrospectionCache(io).set(key, { active: false }, 5000);
      expect(await io.get(`authnz:introspection:${key}`)).toBe('{"active":false}');
    } finally {
      await io.del(`authnz:introspection:${key}`);
    }
  });

  it('refuses cacheSeconds out of range, and rejects with a 503 when Redis does not answer', async () => {
    expect(() => new RedisIntrospectionCache(io, { cacheSeconds: 0 })).toThrow(/^new RedisIntrospectionCache\(\): "cacheSeconds" must be /);
    const down = unreachableRedis();
    const cache = new RedisIntrospectionCache(down, { keyPrefix: PREFIX, timeoutMs: 300 });
    try {
      await expect(cache.get('k')).rejects.toMatchObject({ status: 503, code: 'dependency_unavailable' });
      await expect(cache.set('k', ACTIVE, 1000)).rejects.toMatchObject({ status: 503, code: 'dependency_unavailable' });
    } finally {
      down.disconnect();
    }
  });
});
