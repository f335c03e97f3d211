/**
 * `Authorization: Bearer <opaque token>` checked by RFC 7662 introspection → a principal.
 * Scheme id `introspection`; challenge `Bearer`.
 */
import { endingChain, invalidCredentials } from '../../errors.js';
import { createPrincipal, issuerSubject, namingSubjectsOf, type PrincipalInit } from '../../principal.js';
import type { AuthScheme } from '../../scheme.js';
import { accessTokenScheme } from '../jwt-bearer/access-token.js';
import { CertificateBinding } from '../jwt-bearer/certificate-binding.js';
import type { ClientCertificateSourceOptions } from '../../lib/client-certificate.js';
import { confirmationOf } from '../jwt-bearer/claims.js';
import { DpopBinding, type DpopOptions } from '../../protocols/dpop/binding.js';
import type { PreAuthLimiter } from '../../limits/pre-auth-limit.js';
import { introspectorFor, type IntrospectedToken, type IntrospectionOptions } from '../../protocols/oauth/introspection.js';
import { INTROSPECTION_OPTION_NAMES_RECORD } from '../../protocols/oauth/introspection-options.js';
import { functionOption, hasMethods, numberOption, optionError, optionNames, optionsObject } from '../../lib/options.js';
import { reportingTo, Warnings } from '../../lib/warnings.js';

const WHERE = 'introspectionScheme()';
const KNOWN = optionNames<IntrospectionSchemeOptions>()({
  ...INTROSPECTION_OPTION_NAMES_RECORD,
  name: 1,
  realm: 1,
  level: 1,
  mapPrincipal: 1,
  dpop: 1,
  clientCertificate: 1,
  preAuthLimit: 1,
});

/** Options for {@link introspectionScheme}. */
export interface IntrospectionSchemeOptions extends IntrospectionOptions {
  /** Strategy name (default `introspection`). */
  readonly name?: string;
  /** `realm` of the Bearer challenge, if any. */
  readonly realm?: string;
  /** Assurance level given to every principal (default 0; finite). */
  readonly level?: number;
  /** DPoP (RFC 9449) against the answer's `cnf.jkt`; default mode `disabled` (Bearer only; bound tokens refused). */
  readonly dpop?: DpopOptions;
  /**
   * Accept certificate-bound tokens (RFC 8705 §3, `cnf["x5t#S256"]`): where the request's verified
   * client certificate is read, `{ source: 'socket' }` when Node terminates TLS or a trusted proxy's
   * header (`{ source: 'xfcc', trustedProxies: [...] }`, as for `clientCertificateScheme`). Such a
   * token is accepted only with the certificate it names. Default: none, and certificate-bound
   * tokens are refused (`cnf_unsupported`).
   */
  readonly clientCertificate?: ClientCertificateSourceOptions;
  /** Replaces the default mapping of an active token to a principal. */
  readonly mapPrincipal?: (token: IntrospectedToken) => PrincipalInit;
  /** Per-client budget of introspection calls (see `preAuthLimit()`); over it: 429, no call. */
  readonly preAuthLimit?: PreAuthLimiter;
}

/**
 * The default mapping: `subject = sub ?? client_id`, as `issuerSubject(iss, …)` when `qualified`
 * and the answer names an `iss` (the scheme's default when answers are not pinned to one issuer:
 * `sub` is unique per issuer only); `kind = sub ? 'user' : 'service'`, scopes from `scope`, and
 * details with issuer, client id, expiry, `purpose`, `authorization_id` and all claims.
 */
export function defaultIntrospectionPrincipal(token: IntrospectedToken, level = 0, qualified = false): PrincipalInit {
  const c = token.claims;
  const subject = token.subject ?? token.clientId ?? '';
  const iss = c['iss'];
  return {
    subject: qualified && subject !== '' && typeof iss === 'string' ? issuerSubject(iss, subject) : subject,
    kind: token.subject ? 'user' : 'service',
    scheme: 'introspection',
    scopes: token.scopes,
    level,
    details: {
      ...(typeof c['iss'] === 'string' ? { issuer: c['iss'] } : {}),
      ...(token.clientId === undefined ? {} : { clientId: token.clientId }),
      ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt }),
      ...(c['purpose'] === undefined ? {} : { purpose: c['purpose'] }),
      ...(c['authorization_id'] === undefined ? {} : { authorizationId: c['authorization_id'] }),
      claims: c,
    },
  };
}

