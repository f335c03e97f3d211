/**
 * OAuth 2.0 JWT access tokens (RFC 9068 and the common shapes of Keycloak, Auth0, Okta, Cognito and
 * Entra ID), server side: picks the issuer by `iss` (several issuers per verifier), verifies the
 * signature with that issuer's keys (the algorithm comes from the key, never the token), then the
 * claims. Verified tokens are cached by the whole token from their second verification on
 * (second-sight.ts); every hit re-checks the clock.
 */
import { LRUCache } from 'lru-cache';
import { forgetSignedBy, SecondSight } from '../../lib/second-sight.js';
import { AuthError, invalidCredentials } from '../../errors.js';
import { algorithmsForKey, parseCompact, typMatches, verifySignatureAsync, type JwsAlgorithm, type ParsedJws, isJwsError } from '../../jwt/compact.js';
import { checkExp, maxLifetimeOption } from '../../jwt/exp.js';
import { issuerKeys, type IssuerKeyOptions, type IssuerKeys } from './keys.js';
import { accessTokenFacts, type VerifiedAccessToken } from './claims.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';


// What a cached token costs besides its own bytes (the verified facts, the LRU node), measured with
// bench/token-memory.ts: `cache.maxBytes` is then the heap the cache holds.
const ENTRY_OVERHEAD_BYTES = 1792;
/** Every asymmetric algorithm the codec implements; each key narrows it to its own family. */
export const JWT_BEARER_ALGORITHMS: readonly JwsAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/** One trusted issuer. */
export interface JwtIssuerOptions extends IssuerKeyOptions {
  /** The exact `iss` value (and, without `keys` or `jwksUri`, where discovery starts). */
  readonly issuer: string;
  /** Accepted `aud` values: the token's `aud` (string or array) must contain one of them. */
  readonly audience: string | readonly string[];
  /** Algorithms accepted from this issuer (default {@link JWT_BEARER_ALGORITHMS}). */
  readonly algorithms?: readonly JwsAlgorithm[];
  /**
   * The scopes this issuer may grant here (default: any). Others in its tokens are left out of
   * `scopes`, so one tenant's provider cannot grant what only another's may.
   */
  readonly allowedScopes?: readonly string[];
}

/** Options for {@link JwtAccessTokenVerifier}: one issuer inline, or `issuers` for several. */
export interface JwtAccessTokenVerifierOptions extends Partial<JwtIssuerOptions>, ObservableOptions {
  /** Several issuers (multi-tenant), each with its own audience and keys. */
  readonly issuers?: readonly JwtIssuerOptions[];
  /**
   * `rfc9068`: `typ` must be `at+jwt` and `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti` are
   * required (RFC 9068 §2.2, §4). `jwt` (default): `exp` is required, the rest is checked when present.
   */
  readonly profile?: 'rfc9068' | 'jwt';
  /** Claims that must be present besides the profile's (e.g. `['jti']`). */
  readonly requiredClaims?: readonly string[];
  /** Clock tolerance for `exp`, `nbf` and `iat`, seconds (default 0; finite, >= 0). */
  readonly clockToleranceSeconds?: number;
  /** Oldest accepted token by its `iat`, seconds (default: no limit); makes `iat` required. */
  readonly maxTokenAgeSeconds?: number;
  /** Longest token accepted, characters (default 8192). */
  readonly maxTokenLength?: number;
  /** Latest accepted `exp`, seconds after now (default 86 400; a positive whole number). */
  readonly maxTokenLifetimeSeconds?: number;
  /**
   * Required header `typ` (RFC 8725 §3.11) under the `jwt` profile, e.g. `at+jwt`; default: not
   * checked (Keycloak, Auth0 and Entra ID write `JWT`), with the warning `typ_unchecked` when an
   * audience is not a URI and so may be a client id, the `aud` of that client's ID tokens.
   */
  readonly typ?: string;
  /** Verified-token cache; `false` turns it off (default: on, 8 MiB of tokens at most). A token enters on its second successful verification. */
  readonly cache?: false | { readonly maxBytes?: number };
  /** Clock in epoch milliseconds (default `Date.now`). */
  readonly clock?: () => number;
}

