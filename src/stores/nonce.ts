/**
 * Nonce stores: remember which (subject, time, nonce) triples were used so a signed request cannot
 * be replayed inside its acceptance window. One atomic "claim" per request.
 */
import { LRUCache } from 'lru-cache';
import { dependencyUnavailable } from '../errors.js';

/** One nonce to claim. */
export interface NonceClaim {
  /** Whose nonce: the username (nonces are scoped per subject). */
  readonly subject: string;
  /** The token's time claim as text (nonces are scoped per subject and time). */
  readonly time: string;
  /** The nonce as text. */
  readonly nonce: string;
  /** How long to remember it, in ms; at least the whole acceptance window. */
  readonly ttlMs: number;
}

/** Where used nonces are recorded. */
export interface NonceStore {
  /**
   * Atomically records the nonce.
   * @returns true when it was new (the request may proceed), false when it was already used.
   * @throws AuthError `dependency_unavailable` (503) when the store cannot answer or is full.
   */
  claim(claim: NonceClaim): Promise<boolean>;
}

/** Options for {@link MemoryNonceStore}. */
export interface MemoryNonceStoreOptions {
  /** Most nonces held at once (default 100 000). When full and nothing has expired, claims get 503. */
  readonly max?: number;
}

/**
 * The embedded nonce store for one process (lru-cache). It is bounded, and when full it refuses
 * (503) rather than evicting an entry whose window is still open: an evicted nonce could be replayed.
 */
export class MemoryNonceStore implements NonceStore {
  readonly #cache: LRUCache<string, true>;
  readonly #max: number;
  #lastPurge = 0;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.#max = options.max ?? 100_000;
    if (!Number.isInteger(this.#max) || this.#max < 1) throw new TypeError('MemoryNonceStore: max must be a positive integer');
    // allowStale lets rkeys() show expired entries so they can be dropped oldest-first; has() still
    // treats them as absent, so an expired nonce is never reported as used.
    this.#cache = new LRUCache<string, true>({ max: this.#max, ttl: 1, allowStale: true, ttlResolution: 0 });
  }

  /** Number of entries held (expired ones included until they are dropped). */
  get size(): number {
    return this.#cache.size;
  }

  /** Claims a nonce; see {@link NonceStore.claim}. */
  async claim(claim: NonceClaim): Promise<boolean> {
    const key = JSON.stringify([claim.subject, claim.time, claim.nonce]);
    if (this.#cache.has(key)) return false;
    if (this.#cache.size >= this.#max) this.#makeRoom();
    this.#cache.set(key, true, { ttl: Math.max(1, Math.ceil(claim.ttlMs)) });
    return true;
  }

  /** Drops expired entries oldest-first; refuses when the oldest one is still inside its window. */
  #makeRoom(): void {
    while (this.#cache.size >= this.#max) {
      const oldest = this.#cache.rkeys().next();
      if (oldest.done) return;
      if (this.#cache.getRemainingTTL(oldest.value) > 0) {
        // Entries with different TTLs can expire out of order: a full sweep, at most once a second.
        const now = Date.now();
        if (now - this.#lastPurge >= 1000) {
          this.#lastPurge = now;
          this.#cache.purgeStale();
          if (this.#cache.size < this.#max) return;
        }
        throw dependencyUnavailable('nonce_store_full', undefined, Math.max(1, Math.ceil(this.#cache.getRemainingTTL(oldest.value) / 1000)));
      }
      this.#cache.delete(oldest.value);
    }
  }
}
