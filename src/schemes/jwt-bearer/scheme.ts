/**
 * OAuth 2.0 JWT access tokens (RFC 9068) as an authentication scheme: `Authorization: Bearer` or,
 * for sender-constrained tokens, `Authorization: DPoP` with a `DPoP` proof (RFC 9449) → principal.
 * Scheme id `jwt-bearer`; challenges `Bearer` and `DPoP algs="…"`.
 */
import { AuthError, dependencyUnavailable, invalidCredentials, isAuthError } from '../../errors.js';
import {
  describeValue,
  forFactory,
  numberOption,
  optionError,
  optionNames,
  optionsObject,
  sharedSecretRefused,
} from '../../lib/options.js';
import { createPrincipal, issuerSubject, namingSubjectsOf, type Principal, type PrincipalInit } from '../../principal.js';
import type { AuthScheme } from '../../scheme.js';
import { accessTokenScheme } from './access-token.js';
import { CertificateBinding } from './certificate-binding.js';
import type { ClientCertificateSourceOptions } from '../../lib/client-certificate.js';
import { DPOP_OPTION_NAMES, DpopBinding, type DpopOptions } from '../../protocols/dpop/binding.js';
import type { VerifiedAccessToken } from './claims.js';
import { JwtAccessTokenVerifier, type JwtAccessTokenVerifierOptions, type JwtIssuerOptions } from './verifier.js';
import { reportingTo, Warnings, type ObservableOptions } from '../../lib/warnings.js';

/** Options for {@link jwtBearerScheme}. */
export interface JwtBearerSchemeOptions extends JwtAccessTokenVerifierOptions, ObservableOptions {
  /** Scheme name for `authenticate()` (default `jwt-bearer`). */
  readonly name?: string;
  /** `realm` of the challenges, if any. */
  readonly realm?: string;
  /** Assurance level of every principal (default 0). */
  readonly level?: number;
  /** DPoP (RFC 9449); default mode `allowed`: Bearer and DPoP, bound tokens only with a proof. */
  readonly dpop?: DpopOptions;
  /**
   * Accept certificate-bound tokens (RFC 8705 §3, `cnf["x5t#S256"]`): where the request's verified
   * client certificate is read, `{ source: 'socket' }` when Node terminates TLS or a trusted proxy's
   * header (`{ source: 'xfcc', trustedProxies: [...] }`, as for `clientCertificateScheme`). Such a
   * token is accepted only with the certificate it names. Default: none, and certificate-bound
   * tokens are refused (`cnf_unsupported`).
   */
  readonly clientCertificate?: ClientCertificateSourceOptions;
  /** Replaces the default mapping of a verified token to a principal (your claim names, roles, kind). */
  readonly mapPrincipal?: (token: VerifiedAccessToken) => PrincipalInit;
  /**
   * Checked on every request, cached token or not: true refuses the token (401 `revoked`, ending the
   * chain), e.g. a lookup of its `jti` in a revocation list. A throw or rejection is a 503.
   */
  readonly isRevoked?: (token: VerifiedAccessToken) => boolean | Promise<boolean>;
}

const WHERE = 'jwtBearerScheme()';
// accessTokenScheme() checks a certificate-bound token itself, or refuses it when no source is configured.
const CHECKED_HERE = { checksCertificate: true } as const;
const KNOWN = optionNames<JwtBearerSchemeOptions>()({
  issuer: 1,
  audience: 1,
  algorithms: 1,
  allowedScopes: 1,
  publicKeys: 1,
  jwksUri: 1,
  jwks: 1,
  discovery: 1,
  issuers: 1,
  profile: 1,
  requiredClaims: 1,
  clockToleranceSeconds: 1,
  maxTokenAgeSeconds: 1,
  maxTokenLength: 1,
  maxTokenLifetimeSeconds: 1,
  typ: 1,
  cache: 1,
  clock: 1,
  logger: 1,
  validate: 1,
  name: 1,
  realm: 1,
  level: 1,
  dpop: 1,
  clientCertificate: 1,
  mapPrincipal: 1,
  isRevoked: 1,
});
const ISSUER_KNOWN = optionNames<JwtIssuerOptions>()({
  issuer: 1,
  audience: 1,
  algorithms: 1,
  allowedScopes: 1,
  publicKeys: 1,
  jwksUri: 1,
  jwks: 1,
  discovery: 1,
});

