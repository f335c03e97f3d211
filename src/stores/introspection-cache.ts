/** The result cache of RFC 7662 introspection: its contract and the in-process default. */
import { LRUCache } from 'lru-cache';

/** What the cache holds for one token: the server's answer, reduced to active-with-claims or inactive. */
export type IntrospectionCacheEntry =
  | { readonly active: true; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly active: false };

/** Pluggable result cache (memory by default; a shared store lets several instances share answers). */
export interface IntrospectionCache {
  get(key: string): Promise<IntrospectionCacheEntry | undefined>;
  /** Stores `entry` for `ttlMs` milliseconds. */
  set(key: string, entry: IntrospectionCacheEntry, ttlMs: number): Promise<void>;
}

/** In-process LRU cache with expiry by the injected clock. */
export class MemoryIntrospectionCache implements IntrospectionCache {
  private readonly lru: LRUCache<string, { entry: IntrospectionCacheEntry; until: number }>;
  readonly #clock: () => number;

  constructor(options: { maxEntries?: number; clock?: () => number } = {}) {
    this.lru = new LRUCache({ max: options.maxEntries ?? 10_000 });
    this.#clock = options.clock ?? Date.now;
  }

  /** The live entry for `key`, if any. */
  async get(key: string): Promise<IntrospectionCacheEntry | undefined> {
    const hit = this.lru.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.#clock()) {
      this.lru.delete(key);
      return undefined;
    }
    return hit.entry;
  }

  /** Stores `entry` until now + `ttlMs`. */
  async set(key: string, entry: IntrospectionCacheEntry, ttlMs: number): Promise<void> {
    this.lru.set(key, { entry, until: this.#clock() + ttlMs });
  }
}
