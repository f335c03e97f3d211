/**
 * `Authorization: Bearer <opaque token>` checked by RFC 7662 introspection → a principal.
 * Scheme id `introspection`; challenge `Bearer`.
 */
import { invalidCredentials } from '../errors.js';
import { createPrincipal, type Principal, type PrincipalInit } from '../principal.js';
import { credentialPresence, type AuthScheme } from '../scheme.js';
import { DpopBinding, type DpopOptions } from '../schemes/dpop/binding.js';
import type { PreAuthLimiter } from '../middleware/pre-auth-limit.js';
import { Introspector, type IntrospectedToken, type IntrospectionOptions } from '../schemes/oauth/introspection.js';

/** Options for {@link introspectionScheme}. */
export interface IntrospectionSchemeOptions extends IntrospectionOptions {
  /** Strategy name (default `introspection`). */
  readonly name?: string;
  /** `realm` of the Bearer challenge, if any. */
  readonly realm?: string;
  /** Assurance level given to every principal (default 0). */
  readonly level?: number;
  /** DPoP (RFC 9449) against the answer's `cnf.jkt`; default mode `disabled` (Bearer only; bound tokens refused). */
  readonly dpop?: DpopOptions;
  /** Replaces the default mapping of an active token to a principal. */
  readonly mapPrincipal?: (token: IntrospectedToken) => PrincipalInit;
  /** Per-client budget of introspection calls (see `preAuthLimit()`); over it: 429, no call. */
  readonly preAuthLimit?: PreAuthLimiter;
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
 * The DPoP key an introspected token is bound to: `cnf.jkt` (RFC 9449 §6.2). A `token_type` of DPoP
 * without one is refused rather than treated as a bearer token.
 */
function boundKey(token: IntrospectedToken): string | undefined {
  const cnf = token.claims['cnf'];
  const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['jkt'] : undefined;
  if (jkt !== undefined && (typeof jkt !== 'string' || jkt === '')) throw invalidCredentials('claims_invalid', 'The token has an invalid cnf.jkt.');
  const type = token.claims['token_type'];
  if (jkt === undefined && typeof type === 'string' && type.toLowerCase() === 'dpop') throw invalidCredentials('claims_invalid', 'The server calls the token DPoP-bound but names no key.');
  return jkt as string | undefined;
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
  const introspector = new Introspector({ ...options, acceptDpopTokens: true });
  const binding = new DpopBinding(options.dpop ?? {}, 'disabled', options.realm, 'introspectionScheme');
  return {
    name: options.name ?? 'introspection',
    challenge: binding.challenge,
    challenges: binding.challenges,
    hasCredential: credentialPresence((req) => binding.read(req)),
    async authenticate(req): Promise<Principal | undefined> {
      const presented = binding.read(req);
      if (presented === undefined) return undefined;
      let verified: IntrospectedToken;
      try {
        verified = await introspector.verify(presented.token, options.preAuthLimit ? { beforeUpstream: options.preAuthLimit.forRequest(req) } : {});
      } catch (thrown) {
        throw presented.dpop ? binding.asDpop(thrown) : thrown;
      }
      await binding.check(req, presented, boundKey(verified));
      const init = options.mapPrincipal ? options.mapPrincipal(verified) : defaultIntrospectionPrincipal(verified, options.level);
      if (!init.subject) throw invalidCredentials('no_subject', 'The token names no subject or client.');
      return createPrincipal({ ...init, scheme: init.scheme ?? 'introspection' });
    },
  };
}