/**
 * Option names of express-oauth2-jwt-bearer, passport-jwt and jsonwebtoken that migrating users
 * pass, with what to write here instead.
 */
const FOREIGN: Readonly<Record<string, string>> = {
  issuerBaseURL: 'express-oauth2-jwt-bearer\'s name: here "issuer", the exact iss value, from which keys are discovered',
  tokenSigningAlg: 'here "algorithms", a list such as ["RS256"]',
  clockTolerance: 'here "clockToleranceSeconds", in seconds',
  leeway: 'here "clockToleranceSeconds", in seconds',
  maxTokenAge: 'here "maxTokenAgeSeconds", in seconds',
  maxAge: 'here "maxTokenAgeSeconds", in seconds',
  keys: 'here "publicKeys"',
  publicKey: 'here "publicKeys", a list of public keys',
  secretOrKeyProvider: 'not supported: give "jwksUri" (or "publicKeys"); keys are fetched and cached here',
  jwtFromRequest: 'not needed: the token is read from Authorization: Bearer (or DPoP)',
  ignoreExpiration: 'not supported: expired tokens are always refused; "clockToleranceSeconds" allows for clock skew',
  jsonWebTokenOptions:
    'give its members at the top level: "audience", "issuer", "algorithms", "clockToleranceSeconds", "maxTokenAgeSeconds"',
  authRequired: 'here authenticate([scheme], { optional: true }) lets requests without a token through',
  passReqToCallback: 'not needed: "mapPrincipal(token)" maps a verified token to the principal',
  validators: 'here "typ", "requiredClaims", "audience" and "issuer", or "mapPrincipal" for your own checks',
  strict: 'here profile: "rfc9068"',
  mcd: 'here "issuers", a list of { issuer, audience, jwksUri? }',
  cacheMaxAge: 'here jwks: { cacheSeconds }, in seconds',
  cooldownDuration: 'here jwks: { cooldownMs }',
  timeoutDuration: 'here jwks: { timeoutMs }',
  agent: 'here jwks: { fetch } (your own fetch, e.g. with a proxy agent)',
  jwksUrl: 'here "jwksUri"',
};

const OBSERVABLE_HINT = 'give "logger" and "validate" at the top level of the scheme options';

/**
 * The options' shape, checked before anything is built: unknown names warn (naming our equivalent
 * of another library's option), a logger at the wrong level warns, shared secrets are refused.
 */
function checkSchemeOptions(options: JwtBearerSchemeOptions): Warnings {
  optionsObject(options, WHERE, false);
  const warnings = new Warnings(WHERE, options);
  const given = options as unknown as Record<string, unknown>;
  for (const name of ['secret', 'secretOrKey']) if (given[name] !== undefined) throw sharedSecretRefused(WHERE, name);
  warnings.unknownOptions(options, KNOWN, FOREIGN);
  const nested = (value: unknown, known: readonly string[], at: string): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const record = value as Record<string, unknown>;
    for (const name of ['secret', 'secretOrKey']) if (record[name] !== undefined) throw sharedSecretRefused(WHERE, `${at}${name}`);
    warnings.unknownOptions(value, known, { ...FOREIGN, logger: OBSERVABLE_HINT, validate: OBSERVABLE_HINT }, at);
  };
  nested(options.dpop, DPOP_OPTION_NAMES, 'dpop.');
  if (Array.isArray(options.issuers)) options.issuers.forEach((entry: unknown, i) => nested(entry, ISSUER_KNOWN, `issuers[${i}].`));
  return warnings;
}

/**
 * The default mapping: `subject = sub ?? client_id ?? azp`, as `issuerSubject(iss, …)` when
 * `qualified` (the default of a scheme with several issuers: `sub` is unique per issuer only); kind
 * `service` when there is no `sub` or it equals the client id, else `user`; scopes from `scope`,
 * `scp` and `permissions`; details with issuer, client id, expiry, key id, `jkt` when DPoP-bound,
 * `x5t#S256` when certificate-bound, and all claims.
 */
