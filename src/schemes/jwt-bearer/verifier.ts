/**
 * OAuth 2.0 JWT access tokens (RFC 9068 and the common shapes of Keycloak, Auth0, Okta, Cognito and
 * Entra ID), server side: picks the issuer by `iss` (several issuers per verifier), verifies the
 * signature with that issuer's keys (the algorithm comes from the key, never the token), then the
 * claims. Verified tokens are kept in the shared verified-token cache (src/lib/verified-cache.ts).
 */
import { AuthError, endingChain, invalidCredentials } from '../../errors.js';
import {
  algorithmsForKey,
  parseCompact,
  typMatches,
  verifySignatureAsync,
  type JwsAlgorithm,
  type ParsedJws,
  isJwsError,
} from '../../jwt/compact.js';
import { checkTimeClaims, maxTokenLifetimeOption, type TimeClaimPolicy, type TimeClaimReason } from '../../jwt/claims.js';
import { issuerKeys, type IssuerKeyOptions, type IssuerKeys } from './keys.js';
import { accessTokenFacts, type VerifiedAccessToken } from './claims.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import {
  configurationError,
  enumOption,
  exclusiveOptions,
  factoryOf,
  httpsUrlOption,
  isNonEmptyString,
  listOption,
  nonNegative,
  optionError,
  positiveInteger,
  sharedSecretRefused,
} from '../../lib/options.js';
import { DEFAULT_VERIFIED_CACHE_BYTES, VerifiedTokenCache } from '../../lib/verified-cache.js';

// What a cached token costs besides its key (the verified facts, the LRU node), measured with
// bench/token-memory.ts: `cache.maxBytes` is then the heap the cache holds.
const ENTRY_OVERHEAD_BYTES = 1792;
/** Every asymmetric algorithm the codec implements; each key narrows it to its own family. */
export const JWT_BEARER_ALGORITHMS: readonly JwsAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];

