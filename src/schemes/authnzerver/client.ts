/**
 * A client for a running authnzerver: `POST /` with the encrypted envelope, a unique `reqid` checked
 * on the reply, a deadline, and 503 (`dependency_unavailable`) whenever the server cannot answer
 * properly. Session tokens and keys sent here are never logged or put into errors.
 */
import { randomUUID } from 'node:crypto';
import { observeDependency } from '../../diagnostics.js';
import { AuthError, dependencyUnavailable, isAuthError } from '../../errors.js';
import { isLoopbackHost, readCappedText } from '../../lib/net.js';
import { configurationError, optionError, optionNames, optionsObject, positive } from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import { parseFernetKey, isFernetError } from './fernet.js';
import { decryptMessage, encryptMessage } from './messaging.js';

const WHERE = 'new AuthnzerverClient()';
const KNOWN = optionNames<AuthnzerverClientOptions>()({
  url: 1,
  secret: 1,
  timeoutMs: 1,
  reqid: 1,
  allowInsecure: 1,
  logger: 1,
  validate: 1,
});

/** Retry-After of a 429 without the header (authnzerver sends a fixed 180). */
const DEFAULT_RATE_LIMIT_RETRY_SECONDS = 60;

/**
 * Seconds from a `Retry-After` header (delta-seconds or an HTTP-date, RFC 9110 §10.2.3), kept
 * within 1 s .. 1 h so a hostile or broken value cannot park clients for days.
 */
export function retryAfterSeconds(header: string | null, nowMs: number, fallback: number): number {
  if (header === null) return fallback;
  const text = header.trim();
  let seconds: number;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return fallback;
    seconds = Math.ceil((at - nowMs) / 1000);
  }
  return Math.min(3600, Math.max(1, seconds));
}

/** Options for {@link AuthnzerverClient}. */
export interface AuthnzerverClientOptions extends ObservableOptions {
  /** Base URL, e.g. `http://127.0.0.1:13431`. Use loopback or TLS: the protocol has no replay protection. */
  readonly url: string;
  /** The shared `AUTHNZERVER_SECRET` (a Fernet key). */
  readonly secret: string;
  /** Deadline per request, ms (default 2000; finite, > 0). */
  readonly timeoutMs?: number;
  /** Produces request ids (default: random UUIDs). */
  readonly reqid?: () => string;
  /** Allows a non-loopback `http:` URL (default false: only https or loopback). */
  readonly allowInsecure?: boolean;
}

/** The decrypted reply of one request. */
export interface AuthnzerverReply {
  /** Whether the action succeeded. */
  readonly success: boolean;
  /** The action's full result. */
  readonly response: Record<string, unknown>;
  /** Messages from the server. */
  readonly messages: readonly string[];
}

// Replies are small JSON documents; a megabyte is far beyond any of them.
const MAX_REPLY_BYTES = 1024 * 1024;

/** Talks to one authnzerver. */
export class AuthnzerverClient {
  // `#` fields: console.log / util.inspect / JSON.stringify never show the shared secret.
  readonly #url: string;
  readonly #secret: string;
  readonly #timeoutMs: number;
  readonly #reqid: () => string;
  readonly #warnings: Warnings;

