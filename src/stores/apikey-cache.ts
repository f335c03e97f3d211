/**
 * A read-through cache in front of any API key store (PostgreSQL, Redis): `get` answers from memory
 * for at most `cacheSeconds` after it read the record, then reads it again. That bound is the
 * staleness: a revocation made through another instance is seen here within `cacheSeconds`; one made
 * through this cache is seen at once. An unknown id is remembered the same way (in a table of its own,
 * so ids that do not exist never push out records that do): a repeated unknown id costs what a known
 * one costs, not a round trip, and a key created through another instance is found within
 * `cacheSeconds` (through this cache: at once).
 */
import { LRUCache } from 'lru-cache';
import type { ApiKeyRecord, ApiKeyStore } from './apikey.js';
import { functionOption, optionNames, optionsObject, positive, positiveInteger } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';

const WHERE = 'new CachedApiKeyStore()';
const KNOWN = optionNames<CachedApiKeyStoreOptions>()({ cacheSeconds: 1, maxEntries: 1, clock: 1, logger: 1, validate: 1 });

/** Options for {@link CachedApiKeyStore}. */
export interface CachedApiKeyStoreOptions extends ObservableOptions {
  /** Longest time a record (or that an id is unknown) is answered from memory, seconds (default 5; finite, > 0). */
  readonly cacheSeconds?: number;
  /** Most records kept, and separately most unknown ids remembered (default 10 000 each; an integer >= 1). */
  readonly maxEntries?: number;
  /** Clock, epoch ms. */
  readonly clock?: () => number;
}

/** Wraps a store with a bounded-staleness read-through cache. */
export class CachedApiKeyStore implements ApiKeyStore {
  readonly #inner: ApiKeyStore;
  readonly #cache: LRUCache<string, { record: ApiKeyRecord; readAt: number }>;
  readonly #misses: LRUCache<string, number>;
  #writes = 0;
  readonly #cacheLifetimeMs: number;
  readonly #clock: () => number;

  /** @throws TypeError `new CachedApiKeyStore(): "<option>" must be …` for `cacheSeconds` or `maxEntries` out of range. */
  constructor(inner: ApiKeyStore, input: CachedApiKeyStoreOptions = {}) {
    const options = optionsObject(input, WHERE, true);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.#cacheLifetimeMs = positive(options.cacheSeconds, 5, WHERE, 'cacheSeconds') * 1000;
    const maxEntries = positiveInteger(options.maxEntries, 10_000, WHERE, 'maxEntries');
    this.#inner = inner;
    this.#cache = new LRUCache({ max: maxEntries });
    this.#misses = new LRUCache({ max: maxEntries });
    this.#clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
  }

  /** Writes through, and drops this instance's copy (and its note that the id was unknown). */
  async save(record: ApiKeyRecord): Promise<void> {
    await this.#writeThrough(record.id, () => this.#inner.save(record));
  }

  /** From memory while younger than `cacheSeconds` (a record, or that the id is unknown), else from the store. */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const now = this.#clock();
    const hit = this.#cache.get(id);
    if (hit && now - hit.readAt < this.#cacheLifetimeMs) return hit.record;
    const missedAt = this.#misses.get(id);
    if (missedAt !== undefined && now - missedAt < this.#cacheLifetimeMs) return undefined;
    const writes = this.#writes;
    const record = await this.#inner.get(id);
    // A save or delete through this cache while the read was out may have made the answer old: keep nothing then.
    if (writes !== this.#writes) return record;
    this.#drop(id);
    if (record) this.#cache.set(id, { record, readAt: now });
    else this.#misses.set(id, now);
    return record;
  }

  #drop(id: string): void {
    this.#cache.delete(id);
    this.#misses.delete(id);
  }

  /** Drops the id before and after the write, and counts the write at both ends (see `get`). */
  async #writeThrough(id: string, write: () => Promise<void>): Promise<void> {
    this.#drop(id);
    this.#writes += 1;
    try {
      await write();
    } finally {
      this.#writes += 1;
      this.#drop(id);
    }
  }

  /** Always from the store (not on the request path). */
  list(): Promise<ApiKeyRecord[]> {
    return this.#inner.list();
  }

  /** Deletes through, and drops this instance's copy. */
  async delete(id: string): Promise<void> {
    await this.#writeThrough(id, () => this.#inner.delete(id));
  }

  /** Passed to the store, if it keeps usage. */
  async markUsed(id: string, at: number): Promise<void> {
    await this.#inner.markUsed?.(id, at);
  }
}
