/**
 * The API's side of asymmetric_jwt_auth: verify `Authorization: JWT <token>` signed by the caller's
 * own private key. Algorithms come from the stored key's type, the time window is inclusive, and the
 * nonce is claimed (atomically) only after the signature and the time have passed.
 */
import type { KeyObject } from 'node:crypto';
import { AuthError, invalidCredentials, isAuthError, type KnownReason } from '../../errors.js';
import { algorithmsForKey, parseCompact, typMatches, verifySignatureAsync, type JwsAlgorithm, type ParsedJws } from '../../jwt/compact.js';
import { checkTimeClaims, maxTokenLifetimeOption, type TimeClaimPolicy, type TimeClaimReason } from '../../jwt/claims.js';
import { RemoteJwks, type RemoteJwksOptions } from '../../keys/remote-jwks.js';
import {
  enumOption,
  factoryOf,
  forFactory,
  hasMethods,
  isNonEmptyString,
  listOption,
  nonNegative,
  optionError,
  positiveInteger,
} from '../../lib/options.js';
import { MemoryReplayStore, type ReplayStore } from '../../stores/replay.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import { keyFingerprint, pyNumber } from './format.js';
import { checkUserSource } from './users.js';
import { lookupUser, storedKeys, type AsymmetricJwtKeySource, type AsymmetricJwtUser } from './keys.js';

/** Which server generation to behave like. */
export type AsymmetricJwtCompat = '1.x' | '0.x';

/** Algorithms each generation accepts (further narrowed by each key's type). */
export const ASYMMETRIC_JWT_ALGORITHMS: Readonly<Record<AsymmetricJwtCompat, readonly JwsAlgorithm[]>> = {
  // RSA: RS512/RS384/RS256 as Python 1.x; Ed25519: EdDSA; P-256: ES256 is our own addition.
  '1.x': ['RS512', 'RS384', 'RS256', 'EdDSA', 'ES256'],
  '0.x': ['RS512'],
};

/** Default acceptance window of the `time` claim, seconds either side of now (`TIMESTAMP_TOLERANCE`). */
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 20;

/** Options for {@link AsymmetricJwtVerifier}. */
export interface AsymmetricJwtVerifierOptions extends ObservableOptions {
  /**
   * Callers and their keys. A static map is checked at construction (at least one user, each with
   * a key or a JWKS URL, every key a readable public key of >= 2048 bits for RSA); records from a
   * lookup function are read per request, and a key that cannot be read is skipped with a warning.
   */
  readonly users: AsymmetricJwtKeySource;
  /** Where used nonces are recorded (default: a new {@link MemoryReplayStore}). */
  readonly replayStore?: ReplayStore;
  /**
   * Oldest accepted token by its `time` claim, seconds; a `time` this far ahead of now is refused
   * too (asymmetric_jwt_auth's `TIMESTAMP_TOLERANCE`: inclusive, default 20; finite, >= 0).
   */
  readonly maxTokenAgeSeconds?: number;
  /** `0.x` restricts RSA keys to RS512 and accepts no Ed25519 (nonces are still recorded). Default `1.x`. */
  readonly compat?: AsymmetricJwtCompat;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
  /** Options for the RemoteJwks created per JWKS URL (one per URL for the verifier's lifetime). */
  readonly jwks?: RemoteJwksOptions;
  /** Longest accepted token in characters (default 8192; an integer >= 1). */
  readonly maxTokenLength?: number;
  /**
   * Longest accepted lifetime of a token that carries `exp`, seconds: `exp` no further ahead than
   * this, and `exp − iat` no longer (default 86 400; a positive whole number).
   */
  readonly maxTokenLifetimeSeconds?: number;
  /** Required header `typ` (RFC 8725 §3.11), e.g. `JWT` as both Python clients write; default: not checked. */
  readonly typ?: string;
  /**
   * This API's audience. When set, a token must carry `aud` (a string, or an array of strings) naming
   * it, so a token made for a sibling service is refused here. Unset: any non-empty `aud` is refused,
   * as PyJWT does without an audience.
   */
  readonly audience?: string | readonly string[];
  /** Longest accepted nonce in characters (default 64; Python clients send 11, 0.x floats about 20). */
  readonly maxNonceLength?: number;
  /**
   * Allowed clock difference between the instances sharing a replay store, seconds (default 10).
   * Nonces are kept for the whole window plus this margin on each side, so an instance whose clock
   * runs behind cannot accept a token after the instance that recorded it has already forgotten its
   * nonce. (The registered claims `exp`, `nbf`, `iat` take no tolerance, as in PyJWT's defaults.)
   */
  readonly clockToleranceSeconds?: number;
}

