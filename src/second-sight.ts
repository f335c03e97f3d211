/**
 * Cache admission for verified tokens: a token enters a verified-token cache on its second
 * successful verification, not its first. Clients that reuse a token pay one extra verification;
 * a stream of tokens that are never repeated no longer churns the cache (an insert, an eviction,
 * and entries that survive the young generation only to be collected later), which measured about
 * 8 µs per token in process (bench/RESULTS.md §6.6).
 *
 * Only verified tokens reach it, so it decides nothing about validity: a collision between two
 * tokens merely admits one of them a verification early.
 */

const SLOTS = 4096; // a power of two
// Twelve characters: the tail of the signature (72 random bits for honest tokens). Kept below
// V8's sliced-string threshold (13) so a slot holds a copy, never a view that keeps the token alive.
const TAIL = 12;

/** Remembers recently verified tokens by their tail, in a fixed table. */
export class SecondSight {
  readonly #slots: Array<string | undefined> = new Array<string | undefined>(SLOTS);

  /** True when `token` was seen here before (admit it to the cache); otherwise remembers it. */
  admit(token: string): boolean {
    const tail = token.slice(-TAIL);
    let hash = 0;
    for (let i = 0; i < tail.length; i++) hash = (Math.imul(hash, 31) + tail.charCodeAt(i)) | 0;
    const slot = hash & (SLOTS - 1);
    if (this.#slots[slot] === tail) return true;
    this.#slots[slot] = tail;
    return false;
  }
}

/** The part of an LRU cache {@link forgetSignedBy} needs (lru-cache's `LRUCache` fits). */
export interface ForgettingCache<V> {
  forEach(fn: (value: V, key: string) => unknown): void;
  delete(key: string): boolean;
}

/**
 * Drops the cached tokens whose entry `kidOf` says was signed by one of `kids`: the keys left their
 * key set (the response to a compromise), so they no longer vouch for anything.
 */
export function forgetSignedBy<V>(cache: ForgettingCache<V>, kids: readonly string[], kidOf: (value: V) => string | undefined): void {
  const gone: string[] = [];
  cache.forEach((value, token) => {
    const kid = kidOf(value);
    if (kid !== undefined && kids.includes(kid)) gone.push(token);
  });
  for (const token of gone) cache.delete(token);
}