  /**
   * @param options url, secret, timeout
   * @throws TypeError `new AuthnzerverClient(): "<option>" must be …` for a URL that is not https
   *   or loopback http, a secret that is not a Fernet key (never echoed), a bad timeout.
   */
  constructor(options: AuthnzerverClientOptions) {
    optionsObject(options, WHERE, false);
    this.#warnings = new Warnings(WHERE, options);
    this.#warnings.unknownOptions(options, KNOWN);
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw optionError(WHERE, 'url', 'an absolute URL such as http://127.0.0.1:13431');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (isLoopbackHost(url.hostname) || options.allowInsecure === true))) {
      throw optionError(WHERE, 'url', 'https or loopback http (set allowInsecure to override)');
    }
    try {
      parseFernetKey(options.secret); // fail at start-up on a bad key
    } catch (cause) {
      throw configurationError(WHERE, '"secret" must be a Fernet key: URL-safe base64 of 32 bytes (AUTHNZERVER_SECRET)', cause);
    }
    this.#url = new URL('/', url).toString();
    this.#secret = options.secret;
    this.#timeoutMs = positive(options.timeoutMs, 2000, WHERE, 'timeoutMs');
    this.#reqid = options.reqid ?? randomUUID;
  }

  /**
   * Checks at start-up that the server answers and shares this client's secret, by sending one
   * `session-exists` for a random token (which changes nothing on the server).
   * @throws Error naming the problem: the server refuses the secret (HTTP 401), cannot be reached,
   *   or answers something that does not decrypt with the secret.
   * @example await client.verify(); app.listen(3000);
   */
  async verify(): Promise<void> {
    try {
      await this.request('session-exists', { session_token: randomUUID() }, '127.0.0.1');
    } catch (error) {
      const reason = isAuthError(error) ? error.reason : undefined;
      const why =
        reason === 'authnzerver_status_401'
          ? 'refused the request (HTTP 401): the "secret" differs from the server\'s AUTHNZERVER_SECRET (or this host is not allowed)'
          : reason === 'authnzerver_bad_reply'
            ? 'answered with a message that does not decrypt with "secret": the secrets differ'
            : reason === 'authnzerver_timeout' || reason === 'authnzerver_unreachable'
              ? `could not be reached (${reason})`
              : `did not answer properly (${reason ?? 'unknown'})`;
      throw new Error(`AuthnzerverClient.verify(): the authnzerver at ${this.#url} ${why}`, { cause: error });
    }
  }

  /**
   * Sends one request. Resolves with the reply for HTTP 200 (including `success: false`); rejects
   * with a 503 AuthError on timeouts, transport errors, non-200 statuses, undecryptable replies
   * and a `reqid` that does not match the one sent.
   */
  async request(name: string, body: Record<string, unknown>, clientIp: string): Promise<AuthnzerverReply> {
    try {
      return await observeDependency('authnzerver', name, this.#url, () => this.#send(name, body, clientIp));
    } catch (error) {
      if (isAuthError(error)) this.#explain(error);
      throw error;
    }
  }

  /** Tells the operator (through the logger) what a 503 from this client means. */
  #explain(error: AuthError): void {
    const reason = error.reason ?? 'authnzerver_error';
    const hint =
      reason === 'authnzerver_status_401'
        ? 'the server refused the request (HTTP 401): the shared secret probably differs from its AUTHNZERVER_SECRET'
        : reason === 'authnzerver_bad_reply'
          ? "the reply did not decrypt: the shared secret probably differs from the server's"
          : reason === 'authnzerver_rate_limited'
            ? `the server rate-limits this client (retry after ${error.retryAfter ?? '?'} s)`
            : `the server did not answer properly (${reason})`;
    this.#warnings.dependencyFailed('authnzerver', reason, `${hint}; requests that need it get 503`, error.cause);
  }

  async #send(name: string, body: Record<string, unknown>, clientIp: string): Promise<AuthnzerverReply> {
    const reqid = this.#reqid();
    const payload = encryptMessage(
      { request: name, body: { ...body, client_ipaddr: clientIp }, reqid, client_ipaddr: clientIp },
      this.#secret,
    );
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      // No redirects (the envelope goes to the configured server only) and a capped answer, as the OAuth client.
      const res = await fetch(this.#url, {
        method: 'POST',
        body: payload,
        redirect: 'error',
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: { 'Content-Type': 'text/plain; charset=UTF-8' },
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await readCappedText(res, MAX_REPLY_BYTES);
    } catch (cause) {
      throw dependencyUnavailable((cause as Error).name === 'TimeoutError' ? 'authnzerver_timeout' : 'authnzerver_unreachable', cause);
    }
    // The server's own Retry-After (authnzerver sends 180 on 429) is passed on to our 503.
    if (status === 429)
      throw dependencyUnavailable(
        'authnzerver_rate_limited',
        undefined,
        retryAfterSeconds(retryAfter, Date.now(), DEFAULT_RATE_LIMIT_RETRY_SECONDS),
      );
    if (status !== 200)
      throw dependencyUnavailable(`authnzerver_status_${status}`, undefined, retryAfterSeconds(retryAfter, Date.now(), 5));
    let message: Record<string, unknown>;
    try {
      message = decryptMessage(text, this.#secret);
    } catch (cause) {
      throw dependencyUnavailable('authnzerver_bad_reply', isFernetError(cause) ? cause.message : undefined);
    }
    // The only mix-up protection the protocol has: the echoed request id.
    if (message['reqid'] !== reqid) throw dependencyUnavailable('authnzerver_reqid_mismatch');
    const response = message['response'];
    const messages = Array.isArray(message['messages']) ? message['messages'].filter((m): m is string => typeof m === 'string') : [];
    return {
      success: message['success'] === true,
      response: typeof response === 'object' && response !== null && !Array.isArray(response) ? (response as Record<string, unknown>) : {},
      messages,
    };
  }
}
