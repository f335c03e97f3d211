/**
 * `authnz-express/redis`: Redis-backed stores. Import this subpath only where several instances
 * share state; the main entry never loads a Redis client.
 */

export { redisCommand, redisBatch, redisReady, hashTag } from './stores/redis-command.js';
export type {
  RedisClientLike,
  IoRedisLike,
  NodeRedisLike,
  NodeRedisClusterLike,
  RedisCommand,
  RedisBatch,
  RedisCommandOptions,
  RedisReadyOptions,
} from './stores/redis-command.js';
// API keys and rate limits.
export { RedisApiKeyStore } from './stores/redis-apikey.js';
export type { RedisApiKeyStoreOptions } from './stores/redis-apikey.js';
export { redisLimiterFactory } from './stores/redis-ratelimit.js';
// Replay stores (asymmetric JWT nonces, DPoP proofs).
export { RedisReplayStore } from './stores/redis-replay.js';
export type { RedisReplayStoreOptions } from './stores/redis-replay.js';
// Shared introspection answers and a revocation list for APIJwt / asymmetric JWT.
export { RedisIntrospectionCache } from './stores/redis-introspection.js';
export type { RedisIntrospectionCacheOptions } from './stores/redis-introspection.js';
export { RedisRevocationList } from './stores/redis-revocation.js';
export type { RedisRevocationListOptions, RevocationCheck } from './stores/redis-revocation.js';

import { bruteForce, type BruteForceGuard, type BruteForceOptions } from './limits/brute-force.js';
import { rateLimit, type RateLimitOptions } from './limits/rate-limit.js';
import type { Middleware } from './http.js';
import type { RedisClientLike } from './stores/redis-command.js';
import { redisLimiterFactory } from './stores/redis-ratelimit.js';

/**
 * `rateLimit()` with counters in Redis.
 * @example app.get('/reports', auth, redisRateLimit(redis, { name: 'reports', limit: 60, windowSeconds: 60 }), h)
 */
export function redisRateLimit(client: RedisClientLike, options: Omit<RateLimitOptions, 'factory'>): Middleware {
  return rateLimit({ ...options, factory: redisLimiterFactory(client) });
}

/** `bruteForce()` with counters in Redis, so lockouts hold across instances. */
export function redisBruteForce(client: RedisClientLike, options: Omit<BruteForceOptions, 'factory'> = {}): BruteForceGuard {
  return bruteForce({ ...options, factory: redisLimiterFactory(client) });
}
