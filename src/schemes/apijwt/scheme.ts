/**
 * APIJwt as an authentication scheme: `Authorization: Bearer <token>` → verifier → principal.
 * Verified tokens are kept in the shared verified-token cache (src/lib/verified-cache.ts).
 */
import { AuthError } from '../../errors.js';
import { createPrincipal, type Principal, type PrincipalKind } from '../../principal.js';
import { credentialPresence, isToken68, readToken68, type AuthRequest, type AuthScheme } from '../../scheme.js';
import { ApiJwtVerifier, type ApiJwtClaims, type ApiJwtFailure, type ApiJwtVerifierOptions } from './verifier.js';
import { enumOption, forFactory, nonNegative, optionNames, optionsObject, positiveInteger } from '../../lib/options.js';
import { reportingTo, Warnings } from '../../lib/warnings.js';
import { DEFAULT_VERIFIED_CACHE_BYTES, VerifiedTokenCache } from '../../lib/verified-cache.js';

const WHERE = 'apiJwtScheme()';
const KNOWN = optionNames<ApiJwtSchemeOptions>()({
  name: 1,
  kind: 1,
  cache: 1,
  isRevoked: 1,
  realm: 1,
  publicKeys: 1,
  keySource: 1,
  jwksUri: 1,
  jwks: 1,
  algorithms: 1,
  audience: 1,
  clockToleranceSeconds: 1,
  requireKnownIssuer: 1,
  maxTokenLength: 1,
  clock: 1,
  keyNames: 1,
  extras: 1,
  allowed: 1,
  logger: 1,
  validate: 1,
  typ: 1,
  maxTokenLifetimeSeconds: 1,
  checkAllowedValues: 1,
});

// What a cached token costs besides its key (principal, claims, LRU node), measured with bench/token-memory.ts.
const ENTRY_OVERHEAD_BYTES = 1536;

/** Options for {@link apiJwtScheme}. */
export interface ApiJwtSchemeOptions extends ApiJwtVerifierOptions {
  /** Scheme name for `authenticate()` (default `apijwt`). */
  readonly name?: string;
  /** Principal kind: fixed, or decided from the claims (default `user`). */
  readonly kind?: PrincipalKind | ((claims: ApiJwtClaims) => PrincipalKind);
  /**
   * Verified-token cache; `false` turns it off. Default: on, 8 MiB of tokens at most (`maxBytes`: an
   * integer >= 1). A token enters on its second successful verification.
   */
  readonly cache?: false | { readonly maxBytes?: number };
  /** Checked on every request, cached or not: true rejects the token (e.g. a revocation list). */
  readonly isRevoked?: (claims: ApiJwtClaims) => boolean | Promise<boolean>;
  /** `realm` for the challenge. */
  readonly realm?: string;
}

/** The header `kid` of a token that verified (read once, when it enters the cache). */
function headerKid(token: string): string | undefined {
  const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as Record<string, unknown>;
  return typeof header['kid'] === 'string' ? header['kid'] : undefined;
}

const DETAIL_BY_FAILURE: Readonly<Record<ApiJwtFailure, string>> = {
  missing: 'No token was given.',
  malformed: 'The token is not a well-formed JWT.',
  algorithm_not_allowed: 'The token is signed with an algorithm that is not accepted.',
  signature_invalid: 'The token signature does not verify with any trusted key.',
  expired: 'The token has expired.',
  not_yet_valid: 'The token is not valid yet.',
  claim_invalid: 'A claim of the token is missing or has the wrong type.',
  audience_invalid: 'The token audience is not accepted.',
  subject_missing: 'The token has no subject.',
  issuer_unknown: 'The token issuer is not trusted.',
  value_not_allowed: 'A claim of the token has a value its issuer may not grant.',
  lifetime_too_long: 'The token lives longer than this service accepts.',
  issued_in_future: 'The token was issued in the future.',
  type_invalid: 'The token type (typ) is not accepted.',
  cnf_unsupported: 'The token is bound by a confirmation method this service cannot check.',
};

function toPrincipal(claims: ApiJwtClaims, kind: PrincipalKind): Principal {
  return createPrincipal({
    subject: claims.id,
    kind,
    scheme: 'apijwt',
    scopes: claims.scopes ?? [],
    level: claims.level,
    details: {
      issuer: claims.issuer,
      keyName: claims.keyName,
      expiresAt: claims.exp,
      factor: claims.factor,
      target: claims.target ?? '',
      dnt: claims.dnt ?? 0,
      extras: Object.freeze({ ...claims.extras }),
      claims: Object.freeze({ ...claims.raw }),
    },
  });
}

