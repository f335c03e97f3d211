/**
 * One reading of `exp` for every JWT scheme: a whole number of seconds (both Python issuers write
 * one; PyJWT's `int()` would silently truncate a fraction), not yet passed, and no further ahead than
 * a maximum token lifetime, so `exp: 1e308` is not a token that never expires.
 */

import { numberOption } from '../lib/options.js';

/** Default latest accepted `exp`, in seconds after now (a day; api_jwt issues for an hour). */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/** What {@link checkExp} found. */
export type ExpCheck = 'ok' | 'invalid' | 'expired' | 'too_far';

/**
 * Validates a `maxTokenLifetimeSeconds` option (one message shape: src/lib/options.ts).
 * @throws TypeError `<where>: "maxTokenLifetimeSeconds" must be an integer > 0 (got …)`.
 */
export function maxLifetimeOption(value: number | undefined, where: string): number {
  return numberOption(value, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, where, 'maxTokenLifetimeSeconds', { integer: true, min: 0, above: true });
}

/**
 * Checks `exp` against now (epoch seconds): expired when `exp <= now - leeway` (RFC 7519 §4.1.4:
 * on or after `exp` the token is refused), too far when `exp > now + maxLifetime + leeway`, or when
 * the token has a numeric `iat` and `exp - iat > maxLifetime`. The second bound holds for the token's
 * whole life: a revocation list keeps a subject's cut-off for `maxLifetime`, and a token issued for
 * longer would otherwise pass once its `exp` came within reach, after the cut-off covering it expired.
 * Both ends come from the issuer's clock, so that bound needs no leeway.
 */
export function checkExp(exp: unknown, now: number, leewaySeconds: number, maxLifetimeSeconds: number, iat?: unknown): ExpCheck {
  if (typeof exp !== 'number' || !Number.isInteger(exp)) return 'invalid';
  if (exp <= now - leewaySeconds) return 'expired';
  if (exp > now + maxLifetimeSeconds + leewaySeconds) return 'too_far';
  if (typeof iat === 'number' && Number.isFinite(iat) && exp - iat > maxLifetimeSeconds) return 'too_far';
  return 'ok';
}