/** What a verified token proves. */
export interface AsymmetricJwtResult {
  /** The caller's username. */
  readonly username: string;
  /** The caller's record from the key source. */
  readonly user: AsymmetricJwtUser;
  /** The verified claims as received. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The algorithm that verified. */
  readonly algorithm: JwsAlgorithm;
  /** Fingerprint (`kid` format) of the key that verified. */
  readonly keyId: string;
  /** Which trust verified: a JWKS URL or a stored key. */
  readonly via: 'jwks' | 'stored';
}

function fail(reason: KnownReason, detail: string, cause?: unknown): AuthError {
  return invalidCredentials(reason, detail, cause);
}

const TIME_DETAIL: Readonly<Record<TimeClaimReason, string>> = {
  expired: 'The token has expired.',
  too_old: 'The token is older than this service accepts.',
  not_yet_valid: 'The token is not valid yet.',
  issued_in_future: 'The iat claim is in the future.',
  lifetime_too_long: 'The token lives longer than this service accepts.',
  claim_invalid: 'A time claim of the token (exp, nbf, iat) is not a whole number of seconds.',
  claim_missing: 'The token lacks a time claim.',
};

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Verifies asymmetric_jwt_auth tokens. Framework-free; one instance per API. */
export class AsymmetricJwtVerifier {
  readonly #users: AsymmetricJwtKeySource;
  readonly #nonces: ReplayStore;
  readonly #tolerance: number;
  readonly #allowed: readonly JwsAlgorithm[];
  readonly #clock: () => number;
  readonly #jwksOptions: RemoteJwksOptions;
  readonly #jwks = new Map<string, RemoteJwks>();
  readonly #maxTokenLength: number;
  readonly #onBadKey: (error: unknown, index?: number, username?: string) => void;
  readonly #timePolicy: TimeClaimPolicy;
  readonly #typ: string | undefined;
  readonly #audience: ReadonlySet<string> | undefined;
  readonly #maxNonceLength: number;
  readonly #nonceTtlMs: number;

