/**
 * Redis-backed rate limits and brute-force counters (rate-limiter-flexible's `RateLimiterRedis`), so
 * every instance sharing the Redis enforces one limit. Exported only from `authnz-express/redis`.
 */
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { bruteForce, type BruteForceGuard, type BruteForceOptions } from '../middleware/brute-force.js';
import { rateLimit, type LimiterFactory, type LimiterLike, type RateLimitOptions } from '../middleware/rate-limit.js';
import type { Middleware } from '../middleware/authenticate.js';
import type { RedisClientLike } from './redis-command.js';

/** A limiter factory storing counters in Redis through an ioredis or node-redis client. */
export function redisLimiterFactory(client: RedisClientLike): LimiterFactory {
  // ioredis has `call`; node-redis (v4/v5) needs rate-limiter-flexible's `useRedisPackage`.
  const useRedisPackage = typeof (client as { call?: unknown }).call !== 'function';
  return (config) =>
    new RateLimiterRedis({
      storeClient: client,
      useRedisPackage,
      rejectIfRedisNotReady: true,
      keyPrefix: config.keyPrefix,
      points: config.points,
      duration: config.duration,
      blockDuration: config.blockDuration ?? 0,
    }) as unknown as LimiterLike;
}

/**
 * `rateLimit()` with counters in Redis.
 * @example app.get('/reports', auth, redisRateLimit(redis, { name: 'reports', points: 60, duration: 60 }), h)
 */
export function redisRateLimit(client: RedisClientLike, options: Omit<RateLimitOptions, 'factory'>): Middleware {
  return rateLimit({ ...options, factory: redisLimiterFactory(client) });
}

/** `bruteForce()` with counters in Redis, so lockouts hold across instances. */
export function redisBruteForce(client: RedisClientLike, options: Omit<BruteForceOptions, 'factory'> = {}): BruteForceGuard {
  return bruteForce({ ...options, factory: redisLimiterFactory(client) });
}
