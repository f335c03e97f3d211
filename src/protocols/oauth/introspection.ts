/**
 * RFC 7662 token introspection, server side: asks the authorization server whether an opaque bearer
 * token is active, with client authentication, a result cache keyed by a hash of the token (never the
 * token itself) and one in-flight call per token. Only `active: true` (the boolean) is accepted.
 */
import { createHash } from 'node:crypto';
import { AuthError, dependencyUnavailable, invalidCredentials, isAuthError, misconfigured, type DependencyReason } from '../../errors.js';
import { clientAuthenticator, type ClientAuthenticator } from './client-auth.js';
import { metadataSourceFor, type MetadataSource } from './discovery.js';
import { OAuthClientError, isOAuthClientError } from './errors.js';
import { httpJson } from './http.js';
import { optionsObject } from '../../lib/options.js';
import { observeDependency } from '../../diagnostics.js';
import { Warnings } from '../../lib/warnings.js';
import { MemoryIntrospectionCache, type IntrospectionCache, type IntrospectionCacheEntry } from '../../stores/introspection-cache.js';
import {
  checkIntrospectionOptions,
  INTROSPECTION_OPTION_NAMES,
  type IntrospectedToken,
  type IntrospectionContext,
  type IntrospectionOptions,
} from './introspection-options.js';

export { MemoryIntrospectionCache } from '../../stores/introspection-cache.js';
export type { IntrospectionCache, IntrospectionCacheEntry, MemoryIntrospectionCacheOptions } from '../../stores/introspection-cache.js';
export type { IntrospectedToken, IntrospectionContext, IntrospectionOptions } from './introspection-options.js';

/** `introspection_status_<n>` for an HTTP answer that is not a usable 200, else `introspection_unavailable`. */
function introspectionReason(error: unknown): DependencyReason {
  return isOAuthClientError(error) && error.status !== undefined ? `introspection_status_${error.status}` : 'introspection_unavailable';
}

// The factory an Introspector names in its messages when a scheme builds it (see introspectorFor).
const builtBy = new WeakMap<IntrospectionOptions, string>();

/**
 * An {@link Introspector} whose option errors and log lines name `where` (e.g. `introspectionScheme()`)
 * instead of `new Introspector()`.
 */
