/** Options of RFC 7662 introspection, their static checks, and what a verified token yields. */
import { checkClientAuthentication, type ClientAuthentication } from './client-auth.js';
import { checkHttpOptions, HTTP_OPTION_NAMES, secureUrl, type HttpOptions } from './http.js';
import type { IntrospectionCache } from '../../stores/introspection-cache.js';
import { functionOption, hasMethods, nonNegative, optionError, optionNames, positiveInteger, requireOneOf } from '../../lib/options.js';
import type { ObservableOptions } from '../../lib/warnings.js';

/** The option names of {@link IntrospectionOptions}, as a record (to spread into a scheme's list). */
export const INTROSPECTION_OPTION_NAMES_RECORD: Record<keyof IntrospectionOptions, 1> = {
  endpoint: 1,
  issuer: 1,
  clientAuth: 1,
  checkIssuer: 1,
  audience: 1,
  requiredScopes: 1,
  cache: 1,
  cacheSeconds: 1,
  negativeCacheSeconds: 1,
  clockToleranceSeconds: 1,
  acceptDpopTokens: 1,
  maxTokenLength: 1,
  clock: 1,
  logger: 1,
  validate: 1,
  ...HTTP_OPTION_NAMES,
};

/** The option names of {@link IntrospectionOptions}. */
export const INTROSPECTION_OPTION_NAMES = optionNames<IntrospectionOptions>()(INTROSPECTION_OPTION_NAMES_RECORD);

/**
 * Static checks of the introspection options, cross-option ones first. Secrets are never echoed.
 * @throws TypeError `<where>: "<option>" must be …`
 */
export function checkIntrospectionOptions(options: IntrospectionOptions, where: string): void {
  requireOneOf(options, ['endpoint', 'issuer'], where, '(the endpoint, or the issuer to discover it from)');
  if (options.endpoint !== undefined) secureUrl(options.endpoint, where, 'endpoint');
  if (options.issuer !== undefined) secureUrl(options.issuer, where, 'issuer');
  checkClientAuthentication(options.clientAuth, where);
  checkHttpOptions(options, where);
  if (options.cache !== undefined && options.cache !== false && !hasMethods('get', 'set')(options.cache))
    throw optionError(where, 'cache', 'an IntrospectionCache (get, set) or false');
  functionOption(options.clock, where, 'clock', 'a function () => epoch ms');
  nonNegative(options.cacheSeconds, 60, where, 'cacheSeconds');
  nonNegative(options.negativeCacheSeconds, 5, where, 'negativeCacheSeconds');
  nonNegative(options.clockToleranceSeconds, 0, where, 'clockToleranceSeconds');
  positiveInteger(options.maxTokenLength, 4096, where, 'maxTokenLength');
}

/** Options for {@link Introspector}. */
export interface IntrospectionOptions extends HttpOptions, ObservableOptions {
  /** The introspection endpoint; when absent it is discovered from `issuer`. */
  readonly endpoint?: string;
  /** The authorization server's issuer: used for discovery, as `aud` of `private_key_jwt` assertions and, with `checkIssuer`, to check `iss`. */
  readonly issuer?: string;
  /** How this resource server authenticates to the introspection endpoint (`client_secret_basic`, `client_secret_post` or `private_key_jwt`). */
  readonly clientAuth: ClientAuthentication;
  /** Reject answers whose `iss` (when present) differs from `issuer` (default true when `issuer` is set). */
  readonly checkIssuer?: boolean;
  /** When set, `aud` (string or array) must contain it. */
  readonly audience?: string;
  /** Scopes every token must carry. */
  readonly requiredScopes?: readonly string[];
  /** Result cache; `false` disables caching. Default: a {@link MemoryIntrospectionCache}. */
  readonly cache?: IntrospectionCache | false;
  /**
   * Longest time an active answer is reused, in seconds (default 60). This is how long a revoked
   * token can still be accepted: keep it short where revocation matters. Finite, >= 0.
   */
  readonly cacheSeconds?: number;
  /** Seconds an inactive answer is reused (default 5; 0 disables negative caching; finite, >= 0). */
  readonly negativeCacheSeconds?: number;
  /** Clock skew allowed on `exp` / `nbf`, seconds (default 0; finite, >= 0). */
  readonly clockToleranceSeconds?: number;
  /**
   * Accept `token_type: DPoP` answers (RFC 9449 §6.2) besides Bearer. Only for callers that then
   * check the DPoP proof against `cnf.jkt`, as `introspectionScheme` does (default false).
   */
  readonly acceptDpopTokens?: boolean;
  /** Longest token accepted, in characters (default 4096; an integer >= 1); longer ones are rejected without a call. */
  readonly maxTokenLength?: number;
  readonly clock?: () => number;
}

/** Per-call context of {@link Introspector.verify}. */
export interface IntrospectionContext {
  /** Called right before a call to the server (no cache could answer); may throw to refuse, e.g. a pre-auth budget. */
  readonly beforeUpstream?: () => void;
}

/** An active token's verified facts. */
export interface IntrospectedToken {
  /** The server's answer as received (frozen). */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly subject: string | undefined;
  readonly clientId: string | undefined;
  readonly scopes: readonly string[];
  /** `exp`, epoch seconds. */
  readonly expiresAt: number | undefined;
}
