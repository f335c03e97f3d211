/**
 * The one HTTP helper of the OAuth client (introspection, token requests, discovery): form POST /
 * JSON GET with a deadline, https only (loopback excepted), no redirects (a 307 would re-send the
 * token and a `client_secret_post` secret to wherever it points) and a cap on the answer's size.
 */
import { isSecureUrl, readCappedText, ResponseTooLargeError, type CappedReadable } from '../../lib/net.js';
import { OAuthClientError, isOAuthClientError } from './errors.js';
import { functionOption, positive, positiveInteger, httpsUrlOption } from '../../lib/options.js';

/**
 * A `fetch`-compatible function (injectable for tests and proxies). It is called with `redirect:
 * 'error'`; a 3xx it returns anyway is refused. `body` and `headers`, when present, let the size cap
 * stop reading early.
 */
export type FetchLike = (
  input: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal; redirect: 'error' },
) => Promise<{ status: number } & CappedReadable>;

/** Transport options shared by every outbound call. */
export interface HttpOptions {
  /** Deadline per request in milliseconds (default 5000). */
  readonly timeoutMs?: number;
  /** Extra headers on every request (e.g. `X-Correlator`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Replaces the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Largest accepted answer, in bytes (default 1 MiB, as `RemoteJwks`); a larger one is an outage. */
  readonly maxResponseBytes?: number;
}

/** Names of the transport options (for the known-options lists of the OAuth constructors). */
export const HTTP_OPTION_NAMES = { timeoutMs: 1, headers: 1, fetch: 1, maxResponseBytes: 1 } as const;

/**
 * Static checks of the transport options, and a configured URL option (`issuer`, an endpoint): it
 * must be https, or http to a loopback host; discovered URLs are checked again before every request.
 * @throws TypeError `<where>: "<option>" must be …`
 */
export function checkHttpOptions(options: HttpOptions, where: string): void {
  positive(options.timeoutMs, 5000, where, 'timeoutMs');
  positiveInteger(options.maxResponseBytes, 1024 * 1024, where, 'maxResponseBytes');
  functionOption(options.fetch, where, 'fetch', 'a fetch-compatible function');
}

/** A configured URL option: https, or http to a loopback host. */
export function secureUrl(value: unknown, where: string, option: string): string {
  return httpsUrlOption(value, where, option);
}

/** A parsed answer: status and JSON object body (undefined when the body is not a JSON object). */
export interface HttpAnswer {
  readonly status: number;
  readonly json: Record<string, unknown> | undefined;
  /** The `DPoP-Nonce` response header, if the server sent one (RFC 9449 §8). */
  readonly dpopNonce?: string;
}

/**
 * True for a failure where the request never got an answer because the pooled connection was
 * already closed by the server (keep-alive race). fetch retries such failures for GET only.
 */
function isStaleConnection(error: unknown): boolean {
  // Duck-typed: fetch's errors may come from another realm, where `instanceof Error` is false.
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (
      code === 'ECONNRESET' ||
      code === 'EPIPE' ||
      code === 'UND_ERR_SOCKET' ||
      (typeof message === 'string' && /other side closed/i.test(message))
    )
      return true;
  }
  return false;
}

/**
 * Sends one request and parses a JSON object body. Network errors and time-outs become
 * `OAuthClientError('unavailable')`; so do redirects and answers over
 * `maxResponseBytes`; every other HTTP status is returned to the caller to judge.
 */
export async function httpJson(
  url: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; form?: URLSearchParams; idempotent?: boolean },
  options: HttpOptions,
): Promise<HttpAnswer> {
  try {
    return await httpJsonOnce(url, init, options);
  } catch (error) {
    // One retry, only for requests that change nothing on the server (introspection, metadata).
    if ((init.idempotent === true || init.method === 'GET') && isOAuthClientError(error) && isStaleConnection(error.cause)) {
      return httpJsonOnce(url, init, options);
    }
    throw error;
  }
}

async function httpJsonOnce(
  url: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; form?: URLSearchParams },
  options: HttpOptions,
): Promise<HttpAnswer> {
  // Discovered endpoints come from the server's metadata: they get the same check as configured ones.
  if (!isSecureUrl(url))
    throw new OAuthClientError('invalid_response', 'refusing a request to a URL that is not https (plain http only for loopback)');
  const doFetch: FetchLike = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}), ...(init.headers ?? {}) };
  if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  let status: number;
  let text: string;
  let dpopNonce: string | null | undefined;
  try {
    const res = await doFetch(url, {
      method: init.method,
      headers,
      ...(init.form ? { body: init.form.toString() } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      redirect: 'error',
    });
    status = res.status;
    dpopNonce = res.headers?.get('dpop-nonce');
    if (status >= 300 && status < 400) {
      await res.body?.cancel().catch(() => undefined);
      throw new OAuthClientError('unavailable', `${new URL(url).origin} answered with a redirect, which is not followed`, { status });
    }
    text = await readCappedText(res, options.maxResponseBytes ?? 1024 * 1024);
  } catch (cause) {
    if (isOAuthClientError(cause)) throw cause;
    const why = cause instanceof ResponseTooLargeError ? cause.message : 'failed';
    throw new OAuthClientError('unavailable', `request to ${new URL(url).origin} ${why === 'failed' ? 'failed' : `refused: ${why}`}`, {
      cause,
    });
  }
  let json: Record<string, unknown> | undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) json = value as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status, json, ...(typeof dpopNonce === 'string' ? { dpopNonce } : {}) };
}

/** Turns a non-2xx answer into a typed error (5xx / non-JSON → unavailable; RFC 6749 §5.2 → oauth_error). */
export function answerError(answer: HttpAnswer, what: string): OAuthClientError {
  const error = typeof answer.json?.['error'] === 'string' ? (answer.json['error'] as string) : undefined;
  const errorDescription =
    typeof answer.json?.['error_description'] === 'string' ? (answer.json['error_description'] as string) : undefined;
  if (answer.status >= 500 || error === undefined) {
    return new OAuthClientError('unavailable', `${what} answered HTTP ${answer.status}`, { status: answer.status });
  }
  return new OAuthClientError('oauth_error', `${what} answered ${error}${errorDescription ? `: ${errorDescription}` : ''}`, {
    status: answer.status,
    error,
    ...(errorDescription === undefined ? {} : { errorDescription }),
  });
}
