/**
 * A token introspection cache shared by every instance through Redis: one string per answer, with
 * the answer's TTL (already bounded by the token's `exp` and `cacheSeconds` by the introspector)
 * capped again here by this cache's own `cacheSeconds`. Keys are the introspector's hash of endpoint, client and token,
 * never the token itself. An outage rejects with a 503 `AuthError`, which the introspector turns
 * into a 503 answer: a cache that cannot answer never lets a token through.
 */
import type { IntrospectionCache, IntrospectionCacheEntry } from './introspection-cache.js';
import { redisCommand, type RedisClientLike, type RedisCommand, type RedisStoreOptions } from './redis-command.js';
import { optionNames, optionsObject, positive, stringOption } from '../lib/options.js';
import { Warnings } from '../lib/warnings.js';

const WHERE = 'new RedisIntrospectionCache()';
const KNOWN = optionNames<RedisIntrospectionCacheOptions>()({ keyPrefix: 1, timeoutMs: 1, cacheSeconds: 1, logger: 1, validate: 1 });

/** Options for {@link RedisIntrospectionCache}. */
export interface RedisIntrospectionCacheOptions extends RedisStoreOptions {
  /** Upper bound of any entry's life, seconds (default 300; finite, > 0). */
  readonly cacheSeconds?: number;
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
  readonly #cacheLifetimeMs: number;

  /** @throws TypeError `new RedisIntrospectionCache(): "<option>" must be …` for options out of range. */
  constructor(client: RedisClientLike, input: RedisIntrospectionCacheOptions = {}) {
    const options = optionsObject(input, WHERE, true);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.#cacheLifetimeMs = positive(options.cacheSeconds, 300, WHERE, 'cacheSeconds') * 1000;
    this.#send = redisCommand(client, { timeoutMs: positive(options.timeoutMs, 250, WHERE, 'timeoutMs') });
    this.#prefix = stringOption(options.keyPrefix, 'authnz:introspection:', WHERE, 'keyPrefix');
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

  /** Stores `entry` for `ttlMs` (at most `cacheSeconds`); a TTL under 1 ms stores nothing. */
  async set(key: string, entry: IntrospectionCacheEntry, ttlMs: number): Promise<void> {
    const ttl = Math.floor(Math.min(ttlMs, this.#cacheLifetimeMs));
    if (!(ttl >= 1)) return;
    await this.#send(['SET', this.#prefix + key, JSON.stringify(entry), 'PX', String(ttl)]);
  }
}
