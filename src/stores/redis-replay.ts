/**
 * A nonce store shared by every instance through Redis: one `SET key 1 NX PX ttl` per request, so
 * the check and the record are one atomic step (no check-then-set race between instances).
 */
import { dependencyUnavailable } from '../errors.js';
import type { ReplayClaim, ReplayStore } from './replay.js';
import {
  hashTag,
  isOk,
  redisBatch,
  redisCommand,
  redisReady,
  type RedisBatch,
  type RedisClientLike,
  type RedisCommand,
  type RedisReadyOptions,
  type RedisStoreOptions,
} from './redis-command.js';
import { numberOption, optionNames, optionsObject, positive, positiveInteger, stringOption } from '../lib/options.js';
import { Warnings } from '../lib/warnings.js';

const WHERE = 'new RedisReplayStore()';
const KNOWN = optionNames<RedisReplayStoreOptions>()({
  keyPrefix: 1,
  timeoutMs: 1,
  waitReplicas: 1,
  waitTimeoutMs: 1,
  logger: 1,
  validate: 1,
});

/** Options for {@link RedisReplayStore}. */
export interface RedisReplayStoreOptions extends RedisStoreOptions {
  /**
   * Replicas that must hold a claim before it counts (Redis `WAIT`; default 0, integer >= 0). With 1
   * on a Cluster whose shards have one replica, a claim that a failover could lose is answered 503
   * instead of 200 (docs/deployment.md gives the window and the measured cost).
   */
  readonly waitReplicas?: number;
  /** Longest `WAIT` for those replicas, ms (default 50; integer > 0; counted inside `timeoutMs`). */
  readonly waitTimeoutMs?: number;
}

/**
 * Redis-backed {@link ReplayStore} for ioredis or node-redis clients, single server or Cluster. Keys
 * are `<keyPrefix>{<subject>}:<subject>:<time>:<nonce>` (`keyPrefix` default `authnz:nonce:`); the hash tag keeps a subject's keys in one
 * Redis Cluster slot. Redis down or slow: 503 after `timeoutMs`; it recovers when Redis returns.
 * Exported from `authnz-express/redis`.
 */
export class RedisReplayStore implements ReplayStore {
  readonly #send: RedisCommand;
  readonly #batch: RedisBatch;
  readonly #prefix: string;
  readonly #waitReplicas: number;
  readonly #waitTimeoutMs: number;
  readonly #client: RedisClientLike;

  /** @throws TypeError `new RedisReplayStore(): "<option>" must be …` for options out of range. */
  constructor(client: RedisClientLike, input: RedisReplayStoreOptions = {}) {
    const options = optionsObject(input, WHERE, true);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.#client = client;
    this.#waitReplicas = numberOption(options.waitReplicas, 0, WHERE, 'waitReplicas', { integer: true, min: 0 });
    this.#waitTimeoutMs = positiveInteger(options.waitTimeoutMs, 50, WHERE, 'waitTimeoutMs');
    const timeoutMs = positive(options.timeoutMs, 250, WHERE, 'timeoutMs');
    this.#send = redisCommand(client, { timeoutMs });
    this.#batch = redisBatch(client, { timeoutMs });
    this.#prefix = stringOption(options.keyPrefix, 'authnz:nonce:', WHERE, 'keyPrefix');
  }

  /** Resolves once the client is connected and Redis answers; see {@link redisReady}. */
  ready(options?: RedisReadyOptions): Promise<void> {
    return redisReady(this.#client, options);
  }

  /** The Redis key used for a claim (exposed for tests and operations). */
  keyFor(claim: Pick<ReplayClaim, 'subject' | 'time' | 'nonce'>): string {
    // The subject is percent-encoded after the tag so that ':' or braces in it cannot make two
    // different (subject, time, nonce) triples share a key; the nonce is last and needs no escaping.
    return `${this.#prefix}${hashTag(claim.subject)}:${encodeURIComponent(claim.subject)}:${encodeURIComponent(claim.time)}:${claim.nonce}`;
  }

  /**
   * Claims a nonce; see {@link ReplayStore.claim}.
   * @throws AuthError 503 when Redis cannot answer, or when fewer than `waitReplicas` replicas
   *   acknowledged the claim in time (the nonce stays used: a retry needs a new token).
   */
  async claim(claim: ReplayClaim): Promise<boolean> {
    const set = ['SET', this.keyFor(claim), '1', 'NX', 'PX', String(Math.max(1, Math.ceil(claim.ttlMs)))];
    if (this.#waitReplicas === 0) return isOk(await this.#send(set));
    // WAIT goes with the SET to the same node (a pipeline, or the same cluster route): it counts
    // the replicas that hold everything this connection wrote, the claim included.
    const [reply, acked] = await this.#batch([set, ['WAIT', String(this.#waitReplicas), String(this.#waitTimeoutMs)]]);
    if (!isOk(reply)) return false;
    if (Number(acked) < this.#waitReplicas) throw dependencyUnavailable('redis_replication');
    return true;
  }
}
