/**
 * `authnz-express/redis`: Redis-backed stores. Import this subpath only where several instances
 * share state; the main entry never loads a Redis client.
 */

export { redisCommand, hashTag } from './stores/redis-command.js';
export type { RedisClientLike, IoRedisLike, NodeRedisLike, RedisCommand, RedisCommandOptions } from './stores/redis-command.js';
