/**
 * A token introspection cache shared by every instance through Redis: one string per answer, with
 * the answer's TTL (already bounded by the token's `exp` and `maxCacheSeconds` by the introspector)
 * capped again here by `maxTtlMs`. Keys are the introspector's hash of endpoint, client and token,
 * never the token itself. An outage rejects with a 503 `AuthError`, which the introspector turns
 * into a 503 answer: a cache that cannot answer never lets a token through.
 */
import type { IntrospectionCache, IntrospectionCacheEntry } from './introspection-cache.js';
import { redisCommand, type RedisClientLike, type RedisCommand, redisKeyPrefix, type RedisKeyPrefixOptions } from './redis-command.js';

/** Options for {@link RedisIntrospectionCache}. */
export interface RedisIntrospectionCacheOptions extends RedisKeyPrefixOptions {
  /** Longest wait for Redis before answering 503 (default 250 ms). */
  readonly timeoutMs?: number;
  /** Upper bound of any entry's life, ms (default 300 000; whole number > 0). */
  readonly maxTtlMs?: number;
}

function isEntry(value: unknown): value is IntrospectionCacheEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as { active?: unknown; claims?: unknown };
  if (entry.active === false) return true;
  return entry.active === true && typeof entry.claims === 'object' && entry.claims !== null && !Array.isArray(entry.claims);
}

/**
 * Redis-backed {@link IntrospectionCache} for ioredis or node-redis clients, single server or Cluster
 * (one key per answer, so no command crosses slots). Exported from `authnz-express/redis`.
 */
export class RedisIntrospectionCache implements IntrospectionCache {
  readonly #send: RedisCommand;
  readonly #prefix: string;
  readonly #maxTtlMs: number;

  /** @throws TypeError when `maxTtlMs` is not a whole number > 0. */
  constructor(client: RedisClientLike, options: RedisIntrospectionCacheOptions = {}) {
    this.#maxTtlMs = options.maxTtlMs ?? 300_000;
    if (!Number.isInteger(this.#maxTtlMs) || this.#maxTtlMs <= 0) {
      throw new TypeError(`RedisIntrospectionCache(): "maxTtlMs" must be a whole number > 0 (got ${this.#maxTtlMs})`);
    }
    this.#send = redisCommand(client, { timeoutMs: options.timeoutMs ?? 250 });
    this.#prefix = redisKeyPrefix('RedisIntrospectionCache()', options, 'authnz:introspection:');
  }

  /** The live answer for `key`, if any; an unreadable entry counts as none (asked again). */
  async get(key: string): Promise<IntrospectionCacheEntry | undefined> {
    const reply = await this.#send(['GET', this.#prefix + key]);
    if (reply === null || reply === undefined) return undefined;
    try {
      const parsed: unknown = JSON.parse(String(reply));
      return isEntry(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores `entry` for `ttlMs` (at most `maxTtlMs`); a TTL under 1 ms stores nothing. */
  async set(key: string, entry: IntrospectionCacheEntry, ttlMs: number): Promise<void> {
    const ttl = Math.floor(Math.min(ttlMs, this.#maxTtlMs));
    if (!(ttl >= 1)) return;
    await this.#send(['SET', this.#prefix + key, JSON.stringify(entry), 'PX', String(ttl)]);
  }
}
