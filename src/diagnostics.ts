/**
 * Events on `node:diagnostics_channel`, the Node way to observe a library without it choosing a
 * logger or metrics system (undici and Node's own `http` publish the same way):
 *
 * - `authnz:authenticate`: one message per `authenticate()` outcome;
 * - `authnz:dependency`: one message per call to Redis, KMS, a JWKS endpoint, an introspection
 *   endpoint, an authnzerver or a rate-limit store;
 * - `authnz:guard`: one message per refusal by a guard (403, or 401 without a principal).
 *
 * Messages never carry credentials, tokens, keys or secrets: only scheme names, codes, reasons,
 * subjects (who, once verified), targets, timings and endpoint URLs without their userinfo, query
 * and fragment ({@link redactUrl}). Every publisher first checks
 * `channel.hasSubscribers`, so with no subscriber no message object is built and no clock is read
 * (bench/RESULTS.md, "diagnostics channels").
 */
import diagnostics from 'node:diagnostics_channel';
import type { AuthErrorCode } from './errors.js';
import type { PrincipalKind } from './principal.js';

/** Channel names, exported so subscribers need not repeat the strings. */
export const CHANNELS = Object.freeze({
  authenticate: 'authnz:authenticate',
  dependency: 'authnz:dependency',
  guard: 'authnz:guard',
} as const);

/** The message of `authnz:authenticate`. */
export interface AuthenticateEvent {
  /** `success`; `failure` (the request was refused); `anonymous` (no credential, `optional` route). */
  readonly outcome: 'success' | 'failure' | 'anonymous';
  /** The scheme that decided (matched or refused), when one did. */
  readonly scheme: string | undefined;
  /** HTTP status sent (200 stands for "passed on"). */
  readonly status: number;
  /** The error code, on failure. */
  readonly code: AuthErrorCode | undefined;
  /** The error's reason (e.g. `signature_invalid`, `kms_unavailable`), on failure. */
  readonly reason: string | undefined;
  /** The principal's subject, on success. */
  readonly subject: string | undefined;
  /** The principal's kind, on success. */
  readonly kind: PrincipalKind | undefined;
  /** Time from the middleware's start to the outcome, ms. */
  readonly durationMs: number;
}

/** What a dependency is. */
export type DependencyTarget = 'redis' | 'kms' | 'jwks' | 'introspection' | 'authnzerver' | 'rate_limit_store' | (string & {});

/** The message of `authnz:dependency`. */
export interface DependencyEvent {
  /** Which kind of service was called. */
  readonly target: DependencyTarget;
  /** The operation, e.g. `Decrypt`, `session-exists`, `GET`, `consume`. */
  readonly operation: string;
  /** `ok`: it answered (whatever it said); `error`: it did not, or not usably (the request gets 503). */
  readonly outcome: 'ok' | 'error';
  /** Why it failed (a reason code such as `authnzerver_status_401`), on error. */
  readonly reason: string | undefined;
  /**
   * The endpoint URL for HTTP dependencies, without userinfo and fragment and with its query string
   * replaced by `?redacted` (an API key or signature in a JWKS URL is a secret).
   */
  readonly url: string | undefined;
  /** Duration of the call, ms. */
  readonly durationMs: number;
}

/** The message of `authnz:guard`. */
export interface GuardEvent {
  /** The guard, e.g. `requireScopes`, `requireLevel`, `authorize`. */
  readonly guard: string;
  /** HTTP status sent (403, or 401 with no principal). */
  readonly status: number;
  readonly code: AuthErrorCode;
  readonly reason: string | undefined;
  /** Who was refused (undefined without a principal). */
  readonly subject: string | undefined;
  /** The principal's scheme. */
  readonly scheme: string | undefined;
}

/** The channels (module singletons: `diagnostics_channel` also shares them by name across copies). */
export const authenticateChannel = diagnostics.channel(CHANNELS.authenticate);
export const dependencyChannel = diagnostics.channel(CHANNELS.dependency);
export const guardChannel = diagnostics.channel(CHANNELS.guard);

/**
 * Times one dependency call and publishes its outcome, only when someone listens. Returns the
 * call's own promise untouched when nobody does.
 */
export function observeDependency<T>(
  target: DependencyTarget,
  operation: string,
  url: string | undefined,
  call: () => Promise<T>,
  reasonOf: (error: unknown) => string | null | undefined = defaultReason,
): Promise<T> {
  if (!dependencyChannel.hasSubscribers) return call();
  const started = performance.now();
  const shown = url === undefined ? undefined : redactUrl(url);
  const publish = (outcome: 'ok' | 'error', reason: string | undefined): void => {
    const event: DependencyEvent = { target, operation, outcome, reason, url: shown, durationMs: performance.now() - started };
    dependencyChannel.publish(event);
  };
  let pending: Promise<T>;
  try {
    pending = call();
  } catch (error) {
    publish('error', reasonOf(error) ?? undefined);
    throw error;
  }
  return pending.then(
    (value) => {
      publish('ok', undefined);
      return value;
    },
    (error: unknown) => {
      // `null` from reasonOf: the rejection is an answer (e.g. a limiter's "over the limit").
      const reason = reasonOf(error);
      if (reason === null) publish('ok', undefined);
      else publish('error', reason);
      throw error;
    },
  );
}

/** The reason of an AuthError-like value, else the error's name (never its message, which may quote input). */
function defaultReason(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { reason, name } = error as { reason?: unknown; name?: unknown };
  if (typeof reason === 'string') return reason;
  return typeof name === 'string' ? name : undefined;
}

/**
 * A URL as events and log lines show it: userinfo and fragment dropped, the query string replaced by
 * `?redacted`; scheme, host, port and path kept, which is what an operator needs to tell endpoints
 * apart. Configured URLs may carry secrets there (`https://key:secret@…`, `…/jwks?api_key=…`).
 * Text that does not parse as a URL is returned unchanged.
 */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '' && parsed.search === '' && parsed.hash === '') return url;
  parsed.username = '';
  parsed.password = '';
  parsed.hash = '';
  if (parsed.search !== '') parsed.search = 'redacted';
  return parsed.href;
}

// `scheme://` and everything up to white space or a quote: a URL inside a message.
const URL_IN_TEXT = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'<>]+/g;

/** `text` with every URL in it passed through {@link redactUrl} (for log messages and causes). */
export function redactUrlsIn(text: string): string {
  return text.includes('://') ? text.replace(URL_IN_TEXT, redactUrl) : text;
}
