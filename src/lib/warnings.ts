/**
 * Configuration warnings and the optional logger. Modelled on express-rate-limit's validations:
 * each warning is a named check with a stable code, reported once per instance, and each can be
 * switched off (`validate: { xff_without_trust_proxy: false }`, or `validate: false` for all).
 *
 * Warnings never carry option values (they may be peppers, secrets or keys): only option names,
 * usernames, URLs (without userinfo, query and fragment) and counts.
 */
import { redactUrlsIn } from '../diagnostics.js';
import { closest } from './options.js';

/** A pino-compatible logger (pino, bunyan, winston's child loggers and `console` all fit). */
export interface Logger {
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
}

/** The codes of the configuration checks (stable; documented in docs/observability.md). */
export type WarningCode =
  /** An option name the factory does not know (a typo, or an option of another factory). */
  | 'unknown_option'
  /** `X-Forwarded-For` arrived while Express's `trust proxy` is off: every client behind the proxy shares one limit. */
  | 'xff_without_trust_proxy'
  /**
   * An in-memory rate limiter or brute-force guard was built under a counter namespace already used in
   * this process: the two count apart, and one built inside a request handler restarts every time.
   */
  | 'limiter_in_request'
  /** A JWK Set entry was skipped (unreadable, unsupported or too weak). */
  | 'jwks_entry_skipped'
  /** A stored public key of an asymmetric JWT user could not be used and was skipped. */
  | 'stored_key_skipped'
  /** kmsauth: `extraContext` named a standard key (`from`, `to`, `user_type`), which is ignored. */
  | 'kmsauth_extra_context_ignored'
  /** kmsauth: a configured key could not be resolved through KMS and was skipped for now. */
  | 'kmsauth_key_unresolved'
  /** DPoP is on without `dpop.origins` or `dpop.url`: a proof's origin is checked against the origin the request's Host names. */
  | 'dpop_origins_unset'
  /** DPoP keeps per-process state (memory replay store, random nonce secret) in an app that looks like one of several instances. */
  | 'dpop_per_process_state'
  /** httpSignatureScheme keeps signature nonces in this process while the app looks like one of several instances. */
  | 'http_signature_per_process_state'
  /**
   * jwtBearerScheme: the token type is not checked and an accepted audience is not a URI, so it may
   * be a client id: an ID token issued to that client would pass as an access token (RFC 8725 §3.11).
   */
  | 'typ_unchecked';

/** Which checks run: `false` turns all off; an object turns single checks off (`{ unknown_option: false }`). */
export type ValidateOptions = boolean | Partial<Record<WarningCode, boolean>>;

/** Options every factory that reports warnings accepts. */
export interface ObservableOptions {
  /** Receives configuration warnings and dependency failures (default: warnings to `console.warn`). */
  readonly logger?: Logger;
  /** Switches configuration checks off, all or by code (default: all on). */
  readonly validate?: ValidateOptions;
}

/** The logger used when none is given: configuration warnings only, to stderr (as express-rate-limit does). */
const consoleLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (fields, message) => console.warn(`authnz-express [${String(fields['code'])}]: ${message ?? ''}`),
  error: () => undefined,
};

/** Least time between two log lines for the same dependency failure reason, ms. */
export const FAILURE_LOG_INTERVAL_MS = 60_000;

// Without a logger, dependency failures go to stderr once per reason and interval for the whole
// process: several schemes and middleware reporting one outage give one line, not one each.
const stderrFailures = new Map<string, number>();

/** Recent enough to skip: the last line for `key` in `seen` was written less than the interval ago. */
function recentlyWritten(seen: Map<string, number>, key: string): boolean {
  const now = Date.now();
  const last = seen.get(key);
  if (last !== undefined && now - last < FAILURE_LOG_INTERVAL_MS) return true;
  seen.set(key, now);
  return false;
}

/** Log fields with every URL in a string value redacted (userinfo, query and fragment). */
function redactedFields(fields: Record<string, unknown>): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) shown[name] = typeof value === 'string' ? redactUrlsIn(value) : value;
  return shown;
}

/** An error's name and message, URLs in it redacted (userinfo, query and fragment). */
function describeCause(cause: unknown): string | undefined {
  // A cause's message may quote the URL it failed on (undici, URL parsing).
  return cause instanceof Error ? redactUrlsIn(`${cause.name}: ${cause.message}`) : undefined;
}

/** Reports the configuration warnings of one instance; each code (and subject) at most once. */
export class Warnings {
  /** The factory, e.g. `rateLimit()`. */
  readonly where: string;
  /** The logger given by the application, if any (dependency failures go only there). */
  readonly logger: Logger | undefined;
  readonly #validate: ValidateOptions;
  readonly #seen = new Set<string>();
  readonly #lastFailure = new Map<string, number>();

  constructor(where: string, options: ObservableOptions = {}) {
    this.where = where;
    this.logger = options.logger;
    this.#validate = options.validate ?? true;
  }

