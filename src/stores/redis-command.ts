/**
 * One way to talk to Redis whichever client the application uses: ioredis (`call`, a single server or
 * a `Cluster`), node-redis v4/v5 (`sendCommand`) or a node-redis cluster (`createCluster`, whose
 * `sendCommand` is routed by a first key). Every Redis store builds on `RedisCommand`, with a deadline
 * so a slow or absent Redis, or a Cluster shard whose master is down, turns into a 503 instead of a
 * hung request.
 */
import { startDeadline } from '../lib/deadline.js';
import { observeDependency } from '../diagnostics.js';
import { dependencyUnavailable, isAuthError } from '../errors.js';
import { noteSharedStore } from './shared.js';
import { optionsObject, positive } from '../lib/options.js';
import type { ObservableOptions } from '../lib/warnings.js';

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

/** The node-redis cluster pipeline surface used by {@link redisBatch} (`multi(routingKey)`). */
interface NodeRedisClusterPipelining {
  multi(routing?: string): {
    addCommand(firstKey: string | undefined, isReadonly: boolean, args: string[]): unknown;
    execAsPipeline(): Promise<unknown[]>;
  };
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
  _options?: { rootNodes?: readonly unknown[] };
  getMasters?(): Array<{ client?: { isReady?: boolean } }>;
  readonly isOpen?: boolean;
  readonly slots?: ReadonlyArray<{ master?: unknown } | undefined>;
  connect?(): Promise<unknown>;
  once?(event: 'disconnect', listener: () => void): unknown;
}

/** The ioredis `Cluster` surface {@link clusterHealer} uses. */
interface IoRedisClusterInternals {
  readonly isCluster?: boolean;
  readonly status?: string;
  refreshSlotsCache?(): void;
}

const SLOT_COUNT = 16_384;

/** True when a node-redis cluster is open and knows a master for every slot. */
function nodeRedisClusterMapped(client: NodeRedisClusterInternals): boolean {
  const slots = client.slots;
  if (client.isOpen !== true || !slots || slots.length < SLOT_COUNT) return false;
  for (let i = 0; i < SLOT_COUNT; i++) if (!slots[i]?.master) return false;
  return true;
}

const healers = new WeakMap<object, () => void>();

/**
 * A node-redis cluster remaps slots only when a node answers MOVED or ASK, and connects only when
 * asked. A master that died answers nothing, so without help its slots stay mapped to it and every
 * command for them waits forever, even after its replica was promoted; a cluster that was absent or
 * not yet formed when `connect()` ran stays closed, or open with no slot map, for good. The returned
 * `kick` (at most once per 200 ms) connects such a cluster again (unless the application closed it),
 * or asks for the slot map through a live master, else through the root nodes.
 *
 * An ioredis `Cluster` refreshes on MOVED by itself, but not when the MOVED comes back inside a
 * pipeline whose other command succeeded (the claim and its `WAIT`): there `kick` refreshes its slot
 * map. {@link redisCommand} kicks on every error or timeout. Other clients get `undefined`.
 */
export function clusterHealer(client: RedisClientLike): (() => void) | undefined {
  const known = healers.get(client);
  if (known) return known;
  const kick = isNodeRedisCluster(client)
    ? nodeRedisKick(client as unknown as NodeRedisClusterInternals)
    : ioRedisKick(client as unknown as IoRedisClusterInternals);
  if (kick) healers.set(client, throttled(kick));
  return healers.get(client);
}

function throttled(kick: () => void): () => void {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    kick();
  };
}

function ioRedisKick(cluster: IoRedisClusterInternals): (() => void) | undefined {
  if (cluster.isCluster !== true || typeof cluster.refreshSlotsCache !== 'function') return undefined;
  // Before "ready" ioredis is still connecting and reads the slot map itself once connected.
  return () => {
    if (cluster.status === 'ready') cluster.refreshSlotsCache?.();
  };
}