/** One trusted issuer. */
export interface JwtIssuerOptions extends IssuerKeyOptions {
  /** The exact `iss` value (and, without `publicKeys` or `jwksUri`, where discovery starts: https). */
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
  /**
   * Longest accepted lifetime, seconds: `exp` no further ahead than this, and `exp − iat` no longer
   * when the token has `iat` (default 86 400; a positive whole number).
   */
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

const TYP_AT_JWT = /^(?:application\/)?at\+jwt$/i;
const URI_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const isHmac = (alg: unknown): boolean => typeof alg === 'string' && /^HS\d+$/i.test(alg);

/** One `issuers` entry (or the inline issuer), checked. */
function issuerEntry(entry: Partial<JwtIssuerOptions>, at: string, several: boolean, where: string, clock: () => number): IssuerEntry {
  const issuer = entry.issuer;
  if (!isNonEmptyString(issuer))
    throw optionError(
      where,
      `${at}issuer`,
      'the exact `iss` value of the issuer, a non-empty string',
      typeof issuer === 'string' ? 'an empty string' : undefined,
    );
  const discovered = (entry.publicKeys?.length ?? 0) === 0 && entry.jwksUri === undefined;
  // The issuer is where discovery starts, and an OpenID issuer is an https URL: http is refused as for jwksUri.
  if (discovered || /^http:/i.test(issuer)) httpsUrlOption(issuer, where, `${at}issuer`);
  if (entry.jwksUri !== undefined) httpsUrlOption(entry.jwksUri, where, `${at}jwksUri`);
  // Subjects of several issuers are `<issuer>#<sub>` (issuerSubject): a `#` in an issuer would make them ambiguous.
  if (several && issuer.includes('#')) throw optionError(where, `${at}issuer`, 'an issuer without "#" (an OpenID issuer has no fragment)');
  const audiences = listOption(
    typeof entry.audience === 'string' ? [entry.audience] : entry.audience,
    isNonEmptyString,
    where,
    `${at}audience`,
    'a non-empty string or a non-empty array of them',
  );
  const scopes =
    entry.allowedScopes === undefined
      ? undefined
      : listOption(entry.allowedScopes, isNonEmptyString, where, `${at}allowedScopes`, 'a non-empty array of non-empty strings');
  if (Array.isArray(entry.algorithms) && entry.algorithms.some(isHmac)) throw sharedSecretRefused(where, `${at}algorithms`);
  const allowed =
    entry.algorithms === undefined
      ? JWT_BEARER_ALGORITHMS
      : listOption(
          entry.algorithms,
          (v): v is JwsAlgorithm => (JWT_BEARER_ALGORITHMS as readonly unknown[]).includes(v),
          where,
          `${at}algorithms`,
          `a non-empty array of ${JWT_BEARER_ALGORITHMS.join(', ')}`,
        );
  return {
    issuer,
    audiences: [...audiences],
    algorithms: new Set(allowed),
    allowed,
    keys: issuerKeys(issuer, entry, clock, where, at),
    allowedScopes: scopes === undefined ? undefined : new Set(scopes),
  };
}

/** Options of one {@link JwtAccessTokenVerifier.verify} call. */
export interface VerifyAccessTokenOptions {
  /**
   * True when the caller compares a certificate-bound token's `cnf["x5t#S256"]` with the request's
   * verified client certificate itself (as `jwtBearerScheme` with `clientCertificate` does); default
   * false: such a token is refused.
   */
  readonly checksCertificate?: boolean;
}

/** Verifies JWT access tokens of one or several issuers. Keys and options are checked at construction. */
export class JwtAccessTokenVerifier {
  readonly #issuers = new Map<string, IssuerEntry>();
  readonly #profile: 'rfc9068' | 'jwt';
  readonly #required: readonly string[];
  readonly #timePolicy: TimeClaimPolicy;
  readonly #maxLength: number;
  readonly #typ: string | undefined;
  readonly #clock: () => number;
  readonly #cache: VerifiedTokenCache<VerifiedAccessToken> | undefined;

