/**
 * The validator's memory: answers for tokens already validated (kept with their parsed validity
 * window, so a hit costs one hash, one lookup and a clock comparison), refusals that depend on the
 * token alone, and the decryptions in flight that concurrent requests for one token share.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { KmsauthValidationError, type KmsauthValidationCode } from './errors.js';

/** What a validation caches: anything with its validity window in epoch ms. */
export interface Windowed {
  readonly notBefore: number;
  readonly notAfter: number;
}

interface Refusal {
  readonly message: string;
  readonly code: KmsauthValidationCode;
  readonly until: number;
}

/**
 * The cache key of one credential. It covers everything the answer depends on: the `to` context
 * and the whole username (which fixes version, user type and `from`), length-prefixed so no two
 * pairs collide, and the token. Hashed, so a flood of long junk tokens keeps the caches small.
 * One-shot `hash()`: no Hash object per request, which is most of a cache hit's own CPU time.
 */
export function tokenCacheKey(toAuthContext: string, username: string, token: string): string {
  return hash('sha256', `${toAuthContext.length}:${toAuthContext}${username.length}:${username}${token}`, 'base64');
}

/** Positive, negative and in-flight memory of one validator. */
export class TokenCache<T extends Windowed, D> {
  readonly #answers: LRUCache<string, T>;
  readonly #refusals: LRUCache<string, Refusal>;
  readonly #inflight = new Map<string, Promise<D>>();
  readonly #refusalTtlMs: number;
  readonly #clock: () => number;

  constructor(size: number, refusalSize: number, refusalTtlMs: number, clock: () => number) {
    this.#refusalTtlMs = refusalTtlMs;
    this.#clock = clock;
    this.#answers = new LRUCache<string, T>({ max: size });
    this.#refusals = new LRUCache<string, Refusal>({ max: refusalSize });
  }

  /** A cached answer; undefined when none. The caller re-checks the window against the clock. */
  answer(key: string): T | undefined {
    return this.#answers.get(key);
  }

  remember(key: string, answer: T): void {
    this.#answers.set(key, answer);
  }

  /** Throws the remembered refusal of `key`, if one is still fresh. */
  throwIfRefused(key: string): void {
    const refused = this.#refusals.get(key);
    if (refused !== undefined && refused.until > this.#clock()) throw new KmsauthValidationError(refused.message, refused.code);
  }

  /**
   * Single flight: concurrent validations of one uncached token share one `work()`. Refusals for
   * which `cacheable` is true are remembered for `refusalTtlMs` under the same key.
   */
  shared(key: string, work: () => Promise<D>, cacheable: (error: unknown) => error is KmsauthValidationError): Promise<D> {
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = work()
        .catch((error: unknown) => {
          if (this.#refusalTtlMs > 0 && cacheable(error))
            this.#refusals.set(key, { message: error.message, code: error.code, until: this.#clock() + this.#refusalTtlMs });
          throw error;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }
}
