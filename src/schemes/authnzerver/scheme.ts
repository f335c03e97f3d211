/**
 * authnzerver bridge strategy: verifies a session token (cookie) or an API key by asking a running
 * authnzerver over its encrypted protocol. Results are cached briefly, keyed by a hash of the token.
 *
 * - Session: cookie `sessionCookie` (default `authnzerver_session`) → `session-exists`.
 * - API key: `Authorization: AuthnzApiKey <Fernet token of the key dict>`; the envelope is ours
 *   (authnzerver defines none), sealed with `apiKeySecret` by {@link sealAuthnzerverApiKey};
 *   → `apikey-verify-nosession` (or `apikey-verify`), then `aud` and `ipa` compared locally.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { invalidCredentials, malformedRequest } from '../../errors.js';
import { createPrincipal, type Principal } from '../../principal.js';
import { clientAddress, credentialPresence, readToken68, type AuthRequest, type AuthScheme } from '../../scheme.js';
import { sameIp } from '../apikey/cidr.js';
import type { AuthnzerverClient } from './client.js';
import type { PreAuthLimiter } from '../../limits/pre-auth-limit.js';
import { fernetDecrypt, fernetEncrypt, FernetError, parseFernetKey, isFernetError } from './fernet.js';
import {
  booleanOption,
  configurationError,
  enumOption,
  functionOption,
  hasMethods,
  nonNegative,
  optionError,
  optionNames,
  optionsObject,
  required,
} from '../../lib/options.js';
import { reportingTo, Warnings, type ObservableOptions } from '../../lib/warnings.js';

const WHERE = 'authnzerverScheme()';
const KNOWN = optionNames<AuthnzerverSchemeOptions>()({
  client: 1,
  sessionCookie: 1,
  apiKeySecret: 1,
  apiKeyMode: 1,
  audience: 1,
  bindIp: 1,
  cacheSeconds: 1,
  name: 1,
  levelOf: 1,
  logger: 1,
  validate: 1,
  preAuthLimit: 1,
});

/** Static checks of {@link authnzerverScheme}'s options (secrets are never echoed). */
function checkOptions(options: AuthnzerverSchemeOptions): void {
  optionsObject(options, WHERE, false);
  new Warnings(WHERE, options).unknownOptions(options, KNOWN);
  required(options.client, hasMethods('request'), WHERE, 'client', 'an AuthnzerverClient');
  if (options.apiKeySecret !== undefined) {
    try {
      parseFernetKey(options.apiKeySecret);
    } catch (cause) {
      throw configurationError(WHERE, '"apiKeySecret" must be a Fernet key: URL-safe base64 of 32 bytes', cause);
    }
  }
  enumOption(options.apiKeyMode, ['nosession', 'session'], 'nosession', WHERE, 'apiKeyMode');
  if (
    options.sessionCookie !== undefined &&
    options.sessionCookie !== false &&
    !(typeof options.sessionCookie === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(options.sessionCookie))
  ) {
    throw optionError(WHERE, 'sessionCookie', 'a cookie name or false');
  }
  nonNegative(options.cacheSeconds, 5, WHERE, 'cacheSeconds');
  functionOption(options.levelOf, WHERE, 'levelOf', 'a function (role) => number');
  booleanOption(options.bindIp, false, WHERE, 'bindIp');
}

/** Options for {@link authnzerverScheme}. */
export interface AuthnzerverSchemeOptions extends ObservableOptions {
  /** The client for the server. */
  readonly client: AuthnzerverClient;
  /** Session cookie name (default `authnzerver_session`); `false` disables sessions. */
  readonly sessionCookie?: string | false;
  /** Fernet key sealing API key envelopes; API keys are not accepted without it. */
  readonly apiKeySecret?: string;
  /** `nosession` (default) or `session` API keys. */
  readonly apiKeyMode?: 'nosession' | 'session';
  /** Required `aud` of API keys (authnzerver does not check it). */
  readonly audience?: string;
  /** Require the API key's `ipa` to be the client address (compared as addresses: `::ffff:127.0.0.1` is `127.0.0.1`). */
  readonly bindIp?: boolean;
  /** Cache verified results this long, seconds (default 5; 0 disables; finite, >= 0). */
  readonly cacheSeconds?: number;
  /** Scheme name (default `authnzerver`). */
  readonly name?: string;
  /** Assurance level per role (default: 0). */
  readonly levelOf?: (role: string) => number;
  /** Per-client budget of calls to the server (see `preAuthLimit()`); over it: 429, no call. */
  readonly preAuthLimit?: PreAuthLimiter;
}

/** Seals an authnzerver API key (the JSON string from `apikey-new*`) into the client-facing envelope. */
export function sealAuthnzerverApiKey(apikeyJson: string, apiKeySecret: string): string {
  return fernetEncrypt(apiKeySecret, apikeyJson);
}