/**
 * The DPoP key an introspected token is bound to: `cnf.jkt` (RFC 9449 §6.2). A `token_type` of DPoP
 * without one, or a `cnf` with a method other than `jkt` and `x5t#S256`, is refused rather than
 * treated as a bearer token.
 */
function boundKey(token: IntrospectedToken): string | undefined {
  const jkt = confirmationOf(token.claims['cnf'])?.jkt;
  const type = token.claims['token_type'];
  if (jkt === undefined && typeof type === 'string' && type.toLowerCase() === 'dpop')
    throw endingChain(invalidCredentials('claim_invalid', 'The server calls the token DPoP-bound but names no key.'));
  return jkt;
}

/**
 * An {@link AuthScheme} for opaque OAuth 2.0 bearer tokens.
 *
 * @example
 * const introspection = introspectionScheme({
 *   issuer: 'https://as.example.com',
 *   clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: process.env.RS_SECRET! },
 *   cacheSeconds: 30,
 * });
 * app.get('/orders', authenticate([introspection]), requireScopes('orders:read'), handler);
 * @throws TypeError `introspectionScheme(): "<option>" must be …` (see {@link Introspector}).
 */
export function introspectionScheme(options: IntrospectionSchemeOptions): AuthScheme {
  optionsObject(options, WHERE, false);
  new Warnings(WHERE, options).unknownOptions(options, KNOWN);
  numberOption(options.level, 0, WHERE, 'level');
  functionOption(options.mapPrincipal, WHERE, 'mapPrincipal', 'a function (token) => principal');
  if (options.preAuthLimit !== undefined && !hasMethods('forRequest')(options.preAuthLimit))
    throw optionError(WHERE, 'preAuthLimit', 'a limiter from preAuthLimit()');
  const introspector = introspectorFor({ ...options, acceptDpopTokens: true }, WHERE);
  const binding = new DpopBinding(options.dpop ?? {}, 'disabled', options.realm, 'introspectionScheme', options);
  const certificates =
    options.clientCertificate === undefined ? undefined : new CertificateBinding(options.clientCertificate, WHERE, options);
  // Answers not pinned to one issuer (no `issuer`, or `checkIssuer: false`) may name several: qualify `sub`.
  const qualified = options.issuer === undefined || options.checkIssuer === false;
  const scheme = reportingTo(
    accessTokenScheme(
      options.name ?? 'introspection',
      binding,
      {
        verify: (token, req) =>
          introspector.verify(token, options.preAuthLimit ? { beforeUpstream: options.preAuthLimit.forRequest(req) } : {}),
        boundKey,
        // RFC 8705 §3.2: the answer's `cnf["x5t#S256"]` names the certificate the token is bound to.
        boundCertificate: (verified) => confirmationOf(verified.claims['cnf'])?.x5t,
        holder: (verified) => {
          const who = verified.subject ?? verified.clientId;
          return who === undefined ? undefined : JSON.stringify([verified.claims['iss'] ?? '', who]);
        },
        principal(verified) {
          const init = options.mapPrincipal
            ? options.mapPrincipal(verified)
            : defaultIntrospectionPrincipal(verified, options.level, qualified);
          if (!init.subject) throw invalidCredentials('no_subject', 'The token names no subject or client.');
          return createPrincipal({ ...init, scheme: init.scheme ?? 'introspection' });
        },
      },
      certificates,
    ),
    new Warnings(WHERE, options),
  );
  // Pinned to one issuer with the default mapping: bare subjects of that issuer (see authenticate()).
  return namingSubjectsOf(scheme, options.mapPrincipal !== undefined ? undefined : qualified ? '' : options.issuer);
}
