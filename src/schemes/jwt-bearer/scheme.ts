/**
 * OAuth 2.0 JWT access tokens (RFC 9068) as an authentication scheme: `Authorization: Bearer` or,
 * for sender-constrained tokens, `Authorization: DPoP` with a `DPoP` proof (RFC 9449) → principal.
 * Scheme id `jwt-bearer`; challenges `Bearer` and `DPoP algs="…"`.
 */
import { AuthError, dependencyUnavailable, invalidCredentials, isAuthError } from '../../errors.js';
import { describeValue, optionError } from '../../lib/options.js';
import { createPrincipal, issuerSubject, namingSubjectsOf, type Principal, type PrincipalInit } from '../../principal.js';
import type { AuthScheme } from '../../scheme.js';
import { accessTokenScheme } from './access-token.js';
import { DpopBinding, type DpopOptions } from '../../protocols/dpop/binding.js';
import type { VerifiedAccessToken } from './claims.js';
import { JwtAccessTokenVerifier, type JwtAccessTokenVerifierOptions } from './verifier.js';
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
  /** Replaces the default mapping of a verified token to a principal (your claim names, roles, kind). */
  readonly mapPrincipal?: (token: VerifiedAccessToken) => PrincipalInit;
  /**
   * Checked on every request, cached token or not: true refuses the token (401 `revoked`, ending the
   * chain), e.g. a lookup of its `jti` in a revocation list. A throw or rejection is a 503.
   */
  readonly isRevoked?: (token: VerifiedAccessToken) => boolean | Promise<boolean>;
}

/**
 * The default mapping: `subject = sub ?? client_id ?? azp`, as `issuerSubject(iss, …)` when
 * `qualified` (the default of a scheme with several issuers: `sub` is unique per issuer only); kind
 * `service` when there is no `sub` or it equals the client id, else `user`; scopes from `scope`,
 * `scp` and `permissions`; details with issuer, client id, expiry, key id, `jkt` when DPoP-bound, and
 * all claims.
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
      claims: token.claims,
    },
  };
}

/** The verified token, unless `isRevoked` says it was revoked (a final 401) or cannot answer (503). */
async function revocationChecked(token: VerifiedAccessToken, isRevoked: NonNullable<JwtBearerSchemeOptions['isRevoked']>): Promise<VerifiedAccessToken> {
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
  const verifier = new JwtAccessTokenVerifier(options);
  const isRevoked = options.isRevoked;
  if (isRevoked !== undefined && typeof isRevoked !== 'function') throw optionError('jwtBearerScheme()', 'isRevoked', 'a function (token) => boolean | Promise<boolean>', describeValue(isRevoked));
  const binding = new DpopBinding(options.dpop ?? {}, 'allowed', options.realm, 'jwtBearerScheme', options);
  const map = options.mapPrincipal;
  const level = options.level ?? 0;
  // Several issuers: `alice` of one is not `alice` of another, so the default subject names both.
  const qualified = (options.issuers?.length ?? 1) > 1;
  // Principals of the default mapping are built once per verified token (the verifier caches tokens).
  const principals = new WeakMap<VerifiedAccessToken, Principal>();
  const scheme = reportingTo(accessTokenScheme(options.name ?? 'jwt-bearer', binding, {
    verify: isRevoked === undefined ? (token) => verifier.verify(token) : async (token) => revocationChecked(await verifier.verify(token), isRevoked),
    boundKey: (token) => token.jkt,
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
  }), new Warnings('jwtBearerScheme()', options));
  // The default mapping of one issuer gives its bare `sub`: authenticate() refuses it beside another issuer's.
  return namingSubjectsOf(scheme, map !== undefined ? undefined : qualified ? '' : (options.issuer ?? options.issuers?.[0]?.issuer));
}
