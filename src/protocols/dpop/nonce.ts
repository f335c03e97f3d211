/**
 * Server-provided DPoP nonces (RFC 9449 §8–9): the resource server answers `use_dpop_nonce` with a
 * `DPoP-Nonce` header, and the client signs its next proof with that nonce, which bounds how long a
 * pre-made proof can be used. Nonces here are stateless: an HMAC of the current time slot, so every
 * instance that shares the secret accepts the same nonces without a store.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { optionError, positive } from '../../lib/options.js';

const WHERE = 'new HmacDpopNonces()';

/** Issues and checks server nonces. */
export interface DpopNonceSource {
  /** The nonce to hand out now. */
  current(): string;
  /** True while `nonce` is still accepted (this slot or the one before). */
  check(nonce: string): boolean;
}

/** Options for {@link HmacDpopNonces}. */
export interface HmacDpopNoncesOptions {
  /** Shared secret of every instance, at least 32 bytes (default: random per process). */
  readonly secret?: string | Buffer;
  /** Length of one nonce slot, seconds (default 60); a nonce is accepted for one to two slots. */
  readonly periodSeconds?: number;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

// Sources whose secret was drawn in this process: their nonces are refused by every other instance.
const perProcess = new WeakSet<DpopNonceSource>();

/** True for an {@link HmacDpopNonces} made without a `secret` (one random secret per process). */
export function hasPerProcessSecret(source: DpopNonceSource): boolean {
  return perProcess.has(source);
}

/** Stateless nonces: base64url(HMAC-SHA256(secret, slot number)). */
export class HmacDpopNonces implements DpopNonceSource {
  readonly #secret: Buffer;
  readonly #periodMs: number;
  readonly #clock: () => number;
  #slot = Number.NaN;
  #value = '';

  /** @throws TypeError for a secret under 32 bytes or a period that is not a positive number. */
  constructor(options: HmacDpopNoncesOptions = {}) {
    this.#secret = options.secret === undefined ? randomBytes(32) : Buffer.from(options.secret);
    if (this.#secret.length < 32) throw optionError(WHERE, 'secret', 'at least 32 bytes', `${this.#secret.length} bytes`);
    const period = positive(options.periodSeconds, 60, WHERE, 'periodSeconds');
    this.#periodMs = period * 1000;
    this.#clock = options.clock ?? Date.now;
    if (options.secret === undefined) perProcess.add(this);
  }

  #forSlot(slot: number): string {
    return createHmac('sha256', this.#secret).update(`dpop-nonce:${slot}`).digest('base64url');
  }

  /** The nonce of the current slot (computed once per slot). */
  current(): string {
    const slot = Math.floor(this.#clock() / this.#periodMs);
    if (slot !== this.#slot) {
      this.#slot = slot;
      this.#value = this.#forSlot(slot);
    }
    return this.#value;
  }

  /** True for the nonce of this slot or the previous one. */
  check(nonce: string): boolean {
    const given = Buffer.from(nonce);
    const now = this.current();
    for (const expected of [now, this.#forSlot(this.#slot - 1)]) {
      const want = Buffer.from(expected);
      if (given.length === want.length && timingSafeEqual(given, want)) return true;
    }
    return false;
  }
}
