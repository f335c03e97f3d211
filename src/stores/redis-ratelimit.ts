/**
 * Redis-backed rate limits and brute-force counters (rate-limiter-flexible's `RateLimiterRedis`), so
 * every instance sharing the Redis enforces one limit. Exported only from `authnz-express/redis`.
 *
 * rate-limiter-flexible is an optional peer loaded on the first limiter built, so that
 * `authnz-express/redis` loads (e.g. for `RedisReplayStore`) where it is not installed.
 */
import { flexibleOptions, loadRateLimiterFlexible, type LimiterFactory, type LimiterLike } from './limiter.js';
import { clusterHealer, type RedisClientLike } from './redis-command.js';
import { noteSharedStore } from './shared.js';

/**
 * Kicks the cluster healer when a limiter call fails with an error or is still pending after 250 ms
 * (a dead master answers nothing). A rejection with a limiter result is a refusal, not a failure.
 */
function healing(limiter: LimiterLike, kick: () => void): LimiterLike {
  const watch = <T>(call: () => Promise<T>): Promise<T> => {
    const timer = setTimeout(kick, 250);
    return call().then(
      (value) => {
        clearTimeout(timer);
        return value;
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (error instanceof Error) kick();
        throw error;
      },
    );
  };
  return {
    points: limiter.points,
    consume: (key, points) => watch(() => limiter.consume(key, points)),
    get: (key) => watch(() => limiter.get(key)),
    delete: (key) => watch(() => limiter.delete(key)),
    reward: (key, points) => watch(() => limiter.reward(key, points)),
  };
}

/**
 * A limiter factory storing counters in Redis through an ioredis or node-redis client, single server
 * or Cluster (one key per counter, so no command crosses slots).
 */
export function redisLimiterFactory(client: RedisClientLike): LimiterFactory {
  noteSharedStore('Redis');
  // ioredis has `call`; node-redis (v4/v5) needs rate-limiter-flexible's `useRedisPackage`.
  const useRedisPackage = typeof (client as { call?: unknown }).call !== 'function';
  const kick = clusterHealer(client);
  // Start loading now, at setup, so the first request does not spend its store deadline on the import;
  // a missing module still rejects there (503), and the handler keeps the rejection from going unhandled.
  const loading = loadRateLimiterFlexible();
  loading.catch(() => undefined);
  const make = async (config: Parameters<LimiterFactory>[0]): Promise<LimiterLike> => {
    const { RateLimiterRedis: Ctor } = await loading;
    const limiter = new Ctor({
      storeClient: client,
      useRedisPackage,
      rejectIfRedisNotReady: true,
      ...flexibleOptions(config),
    });
    return kick ? healing(limiter, kick) : limiter;
  };
  return make;
}
