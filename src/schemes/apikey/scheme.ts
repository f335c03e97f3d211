/**
 * API key strategy: reads the key from a header (default `X-API-Key`) or `Authorization: ApiKey <key>`
 * and yields the key's owner as the principal.
 */
import { createPrincipal, type Principal } from '../../principal.js';
import { clientAddress, credentialPresence, readToken68, type AuthRequest, type AuthScheme } from '../../scheme.js';
import { malformedRequest } from '../../errors.js';
import type { ApiKeyManager } from './manager.js';
import type { ApiKeyRecord } from '../../stores/apikey.js';
import { hasMethods, optionError, optionNames, optionsObject, required } from '../../lib/options.js';
import { reportingTo, Warnings, type ObservableOptions } from '../../lib/warnings.js';

const WHERE = 'apiKeyScheme()';
const KNOWN = optionNames<ApiKeySchemeOptions>()({ manager: 1, header: 1, name: 1, logger: 1, validate: 1 });

/** Options for {@link apiKeyScheme}. */
export interface ApiKeySchemeOptions extends ObservableOptions {
  /** The key manager (store + pepper). */
  readonly manager: ApiKeyManager;
  /** Header to read (default `x-api-key`); `false` to accept only `Authorization: ApiKey`. */
  readonly header?: string | false;
  /** Scheme name (default `apikey`). */
  readonly name?: string;
}

/** Reads the presented key, if any. */
export function readApiKey(req: AuthRequest, header: string | false): string | undefined {
  const fromAuthorization = readToken68(req, 'ApiKey');
  const raw = header === false ? undefined : req.headers[header.toLowerCase()];
  if (Array.isArray(raw)) throw malformedRequest('duplicate_api_key', 'Send exactly one API key header.');
  if (fromAuthorization !== undefined && raw !== undefined)
    throw malformedRequest('duplicate_api_key', 'Send the API key in one place only.');
  const value = fromAuthorization ?? raw;
  if (value === undefined) return undefined;
  if (value.trim() === '') throw malformedRequest('empty_api_key', 'The API key is empty.');
  return value.trim();
}

/**
 * Builds the API key scheme.
 * @example app.get('/reports', authenticate([apiKeyScheme({ manager })]), requireScopes('reports:read'), h)
 * @throws TypeError `apiKeyScheme(): "<option>" must be …` for a missing manager or a bad header name.
 */
export function apiKeyScheme(options: ApiKeySchemeOptions): AuthScheme {
  optionsObject(options, WHERE, false);
  new Warnings(WHERE, options).unknownOptions(options, KNOWN);
  required(options.manager, hasMethods('verify'), WHERE, 'manager', 'an ApiKeyManager');
  if (
    options.header !== undefined &&
    options.header !== false &&
    !(typeof options.header === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(options.header))
  ) {
    throw optionError(WHERE, 'header', 'a header name or false');
  }
  const header = options.header ?? 'x-api-key';
  const name = options.name ?? 'apikey';
  const principals = new WeakMap<ApiKeyRecord, Principal>();
  return reportingTo(
    {
      name,
      challenge: { scheme: 'ApiKey' },
      hasCredential: credentialPresence((req) => readApiKey(req, header)),
      async authenticate(req: AuthRequest): Promise<Principal | undefined> {
        const presented = readApiKey(req, header);
        if (presented === undefined) return undefined;
        // The address is read only for IP-bound keys: req.ip runs Express's trust-proxy walk.
        const { record } = await options.manager.verify(presented, {
          get clientIp() {
            return clientAddress(req);
          },
        });
        // A frozen record cannot change, so its principal is built once (the memory store's records are frozen).
        if (!Object.isFrozen(record) || !Object.isFrozen(record.scopes)) return principalOf(record);
        let principal = principals.get(record);
        if (principal === undefined) {
          principal = principalOf(record);
          principals.set(record, principal);
        }
        return principal;
      },
    },
    new Warnings(WHERE, options),
  );
}

function principalOf(record: ApiKeyRecord): Principal {
  return createPrincipal({
    subject: record.owner,
    kind: record.kind,
    scheme: 'apikey',
    scopes: record.scopes,
    level: record.level,
    details: {
      keyId: record.id,
      ...(record.expiresAt === undefined ? {} : { expiresAt: Math.floor(record.expiresAt / 1000) }),
      ...(record.role === undefined ? {} : { role: record.role }),
      ...(record.name === undefined ? {} : { keyName: record.name }),
    },
  });
}
