/**
 * The one checker of a JWT's time claims (`exp`, `nbf`, `iat`), shared by every JWT verifier:
 * APIJwt, asymmetric JWT, JWT access tokens and DPoP proofs. Each verifier passes its own policy
 * (which claims are required, whole seconds or not, order of the checks, tolerance) so that each
 * keeps the exact behaviour of the original it mirrors; the rules themselves exist once.
 */

import { numberOption } from '../lib/options.js';

/** Default longest accepted token lifetime, seconds (a day; api_jwt issues for an hour). */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/** Why a token's time claims were refused (docs/conventions.md, reason codes). */
export type TimeClaimReason =
  'expired' | 'not_yet_valid' | 'issued_in_future' | 'too_old' | 'lifetime_too_long' | 'claim_invalid' | 'claim_missing';

/** A NumericDate (RFC 7519 §2): a JSON number, here also required to be finite. */
export function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** How one verifier reads the time claims. Every limit is in seconds. */
export interface TimeClaimPolicy {
  /** Allowed clock difference, applied to `exp`, `nbf`, `iat` in the future and the maximum age. */
  readonly clockToleranceSeconds: number;
  /**
   * `exp`: `required` (absent is `missingExp`), `optional` (checked when present) or `ignored`
   * (DPoP proofs carry none). Default `required`.
   */
  readonly exp?: 'required' | 'optional' | 'ignored';
  /** The reason for an absent required `exp` (default `claim_missing`). */
  readonly missingExp?: 'claim_missing' | 'claim_invalid';
  /** `exp` must be a whole number of seconds (PyJWT's `int()` would silently truncate a fraction). Default true. */
  readonly wholeExp?: boolean;
  /** `iat` must be a whole number of seconds when present. Default false. */
  readonly wholeIat?: boolean;
  /** `iat` must be present (as with a maximum age). Default: only when `maxTokenAgeSeconds` is set. */
  readonly requireIat?: boolean;
  /** Oldest accepted `iat`, seconds before now; unset: no limit. */
  readonly maxTokenAgeSeconds?: number;
  /**
   * Longest accepted lifetime: `exp` no further than this after now (plus tolerance), and `exp − iat`
   * no longer than this when `iat` is a number. Unset: no limit.
   */
  readonly maxTokenLifetimeSeconds?: number;
  /** The maximum age takes no clock tolerance (DPoP proofs: the tolerance is for `iat` ahead only). Default false. */
  readonly strictAge?: boolean;
  /** The reason for an `iat` in the future (default `issued_in_future`). */
  readonly futureIat?: 'issued_in_future' | 'not_yet_valid';
  /** Order of the checks: `exp-first` (exp, nbf, iat, age) or `iat-first` (PyJWT's: iat, nbf, exp). Default `exp-first`. */
  readonly order?: 'exp-first' | 'iat-first';
}

function checkExp(c: Readonly<Record<string, unknown>>, now: number, p: TimeClaimPolicy): TimeClaimReason | undefined {
  const mode = p.exp ?? 'required';
  if (mode === 'ignored') return undefined;
  const { exp, iat } = c;
  if (exp === undefined) return mode === 'required' ? (p.missingExp ?? 'claim_missing') : undefined;
  if (!isNumericDate(exp) || (p.wholeExp !== false && !Number.isInteger(exp))) return 'claim_invalid';
  const tolerance = p.clockToleranceSeconds;
  // RFC 7519 §4.1.4: on or after `exp` the token is refused.
  if (exp <= now - tolerance) return 'expired';
  const max = p.maxTokenLifetimeSeconds;
  if (max !== undefined) {
    if (exp > now + max + tolerance) return 'lifetime_too_long';
    // Both ends come from the issuer's clock: this bound needs no tolerance. It holds for the
    // token's whole life, so a token issued for longer never passes once its `exp` comes in reach.
    if (isNumericDate(iat) && exp - iat > max) return 'lifetime_too_long';
  }
  return undefined;
}

function checkNbf(c: Readonly<Record<string, unknown>>, now: number, p: TimeClaimPolicy): TimeClaimReason | undefined {
  const { nbf } = c;
  if (nbf === undefined) return undefined;
  if (!isNumericDate(nbf)) return 'claim_invalid';
  return nbf > now + p.clockToleranceSeconds ? 'not_yet_valid' : undefined;
}

function checkIat(c: Readonly<Record<string, unknown>>, now: number, p: TimeClaimPolicy): TimeClaimReason | undefined {
  const { iat } = c;
  if (iat === undefined) return p.requireIat === true || p.maxTokenAgeSeconds !== undefined ? 'claim_missing' : undefined;
  if (!isNumericDate(iat) || (p.wholeIat === true && !Number.isInteger(iat))) return 'claim_invalid';
  if (iat > now + p.clockToleranceSeconds) return p.futureIat ?? 'issued_in_future';
  if (p.maxTokenAgeSeconds !== undefined && now - iat > p.maxTokenAgeSeconds + (p.strictAge === true ? 0 : p.clockToleranceSeconds))
    return 'too_old';
  return undefined;
}

/**
 * Checks `exp`, `nbf` and `iat` of `claims` against `now` (epoch seconds, fractions allowed).
 * @returns the first failed check, or undefined when the time claims pass.
 */
export function checkTimeClaims(
  claims: Readonly<Record<string, unknown>>,
  now: number,
  policy: TimeClaimPolicy,
): TimeClaimReason | undefined {
  if (policy.order === 'iat-first') return checkIat(claims, now, policy) ?? checkNbf(claims, now, policy) ?? checkExp(claims, now, policy);
  return checkExp(claims, now, policy) ?? checkNbf(claims, now, policy) ?? checkIat(claims, now, policy);
}

/**
 * The `maxTokenLifetimeSeconds` option of a verifier (one message shape: src/lib/options.ts).
 * @throws TypeError `<where>: "maxTokenLifetimeSeconds" must be an integer > 0 (got …)`.
 */
export function maxTokenLifetimeOption(value: unknown, where: string): number {
  return numberOption(value, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, where, 'maxTokenLifetimeSeconds', { integer: true, min: 0, above: true });
}