interface IssuerEntry {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly algorithms: ReadonlySet<string>;
  readonly allowed: readonly JwsAlgorithm[];
  readonly keys: IssuerKeys;
  readonly allowedScopes: ReadonlySet<string> | undefined;
}

function finiteAtLeast(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`jwtBearerScheme(): "${name}" must be a finite number >= 0 (got ${String(value)})`);
  }
  return value;
}

const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const TYP_AT_JWT = /^(?:application\/)?at\+jwt$/i;
const URI_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** Verifies JWT access tokens of one or several issuers. Keys and options are checked at construction. */
export class JwtAccessTokenVerifier {
  readonly #issuers = new Map<string, IssuerEntry>();
  readonly #profile: 'rfc9068' | 'jwt';
  readonly #required: readonly string[];
  readonly #leeway: number;
  readonly #maxAge: number | undefined;
  readonly #maxLength: number;
  readonly #maxLifetime: number;
  readonly #typ: string | undefined;
  readonly #clock: () => number;
  readonly #cache: LRUCache<string, VerifiedAccessToken> | undefined;
  readonly #admission: SecondSight | undefined;

  /** @throws TypeError for missing or contradictory options, KeyImportError for unusable keys. */
  constructor(options: JwtAccessTokenVerifierOptions) {
    if (options.issuers !== undefined && options.issuer !== undefined) throw new TypeError('jwtBearerScheme(): give "issuer" or "issuers", not both');
    const list: readonly Partial<JwtIssuerOptions>[] = options.issuers ?? [options];
    if (list.length === 0) throw new TypeError('jwtBearerScheme(): "issuers" must not be empty');
    this.#clock = options.clock ?? Date.now;
    for (const entry of list) {
      if (typeof entry.issuer !== 'string' || entry.issuer === '') throw new TypeError('jwtBearerScheme(): every issuer needs "issuer" (its exact `iss` value)');
      const audiences = typeof entry.audience === 'string' ? [entry.audience] : [...(entry.audience ?? [])];
      if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) throw new TypeError(`jwtBearerScheme(): issuer ${entry.issuer} needs "audience"`);
      if (this.#issuers.has(entry.issuer)) throw new TypeError(`jwtBearerScheme(): issuer ${entry.issuer} is listed twice`);
      // Subjects of several issuers are `<issuer>#<sub>` (issuerSubject): a `#` in an issuer would make them ambiguous.
      if (list.length > 1 && entry.issuer.includes('#')) throw new TypeError(`jwtBearerScheme(): issuer ${entry.issuer} has a "#" (an OpenID issuer has no fragment)`);
      const scopes = entry.allowedScopes;
      if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((x) => typeof x === 'string' && x !== ''))) throw new TypeError(`jwtBearerScheme(): "allowedScopes" of issuer ${entry.issuer} must be an array of non-empty strings`);
      const allowed = entry.algorithms ?? JWT_BEARER_ALGORITHMS;
      for (const alg of allowed) if (!JWT_BEARER_ALGORITHMS.includes(alg)) throw new TypeError(`jwtBearerScheme(): "algorithms" may hold only ${JWT_BEARER_ALGORITHMS.join(', ')} (got ${String(alg)})`);
      this.#issuers.set(entry.issuer, { issuer: entry.issuer, audiences, algorithms: new Set(allowed), allowed, keys: issuerKeys(entry.issuer, entry, this.#clock), allowedScopes: scopes === undefined ? undefined : new Set(scopes) });
    }
    this.#profile = options.profile ?? 'jwt';
    if (this.#profile !== 'jwt' && this.#profile !== 'rfc9068') throw new TypeError(`jwtBearerScheme(): "profile" must be "rfc9068" or "jwt" (got ${String(this.#profile)})`);
    this.#required = [...(this.#profile === 'rfc9068' ? ['sub', 'client_id', 'iat', 'jti'] : []), ...(options.requiredClaims ?? [])];
    this.#leeway = finiteAtLeast(options.clockToleranceSeconds, 0, 'clockToleranceSeconds');
    this.#maxAge = options.maxTokenAgeSeconds === undefined ? undefined : finiteAtLeast(options.maxTokenAgeSeconds, 0, 'maxTokenAgeSeconds');
    this.#maxLength = finiteAtLeast(options.maxTokenLength, 8192, 'maxTokenLength');
    this.#maxLifetime = maxLifetimeOption(options.maxTokenLifetimeSeconds, 'new JwtAccessTokenVerifier()');
    this.#typ = options.typ;
    if (this.#profile === 'jwt' && this.#typ === undefined) {
      const warnings = new Warnings('jwtBearerScheme()', options);
      for (const entry of this.#issuers.values()) {
        // An API identifier is a URI (`https://…`, `api://…`); a bare word or GUID may be a client id.
        if (entry.audiences.some((a) => !URI_SCHEME.test(a))) {
          warnings.warn('typ_unchecked', `"typ" is not checked and an audience of issuer ${entry.issuer} is not a URI: if it is a client id, that client's ID tokens pass as access tokens. Set typ: "at+jwt" (or profile: "rfc9068") when the provider marks its access tokens, or use the API's URI as audience`, { issuer: entry.issuer }, entry.issuer);
        }
      }
    }
    this.#cache =
      options.cache === false
        ? undefined
        : new LRUCache<string, VerifiedAccessToken>({ maxSize: finiteAtLeast(options.cache?.maxBytes, 8 * 1024 * 1024, 'cache.maxBytes') || 1, sizeCalculation: (_v, key) => key.length + ENTRY_OVERHEAD_BYTES });
    this.#admission = this.#cache ? new SecondSight() : undefined;
    const cache = this.#cache;
    if (cache) {
      // A key that left its issuer's set (e.g. after a compromise) no longer vouches for cached tokens.
      for (const entry of this.#issuers.values()) {
        entry.keys.onKeysRemoved?.((kids) => forgetSignedBy(cache, kids, (facts) => (facts.issuer === entry.issuer ? (facts.keyId ?? '') : undefined)));
      }
    }
  }

  /**
   * Verifies a token.
   * @throws AuthError 401 (`token_invalid` with a reason, or `token_expired`), or 503 when the
   *   issuer's keys cannot be fetched.
   */
  async verify(token: string): Promise<VerifiedAccessToken> {
    const now = this.#clock() / 1000;
    let hit = this.#cache?.get(token);
    if (hit) {
      // Hits never look the key set up: let a stale set be fetched again, which drops tokens of removed keys.
      const revalidating = this.#issuers.get(hit.issuer)?.keys.revalidate?.();
      if (revalidating !== undefined) {
        await revalidating;
        hit = this.#cache?.get(token);
      }
    }
    if (hit) {
      this.#checkTimes(hit.claims, now);
      return hit;
    }
    let parsed: ParsedJws;
    try {
      parsed = parseCompact(token, this.#maxLength);
    } catch (error) {
      throw invalidCredentials(isJwsError(error) && error.failure === 'critical_header' ? 'critical_header' : 'malformed', 'The token is not a well-formed JWT.');
    }
    const { header, payload } = parsed;
    const iss = payload['iss'];
    const entry = typeof iss === 'string' ? this.#issuers.get(iss) : undefined;
    if (!entry) throw invalidCredentials('issuer', 'The token was issued by an issuer this service does not trust.');
    const alg = header['alg'] as string;
    if (!entry.algorithms.has(alg)) throw invalidCredentials('algorithm_not_allowed', 'The token is signed with an algorithm that is not accepted.');
    const typ = header['typ'];
    if (typ !== undefined && typeof typ !== 'string') throw invalidCredentials('typ', 'The token type header is invalid.');
    if (this.#profile === 'rfc9068' && (typ === undefined || !TYP_AT_JWT.test(typ))) throw invalidCredentials('typ', 'The token is not an RFC 9068 access token (typ at+jwt).');
    if (this.#typ !== undefined && !typMatches(header, this.#typ)) throw invalidCredentials('typ', 'The token type (typ) is not accepted.');
    const kid = header['kid'];
    if (kid !== undefined && typeof kid !== 'string') throw invalidCredentials('malformed', 'The token key id is invalid.');
    const keys = await entry.keys.keysFor(kid, alg);
    let verified = false;
    for (const key of keys) {
      if (algorithmsForKey(key, entry.allowed).includes(alg as JwsAlgorithm) && (await verifySignatureAsync(alg as JwsAlgorithm, key, parsed.signingInput, parsed.signature))) {
        verified = true;
        break;
      }
    }
    if (!verified) throw invalidCredentials(keys.length === 0 ? 'key_unknown' : 'signature_invalid', 'The token signature does not verify with any key of its issuer.');
    this.#checkClaims(entry, payload, now);
    const facts = accessTokenFacts(header, payload, entry.issuer, entry.allowedScopes);
    if (this.#admission?.admit(token) === true) this.#cache?.set(token, facts);
    return facts;
  }

  #checkClaims(entry: IssuerEntry, c: Readonly<Record<string, unknown>>, now: number): void {
    for (const name of this.#required) if (c[name] === undefined || c[name] === null) throw invalidCredentials('claims_invalid', `The token has no ${name} claim.`);
    const aud = c['aud'];
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!auds.some((a) => typeof a === 'string' && entry.audiences.includes(a))) throw invalidCredentials('audience', 'The token is not meant for this service.');
    for (const name of ['sub', 'client_id', 'azp', 'jti'] as const) {
      if (c[name] !== undefined && (typeof c[name] !== 'string' || c[name] === '')) throw invalidCredentials('claims_invalid', `The token's ${name} claim is not a string.`);
    }
    const cnf = c['cnf'];
    if (cnf !== undefined && (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf))) throw invalidCredentials('claims_invalid', 'The token has an invalid cnf claim.');
    this.#checkTimes(c, now);
  }

  /** `exp` (required), `nbf`, `iat` and the maximum age, against `now` (epoch seconds). */
  #checkTimes(c: Readonly<Record<string, unknown>>, now: number): void {
    const { exp, nbf, iat } = c;
    // One reading of exp for every JWT scheme (src/jwt/exp.ts): whole seconds, bounded ahead.
    const expCheck = checkExp(exp, now, this.#leeway, this.#maxLifetime, iat);
    if (expCheck === 'invalid') throw invalidCredentials('claims_invalid', 'The token has no valid expiry.');
    if (expCheck === 'expired') throw new AuthError('token_expired', { reason: 'expired', detail: 'The token has expired.' });
    if (expCheck === 'too_far') throw invalidCredentials('lifetime_exceeded', 'The token expires further in the future than this service accepts.');
    if (nbf !== undefined && (!isNumericDate(nbf) || nbf > now + this.#leeway)) throw invalidCredentials(isNumericDate(nbf) ? 'not_yet_valid' : 'claims_invalid', 'The token is not valid yet.');
    if (iat !== undefined && (!isNumericDate(iat) || iat > now + this.#leeway)) throw invalidCredentials(isNumericDate(iat) ? 'not_yet_valid' : 'claims_invalid', 'The token was issued in the future.');
    if (this.#maxAge !== undefined && (!isNumericDate(iat) || now - iat > this.#maxAge + this.#leeway)) throw new AuthError('token_expired', { reason: 'too_old', detail: 'The token is older than this service accepts.' });
  }
}
