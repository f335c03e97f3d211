/**
 * One way to talk to Redis whichever client the application uses: ioredis (`call`) or node-redis
 * v4/v5 (`sendCommand`). Every Redis store builds on `RedisCommand`, with a deadline so a slow or
 * absent Redis turns into a 503 instead of a hung request.
 */
import { dependencyUnavailable } from '../errors.js';

/** The ioredis surface used here. */
export interface IoRedisLike {
  call(command: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

/** The node-redis (v4/v5) surface used here. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** A Redis client of either library. */
export type RedisClientLike = IoRedisLike | NodeRedisLike;

/** Sends one raw command; resolves to Redis's reply. */
export type RedisCommand = (args: readonly string[]) => Promise<unknown>;

/** Options for {@link redisCommand}. */
export interface RedisCommandOptions {
  /** Longest wait for a reply before answering 503 (default 250 ms). */
  readonly timeoutMs?: number;
}

function isIoRedis(client: RedisClientLike): client is IoRedisLike {
  return typeof (client as IoRedisLike).call === 'function';
}

/**
 * Adapts a client to a {@link RedisCommand} that rejects with a 503 `AuthError`
 * (`dependency_unavailable`) on any client error or after `timeoutMs`.
 */
export function redisCommand(client: RedisClientLike, options: RedisCommandOptions = {}): RedisCommand {
  const timeoutMs = options.timeoutMs ?? 250;
  const send: RedisCommand = isIoRedis(client)
    ? (args) => client.call(args[0] as string, ...args.slice(1))
    : (args) => client.sendCommand([...args]);
  return (args) =>
    new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(dependencyUnavailable('redis_timeout')), timeoutMs);
      let pending: Promise<unknown>;
      try {
        pending = send(args);
      } catch (cause) {
        clearTimeout(timer);
        reject(dependencyUnavailable('redis_error', cause));
        return;
      }
      pending.then(
        (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        (cause: unknown) => {
          clearTimeout(timer);
          reject(dependencyUnavailable('redis_error', cause));
        },
      );
    });
}

/**
 * Wraps a key part in a Redis Cluster hash tag so that every key of one logical record lands in the
 * same slot; braces inside the value are replaced so they cannot break the tag.
 */
export function hashTag(part: string): string {
  return `{${part.replace(/[{}]/g, '_')}}`;
}