function nodeRedisKick(cluster: NodeRedisClusterInternals): (() => void) | undefined {
  const slots = cluster._slots;
  if (typeof slots?.rediscover !== 'function' || typeof cluster.connect !== 'function') return undefined;
  // Closed by the application (destroy, close, quit): never opened again from here.
  let closed = false;
  cluster.once?.('disconnect', () => (closed = true));
  let connecting = false;
  return () => {
    if (closed || connecting) return;
    if (cluster.isOpen !== true) {
      connecting = true;
      void cluster
        .connect?.()
        .catch(() => undefined)
        .finally(() => (connecting = false));
      return;
    }
    const live = cluster.getMasters?.().find((m) => m.client?.isReady === true)?.client;
    const root = cluster._options?.rootNodes?.[0];
    // rediscover() asks `startWith` first, then every root node.
    const startWith = live ?? (root === undefined ? undefined : { options: root });
    if (startWith) slots.rediscover?.(startWith).catch(() => undefined);
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
    // One pipeline to the node the client maps the key to, without following a redirect: a MOVED
    // claim fails (and the healer re-reads the map) rather than being sent on alone while the WAIT
    // is answered by the node it left, whose replicas never saw it.
    return async (commands) => {
      const key = firstKeyOf(commands[0] ?? []);
      const pipeline = (client as unknown as NodeRedisClusterPipelining).multi(key);
      for (const args of commands) pipeline.addCommand(key, false, [...args]);
      return pipeline.execAsPipeline();
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
        pending = observeDependency(
          'redis',
          operationOf(arg),
          undefined,
          () => send(arg),
          () => 'redis_error',
        );
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
 * is connected here; a node-redis single-server client must have had `connect()` called. A node-redis
 * cluster (`createCluster`) is connected here if it is not yet, and is ready once it knows a master
 * for every slot (it has no "ready" event).
 * @throws AuthError `dependency_unavailable` (reason `redis_not_ready`) after `timeoutMs`.
 * @example await redisReady(redis); app.listen(3000);
 */
export async function redisReady(client: RedisClientLike, options: RedisReadyOptions = {}): Promise<void> {
  const timeoutMs = positive(optionsObject(options, 'redisReady()', true).timeoutMs, 10_000, 'redisReady()', 'timeoutMs');
  const started = Date.now();
  if (isNodeRedisCluster(client)) await nodeRedisClusterReady(client, timeoutMs);
  const state = client as ClientState;
  const readyNow = (): boolean => state.status === 'ready' || state.isReady === true;
  // A node-redis cluster has no "ready" event (and is mapped by now); the others wait for theirs.
  if (!isNodeRedisCluster(client) && !readyNow() && typeof state.once === 'function') {
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

/**
 * Waits until a node-redis cluster is open and knows a master for every slot, connecting it if
 * needed: it has no "ready" event, its `connect()` fails outright while no root node answers, and it
 * opens with an empty slot map on nodes not yet joined. The healer's kick connects or re-reads the
 * map; this only checks between kicks.
 * @throws AuthError `dependency_unavailable` (reason `redis_not_ready`) after `timeoutMs`.
 */
async function nodeRedisClusterReady(client: NodeRedisClusterLike, timeoutMs: number): Promise<void> {
  const internals = client as unknown as NodeRedisClusterInternals;
  const kick = clusterHealer(client);
  const deadline = Date.now() + timeoutMs;
  while (!nodeRedisClusterMapped(internals)) {
    if (Date.now() >= deadline) throw dependencyUnavailable('redis_not_ready');
    kick?.();
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, Math.max(1, deadline - Date.now()))));
  }
}

/** The options every Redis store takes. */
export interface RedisStoreOptions extends ObservableOptions {
  /** Prefix of every Redis key this store writes. */
  readonly keyPrefix?: string;
  /** Longest wait for Redis before answering 503, ms (default 250; finite, > 0). */
  readonly timeoutMs?: number;
}