  /**
   * @param options users, replay store, time window, compat
   * @throws TypeError `new AsymmetricJwtVerifier(): "<option>" must be …` (or the factory's name) for no users, an empty map, a user with no key
   *   and no JWKS URL, a key that is unreadable, private, weaker than 2048-bit RSA or a file path,
   *   a JWKS URL that is not https, and numeric options that are not finite and in range.
   */
  constructor(options: AsymmetricJwtVerifierOptions) {
    const where = factoryOf(options, 'new AsymmetricJwtVerifier()');
    // Options are merged over defaults, so leaving one out never breaks verification (Python: KeyError → 500).
    this.#tolerance = nonNegative(options.maxTokenAgeSeconds, DEFAULT_MAX_TOKEN_AGE_SECONDS, where, 'maxTokenAgeSeconds');
    this.#maxTokenLength = positiveInteger(options.maxTokenLength, 8192, where, 'maxTokenLength');
    this.#allowed = ASYMMETRIC_JWT_ALGORITHMS[enumOption(options.compat, ['1.x', '0.x'] as const, '1.x', where, 'compat')];
    if (options.replayStore !== undefined && !hasMethods('claim')(options.replayStore))
      throw optionError(where, 'replayStore', 'an object with claim()');
    this.#users = options.users;
    this.#nonces = options.replayStore ?? new MemoryReplayStore();
    this.#clock = options.clock ?? Date.now;
    const warnings = new Warnings(where, options);
    this.#jwksOptions = forFactory({ logger: warnings.logger, validate: options.validate, ...(options.jwks ?? {}) }, where);
    this.#onBadKey = (error, index, username) => {
      const why =
        typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
          ? (error as { code: string }).code
          : 'key_unreadable';
      const which = index === undefined ? 'a JWKS trust' : `key ${index}`;
      warnings.warn(
        'stored_key_skipped',
        `${which} of user "${username ?? '?'}" cannot be used (${why}); it is skipped`,
        { username, index, why },
        `${username ?? ''}\0${index ?? 'jwks'}`,
      );
    };
    // A static map is checked now, so a typo or a wrong file fails the start-up, not every request.
    checkUserSource(options.users, where, (url) => this.#remote(url));
    // PyJWT's checks of registered claims when present, without leeway: exp (whole seconds), nbf, iat (whole seconds).
    this.#timePolicy = {
      clockToleranceSeconds: 0,
      exp: 'optional',
      wholeIat: true,
      maxTokenLifetimeSeconds: maxTokenLifetimeOption(options.maxTokenLifetimeSeconds, where),
    };
    this.#typ = options.typ;
    if (options.audience !== undefined) {
      const list = typeof options.audience === 'string' ? [options.audience] : options.audience;
      this.#audience = new Set(listOption(list, isNonEmptyString, where, 'audience', 'a non-empty string or a non-empty list of them'));
    }
    this.#maxNonceLength = positiveInteger(options.maxNonceLength, 64, where, 'maxNonceLength');
    const skew = nonNegative(options.clockToleranceSeconds, 10, where, 'clockToleranceSeconds');
    // The whole window in which the same (time, nonce) would be accepted, widened by the skew on both sides.
    this.#nonceTtlMs = Math.max(1000, 2 * (this.#tolerance + skew) * 1000);
  }

  /**
   * Verifies a bare token (the part after `JWT `).
   * @throws AuthError: 401 `token_invalid` / `token_expired` / `replay` with a reason, or 503 when a
   *   nonce store or JWKS endpoint cannot answer.
   */
  async verify(token: string): Promise<AsymmetricJwtResult> {
    let parsed: ParsedJws;
    try {
      parsed = parseCompact(token, this.#maxTokenLength);
    } catch (cause) {
      // Python raises DecodeError here (HTTP 500); a clean 401 instead.
      throw fail('malformed', 'The token is not a well-formed JWT.', cause);
    }
    const username = parsed.payload['username'];
    if (typeof username !== 'string' || username === '') throw fail('username_invalid', 'The token names no valid username.');
    const user = await lookupUser(this.#users, username);
    // Unknown user and wrong key give the same answer, so callers cannot probe for usernames.
    if (!user) throw fail('key_unknown', 'The token is not signed by a key trusted for this user.');

    const match = await this.#findKey(parsed, user);
    if (this.#typ !== undefined && !typMatches(parsed.header, this.#typ))
      throw fail('type_invalid', 'The token type (typ) is not accepted.');
    const claims = parsed.payload;
    this.#checkRegisteredClaims(claims);
    const { time, nonce } = this.#checkOwnClaims(claims);
    const claimed = await this.#nonces.claim({
      subject: username,
      time: pyNumber(time),
      nonce: typeof nonce === 'string' ? nonce : pyNumber(nonce),
      ttlMs: this.#nonceTtlMs,
    });
    if (!claimed) throw new AuthError('replay', { reason: 'replayed', detail: 'This token has already been used.' });
    return { username, user, claims, algorithm: match.algorithm, keyId: keyFingerprint(match.key), via: match.via };
  }

  /** JWKS trusts first (selected by kid), then stored keys (kid ignored), as Python 1.1+. */
  async #findKey(parsed: ParsedJws, user: AsymmetricJwtUser): Promise<{ key: KeyObject; algorithm: JwsAlgorithm; via: 'jwks' | 'stored' }> {
    const alg = parsed.header['alg'] as string;
    const kid = typeof parsed.header['kid'] === 'string' ? (parsed.header['kid'] as string) : undefined;
    let unavailable: AuthError | undefined;
    if (kid !== undefined) {
      for (const trust of user.jwks ?? []) {
        let key: KeyObject | undefined;
        try {
          key = await this.#remote(trust).getKey(kid, alg);
        } catch (error) {
          // Remember the outage; a stored key may still verify. If none does, answer 503, not 401.
          if (isAuthError(error) && error.code === 'dependency_unavailable') unavailable ??= error;
          else this.#onBadKey(error, undefined, parsed.payload['username'] as string); // e.g. a non-HTTPS URL from a lookup
          continue;
        }
        if (key && (await this.#verifies(parsed, key))) return { key, algorithm: alg as JwsAlgorithm, via: 'jwks' };
      }
    }
    for (const key of storedKeys(user, (error, index) => this.#onBadKey(error, index, parsed.payload['username'] as string))) {
      if (await this.#verifies(parsed, key)) return { key, algorithm: alg as JwsAlgorithm, via: 'stored' };
    }
    if (unavailable) throw unavailable;
    throw fail('key_unknown', 'The token is not signed by a key trusted for this user.');
  }

  /** True when `key` may use the token's algorithm and the signature verifies; keys of other types are skipped. */
  async #verifies(parsed: ParsedJws, key: KeyObject): Promise<boolean> {
    let allowed: readonly JwsAlgorithm[];
    try {
      allowed = algorithmsForKey(key, this.#allowed);
    } catch {
      return false; // a weak or unsupported key (e.g. from a JWKS) never verifies
    }
    const alg = parsed.header['alg'] as JwsAlgorithm;
    return allowed.includes(alg) && verifySignatureAsync(alg, key, parsed.signingInput, parsed.signature);
  }

  #remote(trust: string | RemoteJwks): RemoteJwks {
    if (typeof trust !== 'string') return trust;
    let remote = this.#jwks.get(trust);
    if (!remote) {
      remote = new RemoteJwks(trust, { clock: this.#clock, ...this.#jwksOptions });
      this.#jwks.set(trust, remote);
    }
    return remote;
  }

  /** PyJWT's checks of registered claims when present: exp, nbf, iat, aud (no leeway). */
  #checkRegisteredClaims(claims: Readonly<Record<string, unknown>>): void {
    const now = Math.floor(this.#clock() / 1000);
    const { aud } = claims;
    const time = checkTimeClaims(claims, now, this.#timePolicy);
    if (time === 'expired') throw new AuthError('token_expired', { reason: time, detail: TIME_DETAIL[time] });
    if (time !== undefined) throw fail(time, TIME_DETAIL[time]);
    if (this.#audience !== undefined) {
      const named = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
      if (named.length === 0 || named.some((a) => typeof a !== 'string'))
        throw fail('claim_missing', 'The token must name this API in its aud claim.');
      if (!named.some((a) => this.#audience?.has(a as string) === true))
        throw fail('audience_invalid', 'The token has an audience this API does not accept.');
      return;
    }
    // No audience is configured, so PyJWT rejects any non-empty aud.
    if (aud !== undefined && aud !== null && aud !== '' && !(Array.isArray(aud) && aud.length === 0))
      throw fail('audience_invalid', 'The token has an audience this API does not accept.');
  }

  /** time: a non-zero finite number inside the window; nonce: a non-empty string or non-zero number. */
  #checkOwnClaims(claims: Readonly<Record<string, unknown>>): { time: number; nonce: string | number } {
    const { time, nonce } = claims;
    // Python compares a string time with a float and crashes (500); we reject cleanly.
    if (!isFiniteNumber(time) || time === 0) throw fail('claim_invalid', 'The time claim must be a non-zero number.');
    if (!((typeof nonce === 'string' && nonce !== '') || (isFiniteNumber(nonce) && nonce !== 0))) {
      throw fail('nonce_invalid', 'The nonce claim is missing or invalid.');
    }
    // Each nonce is held in the store for the whole window: a bounded length bounds its cost.
    if (typeof nonce === 'string' && nonce.length > this.#maxNonceLength) throw fail('nonce_too_long', 'The nonce claim is too long.');
    const now = this.#clock() / 1000;
    if (time < now - this.#tolerance)
      throw new AuthError('token_expired', { reason: 'time_window', detail: 'The token time is outside the accepted window.' });
    if (time > now + this.#tolerance) throw fail('time_window', 'The token time is outside the accepted window.');
    return { time, nonce };
  }
}
