/**
 * One way to talk to Redis whichever client the application uses: ioredis (`call`, a single server or
 * a `Cluster`), node-redis v4/v5 (`sendCommand`) or a node-redis cluster (`createCluster`, whose
 * `sendCommand` is routed by a first key). Every Redis store builds on `RedisCommand`, with a deadline
 * so a slow or absent Redis, or a Cluster shard whose master is down, turns into a 503 instead of a
 * hung request.
 */
import { startDeadline } from '../deadline.js';
import { observeDependency } from '../diagnostics.js';
import { dependencyUnavailable, isAuthError } from '../errors.js';
import { noteSharedStore } from './shared.js';

/** The ioredis surface used here (`Redis` and `Cluster` alike). */
export interface IoRedisLike {
  call(command: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

/** The node-redis (v4/v5) single-server surface used here. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** The node-redis (v4/v5) cluster surface used here (`createCluster`). */
export interface NodeRedisClusterLike {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  getSlotMaster(slot: number): unknown;
}

/** A Redis client of either library, single server or cluster. */
export type RedisClientLike = IoRedisLike | NodeRedisLike | NodeRedisClusterLike;

/** Sends one raw command; resolves to Redis's reply. */
export type RedisCommand = (args: readonly string[]) => Promise<unknown>;

/**
 * Sends commands to the one node that owns the first command's key, in order, resolving to their
 * replies; for a keyless follow-up such as `WAIT`, which must run on the node that took the write.
 */
export type RedisBatch = (commands: ReadonlyArray<readonly string[]>) => Promise<unknown[]>;

/** The ioredis pipeline surface used by {@link redisBatch}. */
interface IoRedisPipelining {
  pipeline(): { call(command: string, ...args: string[]): unknown; exec(): Promise<Array<[Error | null, unknown]> | null> };
}

/** Options for {@link redisCommand}. */
export interface RedisCommandOptions {
  /** Longest wait for a reply before answering 503 (default 250 ms). */
  readonly timeoutMs?: number;
}

function isIoRedis(client: RedisClientLike): client is IoRedisLike {
  return typeof (client as IoRedisLike).call === 'function';
}

function isNodeRedisCluster(client: RedisClientLike): client is NodeRedisClusterLike {
  return typeof (client as NodeRedisClusterLike).getSlotMaster === 'function';
}

/** The key a node-redis cluster routes by: the script's first key, else the first argument. */
function firstKeyOf(args: readonly string[]): string | undefined {
  const name = (args[0] ?? '').toUpperCase();
  if (name === 'EVAL' || name === 'EVALSHA' || name === 'FCALL') return Number(args[2]) > 0 ? args[3] : undefined;
  return args[1];
}

/** The node-redis 4/5 internals {@link clusterHealer} needs (not public API: checked at run time). */
interface NodeRedisClusterInternals {
  _slots?: { rediscover?(startWith: unknown): Promise<void> };
  getMasters?(): Array<{ client?: { isReady?: boolean } }>;
}

/**
 * A node-redis cluster remaps slots only when a node answers MOVED or ASK. A master that died answers
 * nothing, so without help its slots stay mapped to it and every command for them waits forever,
 * even after its replica was promoted. The returned `kick` asks the cluster for its slot map again
 * through a live master (at most once per 200 ms); {@link redisCommand} kicks on every error or
 * timeout. ioredis refreshes by itself and gets `undefined`; so does a node-redis without `_slots`.
 */
export function clusterHealer(client: RedisClientLike): (() => void) | undefined {
  const internals = client as unknown as NodeRedisClusterInternals;
  if (!isNodeRedisCluster(client) || typeof internals._slots?.rediscover !== 'function') return undefined;
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    const live = internals.getMasters?.().find((m) => m.client?.isReady === true)?.client;
    if (live) internals._slots?.rediscover?.(live).catch(() => undefined);
  };
}

function sender(client: RedisClientLike): RedisCommand {
  if (isIoRedis(client)) return (args) => client.call(args[0] as string, ...args.slice(1));
  // Always the master (isReadonly false): a replica may not have the latest write yet.
  if (isNodeRedisCluster(client)) return (args) => client.sendCommand(firstKeyOf(args), false, [...args]);
  return (args) => client.sendCommand([...args]);
}

function batchSender(client: RedisClientLike): (commands: ReadonlyArray<readonly string[]>) => Promise<unknown[]> {
  if (isIoRedis(client) && typeof (client as Partial<IoRedisPipelining>).pipeline === 'function') {
    // An ioredis pipeline goes to the node of its keyed commands, keyless ones included.
    return async (commands) => {
      const pipeline = (client as unknown as IoRedisPipelining).pipeline();
      for (const args of commands) pipeline.call(args[0] as string, ...args.slice(1));
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([error, reply]) => {
        if (error) throw error;
        return reply;
      });
    };
  }
  if (isNodeRedisCluster(client)) {
    return (commands) => {
      const key = firstKeyOf(commands[0] ?? []);
      return Promise.all(commands.map((args) => client.sendCommand(key, false, [...args])));
    };
  }
  // One connection: node-redis pipelines concurrent commands on it in order.
  const send = sender(client);
  return (commands) => Promise.all(commands.map((args) => send(args)));
}

/** The command name of one command or of a batch (`MULTI` stands for a batch), for `authnz:dependency`. */
function operationOf(arg: unknown): string {
  if (!Array.isArray(arg)) return '';
  const first: unknown = arg[0];
  return Array.isArray(first) ? 'PIPELINE' : typeof first === 'string' ? first : '';
}

