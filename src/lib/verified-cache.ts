/**
 * The one cache of verified tokens, shared by the JWT schemes: a byte-bounded LRU keyed by the
 * SHA-256 of the token (the token itself is never held), filled from a token's second successful
 * verification on (see second-sight.ts), re-checking the token's time claims against the clock on
 * every hit, and dropping the tokens a key verified once that key leaves its key set.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { checkTimeClaims, type TimeClaimPolicy, type TimeClaimReason } from '../jwt/claims.js';
import { forgetSignedBy, SecondSight } from './second-sight.js';

/** Default bound of a verified-token cache, bytes (8 MiB). */
export const DEFAULT_VERIFIED_CACHE_BYTES = 8 * 1024 * 1024;

/** What the cache keeps of one verified token. */
export interface VerifiedEntry<V> {
  /** The verified answer handed back on a hit. */
  readonly value: V;
  /** The token's claims, whose time claims are checked again on every hit. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The key set that verified it (e.g. the issuer), for {@link VerifiedTokenCache.forgetSignedBy}. */
  readonly keySet: string;
  /** `kid` of the verifying key; the empty string for a token that named none. */
  readonly kid: string;
}

/** Options of {@link VerifiedTokenCache}. */
export interface VerifiedTokenCacheOptions {
  /** Most bytes the cache holds (an integer >= 1, checked by the factory). */
  readonly maxBytes: number;
  /**
   * What an entry costs besides its key (the verified answer, the LRU node), measured with
   * bench/token-memory.ts, so that `maxBytes` is the heap the cache holds.
   */
  readonly entryOverheadBytes: number;
  /** The time checks a hit must pass again (those of the verifier, with its tolerance). */
  readonly timePolicy: TimeClaimPolicy;
  /** Clock, epoch ms. */
  readonly clock: () => number;
}

/** The answer of a lookup: a hit, a hit whose time claims no longer pass, or nothing. */
export type VerifiedLookup<V> = { readonly hit: V } | { readonly refused: TimeClaimReason } | undefined;

/** A cache of verified tokens (see the module comment). */
export class VerifiedTokenCache<V> {
  readonly #lru: LRUCache<string, VerifiedEntry<V>>;
  readonly #admission = new SecondSight();
  readonly #policy: TimeClaimPolicy;
  readonly #clock: () => number;

  constructor(options: VerifiedTokenCacheOptions) {
    const overhead = options.entryOverheadBytes;
    // No LRU ttl: every hit re-checks the time claims against the clock instead.
    this.#lru = new LRUCache<string, VerifiedEntry<V>>({
      maxSize: options.maxBytes,
      sizeCalculation: (_value, key) => key.length + overhead,
    });
    this.#policy = options.timePolicy;
    this.#clock = options.clock;
  }

  /**
   * The cache key of a token: the SHA-256 of `context` (length-prefixed, so no context and token
   * pair reads as another) and the token, base64url (43 characters). One-shot `hash()`: no Hash
   * object per request.
   */
  static keyOf(token: string, context = ''): string {
    return hash('sha256', `${context.length}:${context}${token}`, 'base64url');
  }

  /**
   * The cached answer for `key`, with its time claims checked again now; a hit whose claims no
   * longer pass is dropped and answered with the failed check. Before answering a hit, `revalidate`
   * (the key source's, when it changes) may fetch a stale key set again, which drops the tokens of
   * keys that left it.
   */
  async lookup(key: string, revalidate?: (entry: VerifiedEntry<V>) => Promise<void> | undefined): Promise<VerifiedLookup<V>> {
    let entry = this.#lru.get(key);
    if (entry === undefined) return undefined;
    const revalidating = revalidate?.(entry);
    if (revalidating !== undefined) {
      await revalidating;
      entry = this.#lru.get(key);
      if (entry === undefined) return undefined;
    }
    const refused = checkTimeClaims(entry.claims, this.#clock() / 1000, this.#policy);
    if (refused !== undefined) {
      this.#lru.delete(key);
      return { refused };
    }
    return { hit: entry.value };
  }

  /** Records a token that just verified, from its second verification on (see second-sight.ts). */
  admit(key: string, entry: VerifiedEntry<V>): void {
    if (this.#admission.admit(key)) this.#lru.set(key, entry);
  }

  /** Drops the tokens verified by one of `kids` of the key set `keySet`: those keys left it. */
  forgetSignedBy(keySet: string, kids: readonly string[]): void {
    forgetSignedBy(this.#lru, kids, (entry) => (entry.keySet === keySet ? entry.kid : undefined));
  }

  /** Entries held now. */
  get size(): number {
    return this.#lru.size;
  }
}
