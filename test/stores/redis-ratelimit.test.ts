/**
 * redisLimiterFactory against the shared Redis (counters under a prefix of this run, removed after
 * it): limiters built from ioredis and node-redis clients share one counter per key, a refusal is a
 * limiter result while a Redis failure is an Error, and building one notes a shared store.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { redisLimiterFactory, redisReady } from '../../src/redis.js';
import { isLimiterResult, type LimiterConfig } from '../../src/stores/limiter.js';
import { sharedStoreKinds } from '../../src/stores/shared.js';
import { redisUrl } from '../helpers/services.js';

const REDIS_URL = redisUrl();
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
  const io = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const node = createClient({ url: REDIS_URL });

  beforeAll(async () => {
    await node.connect();
    await Promise.all([redisReady(io), redisReady(node)]);
  });

  afterAll(async () => {
    const keys = await io.keys(`${PREFIX}*`);
    if (keys.length > 0) await io.del(...keys);
    io.disconnect();
    await node.close();
  });

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
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
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