  /**
   * @throws TypeError `new JwtAccessTokenVerifier(): "<option>" must be …` (or the factory's name)
   *   for missing or contradictory options, shared secrets, and unusable keys.
   */
  constructor(options: JwtAccessTokenVerifierOptions) {
    const where = factoryOf(options, 'new JwtAccessTokenVerifier()');
    exclusiveOptions(where, { issuer: options.issuer, issuers: options.issuers }, 'one');
    this.#clock = options.clock ?? Date.now;
    const list: readonly Partial<JwtIssuerOptions>[] =
      options.issuers === undefined
        ? [options]
        : listOption(
            options.issuers,
            (v): v is JwtIssuerOptions => typeof v === 'object' && v !== null,
            where,
            'issuers',
            'a non-empty array of issuers { issuer, audience, … }',
          );
    list.forEach((entry, i) => {
      const built = issuerEntry(entry, options.issuers === undefined ? '' : `issuers[${i}].`, list.length > 1, where, this.#clock);
      if (this.#issuers.has(built.issuer)) throw configurationError(where, `"issuers[${i}].issuer" names an issuer listed before it`);
      this.#issuers.set(built.issuer, built);
    });
    this.#profile = enumOption(options.profile, ['jwt', 'rfc9068'] as const, 'jwt', where, 'profile');
    if (options.requiredClaims !== undefined)
      listOption(options.requiredClaims, isNonEmptyString, where, 'requiredClaims', 'a non-empty array of claim names');
    this.#required = [...(this.#profile === 'rfc9068' ? ['sub', 'client_id', 'iat', 'jti'] : []), ...(options.requiredClaims ?? [])];
    const tolerance = nonNegative(options.clockToleranceSeconds, 0, where, 'clockToleranceSeconds');
    const maxAge =
      options.maxTokenAgeSeconds === undefined
        ? undefined
        : nonNegative(options.maxTokenAgeSeconds, undefined, where, 'maxTokenAgeSeconds');
    this.#maxLength = positiveInteger(options.maxTokenLength, 8192, where, 'maxTokenLength');
    this.#timePolicy = {
      clockToleranceSeconds: tolerance,
      maxTokenLifetimeSeconds: maxTokenLifetimeOption(options.maxTokenLifetimeSeconds, where),
      ...(maxAge === undefined ? {} : { maxTokenAgeSeconds: maxAge }),
    };
    this.#typ = options.typ;
    if (this.#profile === 'jwt' && this.#typ === undefined) {
      const warnings = new Warnings(where, options);
      for (const entry of this.#issuers.values()) {
        // An API identifier is a URI (`https://…`, `api://…`); a bare word or GUID may be a client id.
        if (entry.audiences.some((a) => !URI_SCHEME.test(a))) {
          warnings.warn(
            'typ_unchecked',
            `"typ" is not checked and an audience of issuer ${entry.issuer} is not a URI: if it is a client id, that client's ID tokens pass as access tokens. Set typ: "at+jwt" (or profile: "rfc9068") when the provider marks its access tokens, or use the API's URI as audience`,
            { issuer: entry.issuer },
            entry.issuer,
          );
        }
      }
    }
    const cache =
      options.cache === false
        ? undefined
        : new VerifiedTokenCache<VerifiedAccessToken>({
            maxBytes: positiveInteger(options.cache?.maxBytes, DEFAULT_VERIFIED_CACHE_BYTES, where, 'cache.maxBytes'),
            entryOverheadBytes: ENTRY_OVERHEAD_BYTES,
            timePolicy: this.#timePolicy,
            clock: this.#clock,
          });
    this.#cache = cache;
    // A key that left its issuer's set (e.g. after a compromise) no longer vouches for cached tokens.
    if (cache) for (const entry of this.#issuers.values()) entry.keys.onKeysRemoved?.((kids) => cache.forgetSignedBy(entry.issuer, kids));
  }

  /**
   * Verifies a token. A certificate-bound token (`cnf["x5t#S256"]`, RFC 8705) is refused unless
   * `options.checksCertificate` says the caller compares it with the request's client certificate.
   * @throws AuthError 401 (`token_invalid` with a reason, or `token_expired`; `cnf_unsupported`,
   *   ending the chain, for a certificate-bound token), or 503 when the issuer's keys cannot be fetched.
   */
  async verify(token: string, options: VerifyAccessTokenOptions = {}): Promise<VerifiedAccessToken> {
    const facts = await this.#verified(token);
    // After the cache: a cached token is refused here as a fresh one is.
    if (facts.x5t !== undefined && options.checksCertificate !== true)
      throw endingChain(
        invalidCredentials('cnf_unsupported', 'The token is bound to a client certificate, which this service does not check.'),
      );
    return facts;
  }

  async #verified(token: string): Promise<VerifiedAccessToken> {
    const now = this.#clock() / 1000;
    const key = this.#cache === undefined ? undefined : VerifiedTokenCache.keyOf(token);
    // Hits never look the key set up: let a stale set be fetched again, which drops tokens of removed keys.
    const cached =
      key === undefined ? undefined : await this.#cache?.lookup(key, (entry) => this.#issuers.get(entry.keySet)?.keys.revalidate?.());
    if (cached !== undefined) {
      if ('refused' in cached) throw timeRefusal(cached.refused);
      return cached.hit;
    }
    let parsed: ParsedJws;
    try {
      parsed = parseCompact(token, this.#maxLength);
    } catch (error) {
      throw invalidCredentials(
        isJwsError(error) && error.code === 'critical_header' ? 'critical_header' : 'malformed',
        'The token is not a well-formed JWT.',
      );
    }
    const { header, payload } = parsed;
    const iss = payload['iss'];
    const entry = typeof iss === 'string' ? this.#issuers.get(iss) : undefined;
    if (!entry) throw invalidCredentials('issuer_unknown', 'The token was issued by an issuer this service does not trust.');
    const alg = header['alg'] as string;
    if (!entry.algorithms.has(alg))
      throw invalidCredentials('algorithm_not_allowed', 'The token is signed with an algorithm that is not accepted.');
    const typ = header['typ'];
    if (typ !== undefined && typeof typ !== 'string') throw invalidCredentials('type_invalid', 'The token type header is invalid.');
    if (this.#profile === 'rfc9068' && (typ === undefined || !TYP_AT_JWT.test(typ)))
      throw invalidCredentials('type_invalid', 'The token is not an RFC 9068 access token (typ at+jwt).');
    if (this.#typ !== undefined && !typMatches(header, this.#typ))
      throw invalidCredentials('type_invalid', 'The token type (typ) is not accepted.');
    const kid = header['kid'];
    if (kid !== undefined && typeof kid !== 'string') throw invalidCredentials('malformed', 'The token key id is invalid.');
    const keys = await entry.keys.keysFor(kid, alg);
    let verified = false;
    for (const key of keys) {
      if (
        algorithmsForKey(key, entry.allowed).includes(alg as JwsAlgorithm) &&
        (await verifySignatureAsync(alg as JwsAlgorithm, key, parsed.signingInput, parsed.signature))
      ) {
        verified = true;
        break;
      }
    }
    if (!verified)
      throw invalidCredentials(
        keys.length === 0 ? 'key_unknown' : 'signature_invalid',
        'The token signature does not verify with any key of its issuer.',
      );
    this.#checkClaims(entry, payload, now);
    const facts = accessTokenFacts(header, payload, entry.issuer, entry.allowedScopes);
    if (key !== undefined) this.#cache?.admit(key, { value: facts, claims: facts.claims, keySet: entry.issuer, kid: facts.keyId ?? '' });
    return facts;
  }

  #checkClaims(entry: IssuerEntry, c: Readonly<Record<string, unknown>>, now: number): void {
    for (const name of this.#required)
      if (c[name] === undefined || c[name] === null) throw invalidCredentials('claim_missing', `The token has no ${name} claim.`);
    const aud = c['aud'];
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!auds.some((a) => typeof a === 'string' && entry.audiences.includes(a)))
      throw invalidCredentials('audience_invalid', 'The token is not meant for this service.');
    for (const name of ['sub', 'client_id', 'azp', 'jti'] as const) {
      if (c[name] !== undefined && (typeof c[name] !== 'string' || c[name] === ''))
        throw invalidCredentials('claim_invalid', `The token's ${name} claim is not a string.`);
    }
    const cnf = c['cnf'];
    if (cnf !== undefined && (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)))
      throw invalidCredentials('claim_invalid', 'The token has an invalid cnf claim.');
    const refused = checkTimeClaims(c, now, this.#timePolicy);
    if (refused !== undefined) throw timeRefusal(refused);
  }
}

const TIME_DETAIL: Readonly<Record<TimeClaimReason, string>> = {
  expired: 'The token has expired.',
  too_old: 'The token is older than this service accepts.',
  not_yet_valid: 'The token is not valid yet.',
  issued_in_future: 'The token was issued in the future.',
  lifetime_too_long: 'The token lives longer than this service accepts.',
  claim_invalid: 'A time claim of the token (exp, nbf, iat) is not a valid date.',
  claim_missing: 'The token lacks a time claim this service requires (exp, or iat for a maximum age).',
};

/** The 401 of a failed time check: `token_expired` for an expired or too old token, else `token_invalid`. */
function timeRefusal(reason: TimeClaimReason): AuthError {
  if (reason === 'expired' || reason === 'too_old') return new AuthError('token_expired', { reason, detail: TIME_DETAIL[reason] });
  return invalidCredentials(reason, TIME_DETAIL[reason]);
}
