/**
 * `authnz-express/redis`: Redis-backed stores. Import this subpath only where several instances
 * share state; the main entry never loads a Redis client.
 */

export { redisCommand, redisBatch, redisReady, hashTag } from './stores/redis-command.js';
export type { RedisClientLike, IoRedisLike, NodeRedisLike, NodeRedisClusterLike, RedisCommand, RedisBatch, RedisCommandOptions, RedisReadyOptions } from './stores/redis-command.js';
// API keys and rate limits (issue 5).
export { RedisApiKeyStore } from './stores/redis-apikey.js';
export type { RedisApiKeyStoreOptions } from './stores/redis-apikey.js';
export { redisLimiterFactory, redisRateLimit, redisBruteForce } from './stores/redis-ratelimit.js';
// Asymmetric JWT nonces (issue 3).
export { RedisNonceStore } from './stores/redis-nonce.js';
export type { RedisNonceStoreOptions } from './stores/redis-nonce.js';
// Shared introspection answers and a revocation list for APIJwt / asymmetric JWT (issue 15).
export { RedisIntrospectionCache } from './stores/redis-introspection.js';
export type { RedisIntrospectionCacheOptions } from './stores/redis-introspection.js';
export { RedisRevocationList } from './stores/redis-revocation.js';
export type { RedisRevocationListOptions, RevocationCheck } from './stores/redis-revocation.js';
