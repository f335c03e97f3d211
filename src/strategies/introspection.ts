/**
 * `Authorization: Bearer <opaque token>` checked by RFC 7662 introspection → a principal.
 * Scheme id `introspection`; challenge `Bearer`.
 */
import { invalidCredentials, malformedRequest } from '../errors.js';
import { createPrincipal, type Principal, type PrincipalInit } from '../principal.js';
import { readAuthorization, type AuthScheme } from '../scheme.js';
import { Introspector, type IntrospectedToken, type IntrospectionOptions } from '../schemes/oauth/introspection.js';

/** Options for {@link introspectionScheme}. */
export interface IntrospectionSchemeOptions extends IntrospectionOptions {
  /** Strategy name (default `introspection`). */
  readonly name?: string;
  /** `realm` of the Bearer challenge, if any. */
  readonly realm?: string;
  /** Assurance level given to every principal (default 0). */
  readonly level?: number;
  /** Replaces the default mapping of an active token to a principal. */
  readonly mapPrincipal?: (token: IntrospectedToken) => PrincipalInit;
}

/**
 * The default mapping: `subject = sub ?? client_id`, `kind = sub ? 'user' : 'service'`, scopes from
 * `scope`, and details with issuer, client id, expiry, `purpose`, `authorization_id` and all claims.
 */
export function defaultIntrospectionPrincipal(token: IntrospectedToken, level = 0): PrincipalInit {
  const c = token.claims;
  const subject = token.subject ?? token.clientId ?? '';
  return {
    subject,
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
 * An {@link AuthScheme} for opaque OAuth 2.0 bearer tokens.
 *
 * @example
 * const introspection = introspectionScheme({
 *   issuer: 'https://as.example.com',
 *   clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: process.env.RS_SECRET! },
 *   maxCacheSeconds: 30,
 * });
 * app.get('/orders', authenticate([introspection]), requireScopes('orders:read'), handler);
 */
export function introspectionScheme(options: IntrospectionSchemeOptions): AuthScheme {
  const introspector = new Introspector(options);
  return {
    name: options.name ?? 'introspection',
    challenge: options.realm === undefined ? { scheme: 'Bearer' } : { scheme: 'Bearer', params: { realm: options.realm } },
    async authenticate(req): Promise<Principal | undefined> {
      const token = readAuthorization(req, 'Bearer');
      if (token === undefined) return undefined;
      // RFC 6750 §2.1: b64token syntax.
      if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw malformedRequest('bearer_syntax', 'The Bearer credentials are not a valid token.');
      const verified = await introspector.verify(token);
      const init = options.mapPrincipal ? options.mapPrincipal(verified) : defaultIntrospectionPrincipal(verified, options.level);
      if (!init.subject) throw invalidCredentials('no_subject', 'The token names no subject or client.');
      return createPrincipal({ ...init, scheme: init.scheme ?? 'introspection' });
    },
  };
}
