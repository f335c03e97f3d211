/**
 * Cache admission for verified tokens: a token enters a verified-token cache on its second
 * successful verification, not its first. Clients that reuse a token pay one extra verification;
 * a stream of tokens that are never repeated does not churn the cache (an insert, an eviction,
 * and entries that survive the young generation only to be collected later, about 8 µs per token
 * in process: see bench/RESULTS.md).
 *
 * Only verified tokens reach it, so it decides nothing about validity: a collision between two
 * tokens merely admits one of them a verification early.
 */

const SLOTS = 4096; // a power of two
// Twelve characters: the tail of the signature (72 random bits for honest tokens). Kept below
// V8's sliced-string threshold (13) so a slot holds a copy, never a view that keeps the token alive.
const TAIL = 12;

/** A tail's two candidate slots, packed as `first * SLOTS + second` (no allocation per call). */
function candidates(tail: string): number {
  let h1 = 0;
  let h2 = 0;
  for (let i = 0; i < tail.length; i++) {
    const c = tail.charCodeAt(i);
    h1 = (Math.imul(h1, 31) + c) | 0;
    h2 = (Math.imul(h2, 0x9e3779b1) + c) | 0;
  }
  const a = h1 & (SLOTS - 1);
  // The second slot comes from another hash and is never the first one.
  return a * SLOTS + ((a + 1 + ((h2 >>> 16) % (SLOTS - 1))) & (SLOTS - 1));
}

/** Tails moved on at most this many times per insertion; the last one moved is forgotten. */
const KICKS = 8;

/**
 * Remembers recently verified tokens by their tail, in a fixed table where each tail has two
 * candidate slots and a newcomer moves an occupant to its other slot (cuckoo hashing). With one
 * slot per tail, two reused tokens that hash alike evicted each other on every use and neither was
 * ever admitted (about a fifth of 1,000 tokens in 4,096 slots).
 */
export class SecondSight {
  readonly #slots: Array<string | undefined> = new Array<string | undefined>(SLOTS);
  /** When both slots are taken, the newcomer starts at either in turn, so no eviction chain repeats for ever. */
  #turn = 0;

  /**
   * True when `token` (or its digest) was seen here before (admit it to the cache); otherwise
   * remembers it. Only its last characters are kept: random for a signature or a digest.
   */
  admit(token: string): boolean {
    const tail = token.slice(-TAIL);
    const pair = candidates(tail);
    const a = Math.floor(pair / SLOTS);
    const b = pair % SLOTS;
    const slots = this.#slots;
    if (slots[a] === tail || slots[b] === tail) return true;
    let slot = slots[a] === undefined ? a : slots[b] === undefined ? b : (this.#turn ^= 1) === 1 ? a : b;
    let moving = tail;
    for (let kick = 0; kick < KICKS; kick++) {
      const out = slots[slot];
      slots[slot] = moving;
      if (out === undefined) break;
      const other = candidates(out);
      const x = Math.floor(other / SLOTS);
      slot = slot === x ? other % SLOTS : x;
      moving = out;
    }
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
