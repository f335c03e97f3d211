/**
 * `asymmetricJwtScheme(options)`: the `Authorization: JWT <token>` scheme of asymmetric_jwt_auth as
 * an AuthScheme for `authenticate([...])`. Header parsing and principal mapping only; the protocol
 * lives in src/schemes/asymmetric-jwt/.
 */
import { AuthError } from '../../errors.js';
import { createPrincipal, type Principal, type PrincipalKind } from '../../principal.js';
import { credentialPresence, readToken68, type AuthScheme } from '../../scheme.js';
import { AsymmetricJwtVerifier, type AsymmetricJwtVerifierOptions } from './verify.js';
import { describeValue, enumOption, forFactory, numberOption, optionError, optionNames, optionsObject } from '../../lib/options.js';
import { reportingTo, Warnings } from '../../lib/warnings.js';

const WHERE = 'asymmetricJwtScheme()';
const KNOWN = optionNames<AsymmetricJwtSchemeOptions>()({
  authMethod: 1,
  name: 1,
  defaultKind: 1,
  defaultLevel: 1,
  users: 1,
  replayStore: 1,
  maxTokenAgeSeconds: 1,
  compat: 1,
  clock: 1,
  jwks: 1,
  maxTokenLength: 1,
  logger: 1,
  validate: 1,
  typ: 1,
  maxTokenLifetimeSeconds: 1,
  isRevoked: 1,
  audience: 1,
  maxNonceLength: 1,
  clockToleranceSeconds: 1,
});

/** Options for {@link asymmetricJwtScheme}. */
export interface AsymmetricJwtSchemeOptions extends AsymmetricJwtVerifierOptions {
  /** The `Authorization` scheme word, matched case-insensitively (default `JWT`, Python's `AUTH_METHOD`). */
  readonly authMethod?: string;
  /** Scheme name for `authenticate()` (default `asymmetric-jwt`). */
  readonly name?: string;
  /** Principal kind for users whose record gives none (default `service`). */
  readonly defaultKind?: PrincipalKind;
  /** Level for users whose record gives none (default 0; finite). */
  readonly defaultLevel?: number;
  /**
   * Checked after a token verified (its nonce is then used): true refuses it with 401 `token_invalid`
   * / `revoked`, e.g. `RedisRevocationList.forAsymmetricJwt()`; a rejection (503) refuses it too.
   */
  readonly isRevoked?: (subject: string, claims: Readonly<Record<string, unknown>>) => boolean | Promise<boolean>;
}

/**
 * The asymmetric JWT scheme.
 * @example
 * app.get('/orders', authenticate([asymmetricJwtScheme({ users: { 'svc-client': { publicKeys: [pem] } } })]), handler);
 * @throws TypeError `asymmetricJwtScheme(): "<option>" must be …` (see {@link AsymmetricJwtVerifier}).
 */
export function asymmetricJwtScheme(options: AsymmetricJwtSchemeOptions): AuthScheme {
  optionsObject(options, WHERE, false);
  const warnings = new Warnings(WHERE, options);
  warnings.unknownOptions(options, KNOWN);
  if (
    options.authMethod !== undefined &&
    !(typeof options.authMethod === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(options.authMethod))
  ) {
    throw optionError(WHERE, 'authMethod', 'an auth-scheme token such as "JWT"');
  }
  enumOption(options.defaultKind, ['service', 'user'], 'service', WHERE, 'defaultKind');
  numberOption(options.defaultLevel, 0, WHERE, 'defaultLevel');
  const method = (options.authMethod ?? 'JWT').toUpperCase();
  const name = options.name ?? 'asymmetric-jwt';
  if (options.isRevoked !== undefined && typeof options.isRevoked !== 'function')
    throw optionError(WHERE, 'isRevoked', 'a function (subject, claims) => boolean | Promise<boolean>', describeValue(options.isRevoked));
  const verifier = new AsymmetricJwtVerifier(forFactory(options, WHERE));
  return reportingTo(
    {
      name,
      challenge: { scheme: options.authMethod ?? 'JWT' },
      hasCredential: credentialPresence((req) => readToken68(req, method)),
      async authenticate(req): Promise<Principal | undefined> {
        // The scheme word matches case-insensitively, as Python's; the header follows the one rule
        // of src/scheme.ts (`JWT  <jwt>` and `JWT a, Bearer b` are 400, where Python answers 500).
        const token = readToken68(req, method);
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
    },
    warnings,
  );
}