export function introspectorFor(options: IntrospectionOptions, where: string): Introspector {
  const own = { ...optionsObject(options, where, false) };
  builtBy.set(own, where);
  return new Introspector(own);
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Checks opaque tokens against an RFC 7662 endpoint. */
export class Introspector {
  // `#` fields: the options hold the client secret; inspection must not show it.
  readonly #options: IntrospectionOptions;
  readonly #auth: ClientAuthenticator;
  readonly #metadata: MetadataSource | undefined;
  readonly #cache: IntrospectionCache | undefined;
  readonly #inflight = new Map<string, Promise<IntrospectionCacheEntry>>();
  readonly #clock: () => number;
  readonly #warnings: Warnings;

  /**
   * @throws TypeError `new Introspector(): "<option>" must be …` for no endpoint or issuer, a URL
   *   that is not https (plain http only to a loopback host), an unsupported client authentication
   *   method (e.g. `client_secret_jwt`), a missing client id or secret, and numeric options that are
   *   not finite and in range.
   */
  constructor(options: IntrospectionOptions) {
    const where = builtBy.get(options) ?? 'new Introspector()';
    optionsObject(options, where, false);
    this.#warnings = new Warnings(where, options);
    if (!builtBy.has(options)) this.#warnings.unknownOptions(options, INTROSPECTION_OPTION_NAMES);
    checkIntrospectionOptions(options, where);
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#auth = clientAuthenticator(options.clientAuth);
    this.#metadata = options.endpoint ? undefined : metadataSourceFor(options.issuer as string, options, this.#clock);
    this.#cache = options.cache === false ? undefined : (options.cache ?? new MemoryIntrospectionCache({ clock: this.#clock }));
  }

  async #endpoint(): Promise<string> {
    if (this.#options.endpoint) return this.#options.endpoint;
    return (this.#metadata as MetadataSource).endpoint('introspection_endpoint');
  }

  /**
   * The cache key: SHA-256 of endpoint (or issuer), this resource server's client id and the token,
   * so a leaked cache reveals no token, and a cache shared by several resource servers never hands
   * one of them an answer the server gave another (servers may answer per client).
   */
  #cacheKey(token: string): string {
    return createHash('sha256')
      .update(JSON.stringify([this.#options.endpoint ?? this.#options.issuer ?? '', this.#auth.clientId]))
      .update('\0')
      .update(token)
      .digest('base64url');
  }

  /**
   * The server's (possibly cached) answer for `token`.
   * @throws AuthError 503 `dependency_unavailable` when the server or the cache cannot answer.
   */
  async introspect(token: string, context: IntrospectionContext = {}): Promise<IntrospectionCacheEntry> {
    const key = this.#cacheKey(token);
    let cached: IntrospectionCacheEntry | undefined;
    try {
      cached = await this.#cache?.get(key);
    } catch (cause) {
      throw dependencyUnavailable('introspection_cache', cause);
    }
    if (cached) return cached;
    let pending = this.#inflight.get(key);
    if (!pending) {
      context.beforeUpstream?.();
      pending = this.#fetchAndCache(token, key).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  async #fetchAndCache(token: string, key: string): Promise<IntrospectionCacheEntry> {
    const entry = await this.#call(token);
    const now = this.#clock();
    let ttlMs: number;
    if (entry.active) {
      const exp = num(entry.claims['exp']);
      ttlMs = Math.min((this.#options.cacheSeconds ?? 60) * 1000, exp === undefined ? Infinity : exp * 1000 - now);
    } else ttlMs = (this.#options.negativeCacheSeconds ?? 5) * 1000;
    if (this.#cache && ttlMs > 0) {
      try {
        await this.#cache.set(key, entry, ttlMs);
      } catch (cause) {
        throw dependencyUnavailable('introspection_cache', cause);
      }
    }
    return entry;
  }

  async #call(token: string): Promise<IntrospectionCacheEntry> {
    try {
      const endpoint = await this.#endpoint();
      const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
      const headers: Record<string, string> = {};
      this.#auth.apply(form, headers, endpoint, this.#options.issuer, this.#clock());
      // Introspection changes nothing on the server, so a request lost to a stale connection is retried once.
      // Anything but a 200 JSON object means we could not learn the token's state: 503, not cached.
      const json = await observeDependency(
        'introspection',
        'POST',
        endpoint,
        async () => {
          const answer = await httpJson(endpoint, { method: 'POST', headers, form, idempotent: true }, this.#options);
          if (answer.status !== 200 || !answer.json) {
            throw new OAuthClientError('unavailable', `introspection answered HTTP ${answer.status}${answer.json ? '' : ' without JSON'}`, {
              status: answer.status,
            });
          }
          return answer.json;
        },
        introspectionReason,
      );
      if (json['active'] === true) return { active: true, claims: Object.freeze({ ...json }) };
      return { active: false };
    } catch (cause) {
      if (isAuthError(cause)) throw cause;
      // Discovery names another issuer: retrying will not mend it (500, logged; see jwt-bearer keys).
      if (isOAuthClientError(cause) && cause.code === 'configuration') {
        this.#warnings.configurationError(
          'discovery_issuer_mismatch',
          `${cause.message}; introspected tokens get 500 until "issuer" matches`,
          { issuer: this.#options.issuer },
          'discovery',
        );
        throw misconfigured('discovery_issuer_mismatch', cause);
      }
      // A 401 here usually means this resource server's own client credentials are wrong.
      const status = isOAuthClientError(cause) ? cause.status : undefined;
      const hint =
        status === 401 || status === 403 ? ` (HTTP ${status}: check "clientAuth")` : status === undefined ? '' : ` (HTTP ${status})`;
      this.#warnings.dependencyFailed(
        'introspection',
        introspectionReason(cause),
        `the introspection endpoint did not answer usably${hint}; Bearer requests get 503`,
        cause,
      );
      throw dependencyUnavailable('introspection_unavailable', cause);
    }
  }

  /**
   * Verifies `token`: active, not expired, not before `nbf`, and — when configured — issuer,
   * audience, `token_type` Bearer and required scopes.
   * @throws AuthError 401 (`token_invalid` / `token_expired` with a reason) or 503.
   */
  async verify(token: string, context: IntrospectionContext = {}): Promise<IntrospectedToken> {
    if (token.length > (this.#options.maxTokenLength ?? 4096)) throw invalidCredentials('too_large', 'The token is too large.');
    const entry = await this.introspect(token, context);
    if (!entry.active) throw invalidCredentials('inactive', 'The token is not active.');
    const c = entry.claims;
    const now = this.#clock() / 1000;
    const skew = this.#options.clockToleranceSeconds ?? 0;
    const exp = num(c['exp']);
    if (c['exp'] !== undefined && exp === undefined) throw invalidCredentials('claim_invalid', 'The token has an invalid expiry.');
    if (exp !== undefined && exp + skew <= now)
      throw new AuthError('token_expired', { reason: 'expired', detail: 'The token has expired.' });
    const nbf = num(c['nbf']);
    if (nbf !== undefined && nbf - skew > now) throw invalidCredentials('not_yet_valid', 'The token is not valid yet.');
    if (this.#options.issuer && this.#options.checkIssuer !== false && c['iss'] !== undefined) {
      if (String(c['iss']).replace(/\/+$/, '') !== this.#options.issuer.replace(/\/+$/, ''))
        throw invalidCredentials('issuer_invalid', 'The token was issued by another server.');
    }
    if (this.#options.audience !== undefined) {
      const aud = c['aud'];
      const list = Array.isArray(aud) ? aud : [aud];
      if (!list.includes(this.#options.audience)) throw invalidCredentials('audience_invalid', 'The token is not meant for this service.');
    }
    const tokenType = typeof c['token_type'] === 'string' ? c['token_type'].toLowerCase() : undefined;
    if (tokenType !== undefined && tokenType !== 'bearer' && !(tokenType === 'dpop' && this.#options.acceptDpopTokens === true)) {
      throw invalidCredentials('type_invalid', 'The token is not a bearer access token.');
    }
    const scopes = typeof c['scope'] === 'string' ? c['scope'].split(' ').filter((s) => s !== '') : [];
    const missing = (this.#options.requiredScopes ?? []).filter((s) => !scopes.includes(s));
    if (missing.length > 0) throw invalidCredentials('scope', 'The token lacks a required scope.');
    return {
      claims: c,
      subject: typeof c['sub'] === 'string' ? c['sub'] : undefined,
      clientId: typeof c['client_id'] === 'string' ? c['client_id'] : undefined,
      scopes,
      expiresAt: exp,
    };
  }
}
