/**
 * redisLimiterFactory against the shared Redis (counters under a prefix of this run, removed after
 * it): limiters built from ioredis and node-redis clients share one counter per key, a refusal is a
 * limiter result while a Redis failure is an Error, and building one notes a shared store.
 */
import { randomUUID } from 'node:crypto';
import { redisLimiterFactory } from '../../src/redis.js';
import { isLimiterResult, type LimiterConfig } from '../../src/stores/limiter.js';
import { sharedStoreKinds } from '../../src/stores/shared.js';
import { bothRedisClients, unreachableRedis } from '../helpers/redis-clients.js';

const PREFIX = `test:ratelimit:${randomUUID()}`;

/** The rejection of `call`, which must reject. */
async function rejectionOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
}

describe('redisLimiterFactory (real Redis)', () => {
  const { io, node } = bothRedisClients(PREFIX);

  it('notes Redis as a shared store as soon as a factory is built', () => {
    delete (globalThis as Record<symbol, unknown>)[Symbol.for('authnz-express.sharedStores')];
    expect(sharedStoreKinds()).toBeUndefined();
    redisLimiterFactory(io);
    expect(sharedStoreKinds()).toBe('Redis');
  });

  it('limiters from an ioredis and a node-redis client share one counter per key under keyPrefix', async () => {
    const config: LimiterConfig = { keyPrefix: `${PREFIX}:shared`, limit: 3, windowSeconds: 60 };
    const a = await redisLimiterFactory(io)(config);
    const b = await redisLimiterFactory(node)(config);
    expect(a.points).toBe(3);
    expect((await a.consume('alice')).remainingPoints).toBe(2);
    expect((await b.consume('alice')).remainingPoints).toBe(1);
    expect((await a.consume('alice')).remainingPoints).toBe(0);
    for (const limiter of [a, b]) {
      const refusal = await rejectionOf(limiter.consume('alice'));
      expect(isLimiterResult(refusal)).toBe(true);
    }
    expect((await b.consume('bob')).remainingPoints).toBe(2);
    expect((await b.get('alice'))?.consumedPoints).toBe(5);
    const ttl = await io.pttl(`${PREFIX}:shared:alice`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await a.reward('alice', 3);
    expect((await b.consume('alice')).remainingPoints).toBe(0);
    expect(await b.delete('alice')).toBe(true);
    expect(await io.exists(`${PREFIX}:shared:alice`)).toBe(0);
  });

  it('lockSeconds holds a key refused in Redis past its window', async () => {
    const limiter = await redisLimiterFactory(io)({ keyPrefix: `${PREFIX}:lock`, limit: 1, windowSeconds: 1, lockSeconds: 30 });
    await limiter.consume('k');
    const refusal = await rejectionOf(limiter.consume('k'));
    expect(isLimiterResult(refusal)).toBe(true);
    expect((refusal as { msBeforeNext: number }).msBeforeNext).toBeGreaterThan(1000);
    expect(await io.pttl(`${PREFIX}:lock:k`)).toBeGreaterThan(1000);
  });

  it('when Redis does not answer, consume rejects with an Error, not a refusal', async () => {
    const down = unreachableRedis();
    try {
      const limiter = await redisLimiterFactory(down)({ keyPrefix: `${PREFIX}:down`, limit: 1, windowSeconds: 60 });
      const failure = await rejectionOf(limiter.consume('k'));
      expect(failure).toBeInstanceOf(Error);
      expect(isLimiterResult(failure)).toBe(false);
    } finally {
      down.disconnect();
    }
  });
});