  /** True when the check `code` is switched on. */
  enabled(code: WarningCode): boolean {
    if (this.#validate === false) return false;
    if (this.#validate === true) return true;
    return this.#validate[code] !== false;
  }

  /**
   * Reports `code` once (per `subject`, e.g. a username or URL, when given).
   * @returns true when the warning was written now.
   */
  warn(code: WarningCode, message: string, fields: Record<string, unknown> = {}, subject = ''): boolean {
    if (!this.enabled(code)) return false;
    const key = `${code}\0${subject}`;
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    (this.logger ?? consoleLogger).warn({ code, where: this.where, ...redactedFields(fields) }, `${this.where}: ${redactUrlsIn(message)}`);
    return true;
  }

  /**
   * A dependency failure: to the application's logger when one was given, else one line to stderr
   * (`authnz-express [dependency_unavailable]: … (target=…, reason=…, cause=…)`). Each reason is
   * written at most once per {@link FAILURE_LOG_INTERVAL_MS} (per instance to a logger, per process to
   * stderr), so an outage gives one line a minute, not one per request. Only the dependency, the
   * reason and the cause's name and message are written, never a credential.
   */
  dependencyFailed(target: string, reason: string, message: string, cause?: unknown): void {
    const causeText = describeCause(cause);
    const line = `${this.where}: ${redactUrlsIn(message)}`;
    if (!this.logger) {
      if (recentlyWritten(stderrFailures, reason)) return;
      process.stderr.write(
        `authnz-express [dependency_unavailable]: ${line} (target=${redactUrlsIn(target)}, reason=${reason}${causeText === undefined ? '' : `, cause=${causeText}`})\n`,
      );
      return;
    }
    if (recentlyWritten(this.#lastFailure, reason)) return;
    this.logger.error({ target, reason, where: this.where, ...(causeText === undefined ? {} : { cause: causeText }) }, line);
  }

  /**
   * A configuration error found at run time (e.g. an issuer whose discovery document names another
   * issuer), while requests get 500: written once per code (and subject) to the logger's `error`, or
   * to `console.error` without a logger, whatever `validate` says.
   */
  configurationError(code: string, message: string, fields: Record<string, unknown> = {}, subject = ''): void {
    const key = `error\0${code}\0${subject}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const line = `${this.where}: ${redactUrlsIn(message)}`;
    if (this.logger) this.logger.error({ code, where: this.where, ...redactedFields(fields) }, line);
    else console.error(`authnz-express [${code}]: ${line}`);
  }

  /**
   * Warns about option names the factory does not know (`known` from {@link optionNames}). `foreign`
   * maps names other libraries use for the same thing (a migrating user's options) to what to write
   * here instead; `at` prefixes the names of a nested options object (`dpop.`).
   */
  unknownOptions(options: object, known: readonly string[], foreign: Readonly<Record<string, string>> = {}, at = ''): void {
    if (!this.enabled('unknown_option')) return;
    for (const key of Object.keys(options)) {
      if (known.includes(key)) continue;
      const instead = Object.hasOwn(foreign, key) ? foreign[key] : undefined;
      const hint = instead === undefined ? closest(key, known) : undefined;
      const advice = instead !== undefined ? ` (${instead})` : hint === undefined ? '' : ` (did you mean "${at}${hint}"?)`;
      this.warn('unknown_option', `unknown option "${at}${key}"${advice}; it is ignored`, { option: `${at}${key}` }, `${at}${key}`);
    }
  }
}

// Counter namespaces of the in-memory limiters built in this process (names only, no instances).
const memoryNamespaces = new Set<string>();

/**
 * Records that an in-memory limiter with the counter namespace `namespace` (its key prefix and name)
 * was built, and answers whether one was built before in this process. In memory a limiter's
 * counters belong to its instance: a second one under the same namespace counts apart from the
 * first, and one built inside a request handler starts from zero on every request.
 */
export function memoryNamespaceUsedBefore(namespace: string): boolean {
  if (memoryNamespaces.has(namespace)) return true;
  memoryNamespaces.add(namespace);
  return false;
}

/** The request shape the proxy check reads (Express sets `app` on requests). */
interface ProxyAwareRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly app?: { get?(setting: string): unknown };
}

/**
 * `X-Forwarded-For` with Express's `trust proxy` off: `req.ip` is the proxy's address, so every
 * client behind it shares one limit or lock-out. Checked per request until the first request that
 * carries the header has been judged.
 * @returns true when the check is settled (the caller stops calling it), false to check again.
 */
export function checkForwardedFor(warnings: Warnings, req: ProxyAwareRequest): boolean {
  if (req.headers['x-forwarded-for'] === undefined) return false;
  const app = req.app;
  if (app === undefined || typeof app.get !== 'function') return true; // not Express: no `trust proxy` to consult
  const trust = app.get('trust proxy');
  if (trust === false || trust === undefined || trust === 0) {
    warnings.warn(
      'xff_without_trust_proxy',
      'an X-Forwarded-For header arrived but Express\'s "trust proxy" setting is off, so every client behind the proxy shares one counter (set app.set("trust proxy", <hops>) — see https://expressjs.com/en/guide/behind-proxies.html)',
    );
  }
  return true;
}

const REPORTS_TO = Symbol.for('authnz-express.reportsTo');

/**
 * Marks a scheme (or other object) as reporting its failures to `warnings` too: `authenticate()`
 * tells a scheme's own logger about the 503s the scheme answers. Returns `target`.
 */
export function reportingTo<T extends object>(target: T, ...warnings: ReadonlyArray<Warnings | undefined>): T {
  const list = warnings.filter((w): w is Warnings => w !== undefined);
  if (list.length > 0) Object.defineProperty(target, REPORTS_TO, { value: list, enumerable: false });
  return target;
}

/** The warnings a scheme reports to (see {@link reportingTo}); empty when it was not marked. */
export function reportsOf(target: object): readonly Warnings[] {
  const list = (target as { [REPORTS_TO]?: readonly Warnings[] })[REPORTS_TO];
  return Array.isArray(list) ? list : [];
}

/**
 * Reports one dependency failure to every given logger among `list`; when none of them has one, to
 * stderr once (through the first).
 */
export function dependencyFailedAll(list: readonly Warnings[], target: string, reason: string, message: string, cause?: unknown): void {
  const given = list.filter((w) => w.logger !== undefined);
  for (const w of given.length > 0 ? new Set(given) : list.slice(0, 1)) w.dependencyFailed(target, reason, message, cause);
}