export function defaultJwtBearerPrincipal(token: VerifiedAccessToken, level = 0, qualified = false): PrincipalInit {
  const subject = token.subject ?? '';
  return {
    subject: qualified && subject !== '' ? issuerSubject(token.issuer, subject) : subject,
    kind: token.kind,
    scheme: 'jwt-bearer',
    scopes: token.scopes,
    level,
    details: {
      issuer: token.issuer,
      expiresAt: token.expiresAt,
      ...(token.clientId === undefined ? {} : { clientId: token.clientId }),
      ...(token.keyId === undefined ? {} : { keyId: token.keyId }),
      ...(token.jkt === undefined ? {} : { jkt: token.jkt }),
      ...(token.x5t === undefined ? {} : { 'x5t#S256': token.x5t }),
      claims: token.claims,
    },
  };
}

/** The verified token, unless `isRevoked` says it was revoked (a final 401) or cannot answer (503). */
async function revocationChecked(
  token: VerifiedAccessToken,
  isRevoked: NonNullable<JwtBearerSchemeOptions['isRevoked']>,
): Promise<VerifiedAccessToken> {
  let revoked: boolean;
  try {
    revoked = await isRevoked(token);
  } catch (cause) {
    throw isAuthError(cause) ? cause : dependencyUnavailable('revocation_unavailable', cause);
  }
  // A revoked token is refused by every scheme, not only this one: no later scheme may take it.
  if (revoked) throw new AuthError('token_invalid', { reason: 'revoked', detail: 'The token has been revoked.', endsChain: true });
  return token;
}

/**
 * An {@link AuthScheme} for JWT access tokens from one or several OpenID providers.
 *
 * @example
 * const api = jwtBearerScheme({ issuer: 'https://login.example.com/', audience: 'https://api.example.com' });
 * app.get('/orders', authenticate([api]), requireScopes('orders:read'), handler);
 */
export function jwtBearerScheme(options: JwtBearerSchemeOptions): AuthScheme {
  const warnings = checkSchemeOptions(options);
  const verifier = new JwtAccessTokenVerifier(forFactory(options, WHERE));
  const isRevoked = options.isRevoked;
  if (isRevoked !== undefined && typeof isRevoked !== 'function')
    throw optionError(WHERE, 'isRevoked', 'a function (token) => boolean | Promise<boolean>', describeValue(isRevoked));
  const map = options.mapPrincipal;
  if (map !== undefined && typeof map !== 'function')
    throw optionError(WHERE, 'mapPrincipal', 'a function (token) => PrincipalInit', describeValue(map));
  const level = numberOption(options.level, 0, WHERE, 'level');
  const binding = new DpopBinding(options.dpop ?? {}, 'allowed', options.realm, 'jwtBearerScheme', options);
  const certificates =
    options.clientCertificate === undefined ? undefined : new CertificateBinding(options.clientCertificate, WHERE, options);
  // Several issuers: `alice` of one is not `alice` of another, so the default subject names both.
  const qualified = (options.issuers?.length ?? 1) > 1;
  // Principals of the default mapping are built once per verified token (the verifier caches tokens).
  const principals = new WeakMap<VerifiedAccessToken, Principal>();
  const scheme = reportingTo(
    accessTokenScheme(
      options.name ?? 'jwt-bearer',
      binding,
      {
        verify:
          isRevoked === undefined
            ? (token) => verifier.verify(token, CHECKED_HERE)
            : async (token) => revocationChecked(await verifier.verify(token, CHECKED_HERE), isRevoked),
        boundKey: (token) => token.jkt,
        boundCertificate: (token) => token.x5t,
        holder: (token) => (token.subject === undefined ? undefined : JSON.stringify([token.issuer, token.subject])),
        principal(token) {
          if (map) {
            const init = map(token);
            if (!init.subject) throw invalidCredentials('no_subject', 'The token names no subject or client.');
            return createPrincipal({ ...init, scheme: init.scheme ?? 'jwt-bearer' });
          }
          let principal = principals.get(token);
          if (!principal) {
            const init = defaultJwtBearerPrincipal(token, level, qualified);
            if (!init.subject) throw invalidCredentials('no_subject', 'The token names no subject or client.');
            principal = createPrincipal(init);
            principals.set(token, principal);
          }
          return principal;
        },
      },
      certificates,
    ),
    warnings,
  );
  // The default mapping of one issuer gives its bare `sub`: authenticate() refuses it beside another issuer's.
  return namingSubjectsOf(scheme, map !== undefined ? undefined : qualified ? '' : (options.issuer ?? options.issuers?.[0]?.issuer));
}
