/**
 * `asymmetricJwtScheme(options)`: the `Authorization: JWT <token>` scheme of asymmetric_jwt_auth as
 * an AuthScheme for `authenticate([...])`. Header parsing and principal mapping only; the protocol
 * lives in src/schemes/asymmetric-jwt/.
 */
import { AuthError } from '../errors.js';
import { createPrincipal, type Principal, type PrincipalKind } from '../principal.js';
import { credentialPresence, type AuthRequest, type AuthScheme } from '../scheme.js';
import { AsymmetricJwtVerifier, type AsymmetricJwtVerifierOptions } from '../schemes/asymmetric-jwt/verify.js';

/** Options for {@link asymmetricJwtScheme}. */
export interface AsymmetricJwtSchemeOptions extends AsymmetricJwtVerifierOptions {
  /** The `Authorization` scheme word, matched case-insensitively (default `JWT`, Python's `AUTH_METHOD`). */
  readonly authMethod?: string;
  /** Scheme name for `authenticate()` (default `asymmetric-jwt`). */
  readonly name?: string;
  /** Principal kind for users whose record gives none (default `service`). */
  readonly defaultKind?: PrincipalKind;
  /** Level for users whose record gives none (default 0). */
  readonly defaultLevel?: number;
  /**
   * Checked after a token verified (its nonce is then used): true refuses it with 401 `token_invalid`
   * / `revoked`, e.g. `RedisRevocationList.forAsymmetricJwt()`; a rejection (503) refuses it too.
   */
  readonly isRevoked?: (subject: string, claims: Readonly<Record<string, unknown>>) => boolean | Promise<boolean>;
}

/**
 * Splits the header on its first space, as Python does: the scheme word must match; the rest is the
 * token, untrimmed (so `JWT  <jwt>` fails to decode instead of being repaired). No space: not ours.
 */
function readToken(req: AuthRequest, method: string): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const space = header.indexOf(' ');
  if (space === -1) return undefined;
  const scheme = header.slice(0, space);
  if (scheme.toUpperCase() !== method) return undefined;
  return header.slice(space + 1);
}

/**
 * The asymmetric JWT scheme.
 * @example
 * app.get('/orders', authenticate([asymmetricJwtScheme({ users: { 'svc-client': { keys: [pem] } } })]), handler);
 */
export function asymmetricJwtScheme(options: AsymmetricJwtSchemeOptions): AuthScheme {
  const method = (options.authMethod ?? 'JWT').toUpperCase();
  const name = options.name ?? 'asymmetric-jwt';
  const verifier = new AsymmetricJwtVerifier(options);
  return {
    name,
    challenge: { scheme: options.authMethod ?? 'JWT' },
    hasCredential: credentialPresence((req) => readToken(req, method)),
    async authenticate(req): Promise<Principal | undefined> {
      const token = readToken(req, method);
      if (token === undefined) return undefined;
      const result = await verifier.verify(token);
      if (options.isRevoked && (await options.isRevoked(result.username, result.claims))) {
        throw new AuthError('token_invalid', { reason: 'revoked', detail: 'The token has been revoked.' });
      }
      return createPrincipal({
        subject: result.username,
        kind: result.user.kind ?? options.defaultKind ?? 'service',
        scheme: 'asymmetric-jwt',
        scopes: result.user.scopes ?? [],
        level: result.user.level ?? options.defaultLevel ?? 0,
        details: { keyId: result.keyId, algorithm: result.algorithm, via: result.via, claims: Object.freeze({ ...result.claims }) },
      });
    },
  };
}