/** Runs `send` under a deadline: any error or a late reply becomes a 503 `AuthError`. */
function withDeadline<A, R>(send: (arg: A) => Promise<R>, timeoutMs: number, kick: (() => void) | undefined): (arg: A) => Promise<R> {
  return (arg) =>
    new Promise<R>((resolve, reject) => {
      const timer = startDeadline(timeoutMs, () => {
        kick?.();
        reject(dependencyUnavailable('redis_timeout'));
      });
      let pending: Promise<R>;
      try {
        pending = observeDependency('redis', operationOf(arg), undefined, () => send(arg), () => 'redis_error');
      } catch (cause) {
        timer.clear();
        reject(dependencyUnavailable('redis_error', cause));
        return;
      }
      pending.then(
        (reply) => {
          timer.clear();
          resolve(reply);
        },
        (cause: unknown) => {
          timer.clear();
          kick?.();
          reject(dependencyUnavailable('redis_error', cause));
        },
      );
    });
}

/**
 * Adapts a client to a {@link RedisCommand} that rejects with a 503 `AuthError`
 * (`dependency_unavailable`) on any client error or after `timeoutMs`.
 */
export function redisCommand(client: RedisClientLike, options: RedisCommandOptions = {}): RedisCommand {
  noteSharedStore('Redis');
  return withDeadline(sender(client), options.timeoutMs ?? 250, clusterHealer(client));
}

/** Adapts a client to a {@link RedisBatch} under the same deadline and 503 rules as {@link redisCommand}. */
export function redisBatch(client: RedisClientLike, options: RedisCommandOptions = {}): RedisBatch {
  noteSharedStore('Redis');
  return withDeadline(batchSender(client), options.timeoutMs ?? 250, clusterHealer(client));
}

/** True for Redis's `OK` status reply, as a string or a Buffer. */
export function isOk(reply: unknown): boolean {
  return reply === 'OK' || (Buffer.isBuffer(reply) && reply.toString() === 'OK');
}

/**
 * Wraps a key part in a Redis Cluster hash tag so that every key of one logical record lands in the
 * same slot; braces inside the value are replaced so they cannot break the tag.
 */
export function hashTag(part: string): string {
  return `{${part.replace(/[{}]/g, '_')}}`;
}

/** Options for {@link redisReady}. */
export interface RedisReadyOptions {
  /** Longest wait for the connection and a PING reply, ms (default 10 000; finite, > 0). */
  readonly timeoutMs?: number;
}

interface ClientState {
  readonly status?: string;
  readonly isReady?: boolean;
  once?(event: 'ready', listener: () => void): unknown;
  removeListener?(event: 'ready', listener: () => void): unknown;
  connect?(): Promise<unknown>;
}

/**
 * Resolves when the client is connected and Redis answers a PING. Await it before serving traffic:
 * the stores' per-command deadline (250 ms by default) is meant for a live server, and a client still
 * connecting would answer the first requests after a deploy with 503 (rate limits and brute-force
 * counters refuse at once while the client is not ready). An ioredis client made with `lazyConnect`
 * is connected here; a node-redis client must have had `connect()` called.
 * @throws AuthError `dependency_unavailable` (reason `redis_not_ready`) after `timeoutMs`.
 * @example await redisReady(redis); app.listen(3000);
 */
export async function redisReady(client: RedisClientLike, options: RedisReadyOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`redisReady(): "timeoutMs" must be a finite number > 0 (got ${String(timeoutMs)})`);
  const started = Date.now();
  const state = client as ClientState;
  const readyNow = (): boolean => state.status === 'ready' || state.isReady === true;
  if (!readyNow() && typeof state.once === 'function') {
    await new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        state.removeListener?.('ready', onReady);
        reject(dependencyUnavailable('redis_not_ready'));
      }, timeoutMs);
      state.once?.('ready', onReady);
      // ioredis with lazyConnect waits in status "wait" until asked; connection errors are retried by the client.
      if (state.status === 'wait') state.connect?.().catch(() => undefined);
      // The event may have fired between the check above and the listener.
      if (readyNow()) onReady();
    });
  }
  const left = Math.max(1, timeoutMs - (Date.now() - started));
  await redisCommand(client, { timeoutMs: left })(['PING']).catch((error: unknown) => {
    throw isAuthError(error) ? dependencyUnavailable('redis_not_ready', error) : error;
  });
}

/** The key-namespace options of the Redis stores: `keyPrefix`, and `prefix`, its deprecated name. */
export interface RedisKeyPrefixOptions {
  /** Prefix of every Redis key this store writes. */
  readonly keyPrefix?: string;
  /** @deprecated 0.2 - renamed to `keyPrefix`, the name every Redis store and limiter uses. */
  readonly prefix?: string;
}

/**
 * The prefix from `keyPrefix` (or the deprecated `prefix`), else `fallback`.
 * @throws TypeError when both are given with different values.
 */
export function redisKeyPrefix(factory: string, options: RedisKeyPrefixOptions, fallback: string): string {
  const { keyPrefix, prefix } = options;
  if (keyPrefix !== undefined && prefix !== undefined && keyPrefix !== prefix) {
    throw new TypeError(`${factory}: give "keyPrefix" only ("prefix" is its deprecated name)`);
  }
  return keyPrefix ?? prefix ?? fallback;
}