/** `readToken68(req, 'Bearer')`, without its allocations for the usual exact `Bearer ` prefix. */
function readBearer(req: AuthRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) {
    const token = header.slice(7);
    if (isToken68(token)) return token;
  }
  return readToken68(req, 'Bearer');
}

/**
 * Builds the APIJwt scheme.
 * @example authenticate([apiJwtScheme({ publicKeys: [pem] })])
 * @throws TypeError `apiJwtScheme(): "<option>" must be …` for bad configuration (see {@link ApiJwtVerifier}).
 */
export function apiJwtScheme(options: ApiJwtSchemeOptions): AuthScheme {
  optionsObject(options, WHERE, false);
  const warnings = new Warnings(WHERE, options);
  warnings.unknownOptions(options, KNOWN);
  const verifier = new ApiJwtVerifier(forFactory(options, WHERE));
  const fixedKind = typeof options.kind === 'function' ? undefined : enumOption(options.kind, ['user', 'service'], 'user', WHERE, 'kind');
  const kindOf = typeof options.kind === 'function' ? options.kind : () => fixedKind as PrincipalKind;
  const clock = options.clock ?? Date.now;
  const tolerance = nonNegative(options.clockToleranceSeconds, 0, WHERE, 'clockToleranceSeconds');
  const isRevoked = options.isRevoked;
  const cache =
    options.cache === false
      ? undefined
      : new VerifiedTokenCache<{ readonly principal: Principal; readonly claims: ApiJwtClaims }>({
          maxBytes: positiveInteger(options.cache?.maxBytes, DEFAULT_VERIFIED_CACHE_BYTES, WHERE, 'cache.maxBytes'),
          entryOverheadBytes: ENTRY_OVERHEAD_BYTES,
          // A hit is refused once expired; the rest of the time claims passed when it was cached.
          timePolicy: { clockToleranceSeconds: tolerance, missingExp: 'claim_invalid' },
          clock,
        });
  // A key that left the key source (e.g. after a compromise) no longer vouches for cached tokens;
  // a token that named no kid is filed under the empty kid, which a source lists when any key left.
  if (cache) verifier.onKeysRemoved((kids) => cache.forgetSignedBy('', kids));

  const expired = (): AuthError => new AuthError('token_expired', { reason: 'expired', detail: DETAIL_BY_FAILURE.expired });

  const revoked = async (claims: ApiJwtClaims): Promise<void> => {
    if (isRevoked && (await isRevoked(claims))) {
      throw new AuthError('token_invalid', { reason: 'revoked', detail: 'The token has been revoked.' });
    }
  };

  return reportingTo(
    {
      name: options.name ?? 'apijwt',
      challenge: { scheme: 'Bearer', ...(options.realm === undefined ? {} : { params: { realm: options.realm } }) },
      hasCredential: credentialPresence(readBearer),
      async authenticate(req) {
        const token = readBearer(req);
        if (token === undefined) return undefined;
        const key = cache === undefined ? undefined : VerifiedTokenCache.keyOf(token);
        // Hits never look the key set up: let a stale set be fetched again, which drops tokens of removed keys.
        const cached = key === undefined ? undefined : await cache?.lookup(key, () => verifier.revalidateKeys());
        if (cached !== undefined) {
          if ('refused' in cached) throw expired();
          if (isRevoked) await revoked(cached.hit.claims);
          return cached.hit.principal;
        }
        const result = await verifier.verify(token);
        if (!result.valid) {
          if (result.reason === 'expired') throw expired();
          // A bound token sent here as a bearer token: no later scheme on the route may accept it either.
          throw new AuthError('token_invalid', {
            reason: result.reason,
            detail: DETAIL_BY_FAILURE[result.reason],
            endsChain: result.reason === 'cnf_unsupported',
          });
        }
        if (isRevoked) await revoked(result.claims);
        const principal = toPrincipal(result.claims, kindOf(result.claims));
        if (cache && key !== undefined) {
          cache.admit(key, {
            value: { principal, claims: result.claims },
            claims: result.claims.raw,
            keySet: '',
            kid: headerKid(token) ?? '',
          });
        }
        return principal;
      },
    },
    warnings,
  );
}
