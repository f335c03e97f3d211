/**
 * A nonce store shared by every instance through Redis: one `SET key 1 NX PX ttl` per request, so
 * the check and the record are one atomic step (no check-then-set race between instances).
 */
import type { NonceClaim, NonceStore } from './nonce.js';
import { hashTag, redisCommand, type RedisClientLike, type RedisCommand } from './redis-command.js';

/** Options for {@link RedisNonceStore}. */
export interface RedisNonceStoreOptions {
  /** Prefix of every key (default `authnz:nonce:`). */
  readonly prefix?: string;
  /** Longest wait for Redis before answering 503 (default 250 ms). */
  readonly timeoutMs?: number;
}

/**
 * Redis-backed {@link NonceStore} for ioredis or node-redis clients. Keys are
 * `<prefix>{<subject>}:<subject>:<time>:<nonce>`; the hash tag keeps a subject's keys in one
 * Redis Cluster slot. Redis down or slow: 503 after `timeoutMs`; it recovers when Redis returns.
 */
export class RedisNonceStore implements NonceStore {
  readonly #send: RedisCommand;
  readonly #prefix: string;

  constructor(client: RedisClientLike, options: RedisNonceStoreOptions = {}) {
    this.#send = redisCommand(client, { timeoutMs: options.timeoutMs ?? 250 });
    this.#prefix = options.prefix ?? 'authnz:nonce:';
  }

  /** The Redis key used for a claim (exposed for tests and operations). */
  keyFor(claim: Pick<NonceClaim, 'subject' | 'time' | 'nonce'>): string {
    // The subject is percent-encoded after the tag so that ':' or braces in it cannot make two
    // different (subject, time, nonce) triples share a key; the nonce is last and needs no escaping.
    return `${this.#prefix}${hashTag(claim.subject)}:${encodeURIComponent(claim.subject)}:${encodeURIComponent(claim.time)}:${claim.nonce}`;
  }

  /** Claims a nonce; see {@link NonceStore.claim}. */
  async claim(claim: NonceClaim): Promise<boolean> {
    const ttl = String(Math.max(1, Math.ceil(claim.ttlMs)));
    const reply = await this.#send(['SET', this.keyFor(claim), '1', 'NX', 'PX', ttl]);
    return reply === 'OK' || (Buffer.isBuffer(reply) && reply.toString() === 'OK');
  }
}
