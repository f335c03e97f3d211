/**
 * The kmsauth scheme for `authenticate()`: Confidant's credential forms (`Authorization: Basic
 * username:token`, or `X-Auth-From` + `X-Auth-Token`) checked by a {@link KmsTokenValidator}.
 */
import { AuthError, dependencyUnavailable, invalidCredentials, malformedRequest } from '../../errors.js';
import { createPrincipal, type Principal } from '../../principal.js';
import { credentialPresence, readToken68, type AuthRequest, type AuthScheme } from '../../scheme.js';
import { KmsauthValidationError, isKmsauthValidationError } from './errors.js';
import { parseUsername } from './token.js';
import type { KmsTokenValidation, KmsTokenValidator } from './validator.js';
import type { PreAuthLimiter } from '../../limits/pre-auth-limit.js';
import { enumOption, hasMethods, numberOption, optionError, optionNames, optionsObject, required } from '../../lib/options.js';
import { reportingTo, Warnings, type ObservableOptions } from '../../lib/warnings.js';

const WHERE = 'kmsauthScheme()';
const KNOWN = optionNames<KmsauthSchemeOptions>()({
  validator: 1,
  userTypes: 1,
  name: 1,
  scopes: 1,
  level: 1,
  logger: 1,
  validate: 1,
  preAuthLimit: 1,
});

/** Options of {@link kmsauthScheme}. */
export interface KmsauthSchemeOptions extends ObservableOptions {
  /** The validator (holds keys, `to` context, caches and the KMS client). */
  readonly validator: KmsTokenValidator;
  /** User types admitted (Confidant's `KMS_AUTH_USER_TYPES`; default `['service']`). */
  readonly userTypes?: readonly ('service' | 'user')[];
  /** Scheme name (default `kmsauth`). */
  readonly name?: string;
  /** Scopes given to every principal (default none). */
  readonly scopes?: readonly string[];
  /** Assurance level of principals (default 1; finite). */
  readonly level?: number;
  /** Per-client budget of KMS Decrypt calls (see `preAuthLimit()`); over it: 429, no call. */
  readonly preAuthLimit?: PreAuthLimiter;
}

// Shared by every request without a pre-auth budget: a cache hit allocates no context object.
const NO_HOOKS = Object.freeze({});

function header(req: AuthRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads Confidant's credential forms; undefined when the request carries none. First match wins, Basic first. */
function readCredentials(req: AuthRequest): { username: string; token: string } | undefined {
  const basic = readToken68(req, 'Basic');
  if (basic !== undefined) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(basic) || basic.length % 4 !== 0)
      throw malformedRequest('basic_encoding', 'The Basic credentials are not valid base64.');
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const username = colon === -1 ? decoded : decoded.slice(0, colon);
    // An empty Basic username is not a kmsauth credential (as in Confidant); another scheme may take it.
    if (username !== '') return { username, token: colon === -1 ? '' : decoded.slice(colon + 1) };
  }
  const from = header(req, 'x-auth-from');
  const token = header(req, 'x-auth-token');
  // X-Auth-From alone counts as "no credential", as in Confidant.
  if (from !== undefined && token !== undefined) return { username: from, token };
  return undefined;
}

function toAuthError(error: KmsauthValidationError): AuthError {
  switch (error.code) {
    case 'kms_unavailable':
      return dependencyUnavailable('kms_unavailable', error);
    case 'username_format':
      return malformedRequest('username_format', error.message);
    case 'expired':
      return new AuthError('token_expired', { reason: 'expired', detail: error.message, cause: error });
    default:
      return invalidCredentials(error.code, error.message, error);
  }
}

/**
 * Builds the kmsauth scheme. Principal: subject = `from`, kind = user type, scheme `kmsauth`,
 * details `{ version, keyAlias, keyId, keyArn, account, target, notBefore, notAfter, expiresAt }`.
 *
 * @example
 * const validator = new KmsTokenValidator({ authKey: ['alias/confidant'], userAuthKey: null, toAuthContext: 'my-api', kms });
 * app.get('/v1/things', authenticate([kmsauthScheme({ validator })]), handler);
 * @throws TypeError `kmsauthScheme(): "<option>" must be …` for a missing validator and bad options.
 */
export function kmsauthScheme(options: KmsauthSchemeOptions): AuthScheme {
  optionsObject(options, WHERE, false);
  new Warnings(WHERE, options).unknownOptions(options, KNOWN);
  required(options.validator, hasMethods('decryptToken'), WHERE, 'validator', 'a KmsTokenValidator');
  if (options.userTypes !== undefined && (!Array.isArray(options.userTypes) || options.userTypes.length === 0)) {
    throw optionError(WHERE, 'userTypes', 'a non-empty array of "service" and "user"');
  }
  (options.userTypes ?? []).forEach((t, i) => enumOption(t, ['service', 'user'], undefined, WHERE, `userTypes[${i}]`));
  numberOption(options.level, 1, WHERE, 'level');
  const userTypes = new Set<string>(options.userTypes ?? ['service']);
  const name = options.name ?? 'kmsauth';
  // The validator hands out one frozen answer per cached token, so its principal is built once too.
  const principals = new WeakMap<KmsTokenValidation, Principal>();
  const principalOf = (result: KmsTokenValidation): Principal => {
    let principal = principals.get(result);
    if (principal === undefined) {
      principal = createPrincipal({
        subject: result.from,
        kind: result.userType === 'user' ? 'user' : 'service',
        scheme: 'kmsauth',
        scopes: options.scopes ?? [],
        level: options.level ?? 1,
        details: {
          version: result.version,
          keyAlias: result.keyAlias ?? undefined,
          keyId: result.keyAlias ?? result.keyArn,
          keyArn: result.keyArn,
          account: result.account,
          target: options.validator.toAuthContext,
          notBefore: result.notBefore / 1000,
          notAfter: result.notAfter / 1000,
          expiresAt: result.notAfter / 1000,
        },
      });
      principals.set(result, principal);
    }
    return principal;
  };
  return reportingTo(
    {
      name,
      challenge: { scheme: 'Basic', params: { realm: 'kmsauth' } },
      hasCredential: credentialPresence(readCredentials),
      async authenticate(req): Promise<Principal | undefined> {
        const credentials = readCredentials(req);
        if (credentials === undefined) return undefined;
        if (credentials.token === '') throw invalidCredentials('token_missing', 'The kmsauth token is empty.');
        try {
          // Checked before any KMS call, as Confidant does.
          const { userType } = parseUsername(credentials.username);
          if (!userTypes.has(userType))
            throw invalidCredentials(
              'user_type_not_allowed',
              `User type ${userType === 'user' || userType === 'service' ? userType : 'given'} is not allowed here.`,
            );
          const result = await options.validator.decryptToken(
            credentials.username,
            credentials.token,
            options.preAuthLimit ? { beforeUpstream: options.preAuthLimit.forRequest(req) } : NO_HOOKS,
          );
          return principalOf(result);
        } catch (error) {
          if (isKmsauthValidationError(error)) throw toAuthError(error);
          throw error;
        }
      },
    },
    new Warnings(WHERE, options),
  );
}