/** Reads one cookie value from a Cookie header. */
export function readCookie(req: AuthRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/**
 * Builds the bridge scheme. Call `client.verify()` at start-up to check the shared secret.
 * @throws TypeError `authnzerverScheme(): "<option>" must be …` for a missing client and bad options.
 */
export function authnzerverScheme(options: AuthnzerverSchemeOptions): AuthScheme {
  checkOptions(options);
  const name = options.name ?? 'authnzerver';
  const cookie = options.sessionCookie ?? 'authnzerver_session';
  const cacheLifetimeMs = Math.round((options.cacheSeconds ?? 5) * 1000);
  const levelOf = options.levelOf ?? (() => 0);
  const cache = cacheLifetimeMs > 0 ? new LRUCache<string, Principal>({ max: 10_000, ttl: cacheLifetimeMs }) : undefined;
  const digest = (kind: string, token: string, ip: string): string =>
    createHash('sha256').update(`${kind}\0${ip}\0${token}`).digest('base64url');

  const principalFor = (userId: unknown, role: unknown, details: Record<string, unknown>): Principal => {
    const subject = str(userId);
    const roleName = str(role) ?? 'authenticated';
    if (subject === undefined) throw invalidCredentials('no_user', 'The credentials could not be verified.');
    return createPrincipal({
      subject,
      kind: 'user',
      scheme: 'authnzerver',
      level: levelOf(roleName),
      details: { role: roleName, ...details },
    });
  };

  const verifySession = async (token: string, ip: string, spend: (() => void) | undefined): Promise<Principal> => {
    spend?.();
    const reply = await options.client.request('session-exists', { session_token: token }, ip);
    const info = reply.response['session_info'];
    if (!reply.success || typeof info !== 'object' || info === null)
      throw invalidCredentials('session_unknown', 'The session is not valid.');
    const s = info as Record<string, unknown>;
    if (s['is_active'] === false) throw invalidCredentials('user_inactive', 'The session is not valid.');
    return principalFor(s['user_id'], s['user_role'], {
      ...(typeof s['email'] === 'string' ? { email: s['email'] } : {}),
      ...(typeof s['full_name'] === 'string' ? { fullName: s['full_name'] } : {}),
      via: 'session',
    });
  };

  const verifyApiKey = async (sealed: string, ip: string, spend: (() => void) | undefined): Promise<Principal> => {
    const secret = options.apiKeySecret as string;
    let dict: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(fernetDecrypt(secret, sealed).toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new FernetError('not an object');
      dict = parsed as Record<string, unknown>;
    } catch (cause) {
      throw invalidCredentials('format', 'The API key is not valid.', isFernetError(cause) ? cause.message : undefined);
    }
    if (options.audience !== undefined && dict['aud'] !== options.audience)
      throw invalidCredentials('audience_invalid', 'The API key is not for this service.');
    // Compared as addresses, as API-key CIDRs are: an app listening on `::` sees `::ffff:127.0.0.1`.
    if (options.bindIp === true && !(typeof dict['ipa'] === 'string' && sameIp(dict['ipa'], ip)))
      throw invalidCredentials('ip_not_allowed', 'The API key may not be used from this address.');
    const request = options.apiKeyMode === 'session' ? 'apikey-verify' : 'apikey-verify-nosession';
    // Only now does the key cost a call: forged or unsealed envelopes were refused locally above.
    spend?.();
    const reply = await options.client.request(request, { apikey_dict: dict, user_id: dict['uid'], user_role: dict['rol'] }, ip);
    if (!reply.success) throw invalidCredentials('apikey_rejected', 'The API key is not valid.');
    return principalFor(dict['uid'], dict['rol'], {
      via: 'apikey',
      ...(typeof dict['aud'] === 'string' ? { target: dict['aud'] } : {}),
      ...(typeof dict['iss'] === 'string' ? { issuer: dict['iss'] } : {}),
    });
  };

  return reportingTo(
    {
      name,
      challenge: { scheme: 'AuthnzApiKey' },
      hasCredential: credentialPresence(
        (req) =>
          (options.apiKeySecret === undefined ? undefined : readToken68(req, 'AuthnzApiKey')) ??
          ((cookie === false ? undefined : readCookie(req, cookie)) || undefined),
      ),
      async authenticate(req) {
        const ip = clientAddress(req);
        const sealed = options.apiKeySecret === undefined ? undefined : readToken68(req, 'AuthnzApiKey');
        const session = cookie === false ? undefined : readCookie(req, cookie);
        let kind: 'apikey' | 'session';
        let token: string;
        if (sealed !== undefined) {
          if (sealed === '') throw malformedRequest('empty_api_key', 'The API key is empty.');
          kind = 'apikey';
          token = sealed;
        } else if (session !== undefined && session !== '') {
          kind = 'session';
          token = session;
        } else return undefined;
        const key = digest(kind, token, ip);
        const cached = cache?.get(key);
        if (cached) return cached;
        const spend = options.preAuthLimit?.forRequest(req);
        const principal = kind === 'apikey' ? await verifyApiKey(token, ip, spend) : await verifySession(token, ip, spend);
        cache?.set(key, principal);
        return principal;
      },
    },
    new Warnings(WHERE, options),
  );
}
