/** The result cache of RFC 7662 introspection: its contract and the in-process default. */
import { LRUCache } from 'lru-cache';
import { functionOption, optionNames, optionsObject, positiveInteger } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';

/** What the cache holds for one token: the server's answer, reduced to active-with-claims or inactive. */
export type IntrospectionCacheEntry =
  { readonly active: true; readonly claims: Readonly<Record<string, unknown>> } | { readonly active: false };

/** Pluggable result cache (memory by default; a shared store lets several instances share answers). */
export interface IntrospectionCache {
  get(key: string): Promise<IntrospectionCacheEntry | undefined>;
  /** Stores `entry` for `ttlMs` milliseconds. */
  set(key: string, entry: IntrospectionCacheEntry, ttlMs: number): Promise<void>;
}

/** Options for {@link MemoryIntrospectionCache}. */
export interface MemoryIntrospectionCacheOptions extends ObservableOptions {
  /** Most answers kept, least recently used dropped first (default 10 000; an integer >= 1). */
  readonly maxEntries?: number;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

const WHERE = 'new MemoryIntrospectionCache()';
const KNOWN = optionNames<MemoryIntrospectionCacheOptions>()({ maxEntries: 1, clock: 1, logger: 1, validate: 1 });

/** In-process LRU cache with expiry by the injected clock. */
export class MemoryIntrospectionCache implements IntrospectionCache {
  readonly #lru: LRUCache<string, { entry: IntrospectionCacheEntry; until: number }>;
  readonly #clock: () => number;

  /** @throws TypeError `new MemoryIntrospectionCache(): "<option>" must be …` for options out of range. */
  constructor(input: MemoryIntrospectionCacheOptions = {}) {
    const options = optionsObject(input, WHERE, true);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.#lru = new LRUCache({ max: positiveInteger(options.maxEntries, 10_000, WHERE, 'maxEntries') });
    this.#clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
  }

  /** The live entry for `key`, if any. */
  async get(key: string): Promise<IntrospectionCacheEntry | undefined> {
    const hit = this.#lru.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.#clock()) {
      this.#lru.delete(key);
      return undefined;
    }
    return hit.entry;
  }

  /** Stores `entry` until now + `ttlMs`. */
  async set(key: string, entry: IntrospectionCacheEntry, ttlMs: number): Promise<void> {
    this.#lru.set(key, { entry, until: this.#clock() + ttlMs });
  }
}
