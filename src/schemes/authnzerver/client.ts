/**
 * A client for a running authnzerver: `POST /` with the encrypted envelope, a unique `reqid` checked
 * on the reply, a deadline, and 503 (`dependency_unavailable`) whenever the server cannot answer
 * properly. Session tokens and keys sent here are never logged or put into errors.
 */
import { randomUUID } from 'node:crypto';
import { dependencyUnavailable } from '../../errors.js';
import { isLoopbackHost, readCappedText } from '../../net.js';
import { parseFernetKey, FernetError } from './fernet.js';
import { decryptMessage, encryptMessage } from './messaging.js';

/** Options for {@link AuthnzerverClient}. */
export interface AuthnzerverClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:13431`. Use loopback or TLS: the protocol has no replay protection. */
  readonly url: string;
  /** The shared `AUTHNZERVER_SECRET` (a Fernet key). */
  readonly secret: string;
  /** Deadline per request, ms (default 2000). */
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

  /** @param options url, secret, timeout */
  constructor(options: AuthnzerverClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (isLoopbackHost(url.hostname) || options.allowInsecure === true))) {
      throw new TypeError('authnzerver URL must be https or loopback http (set allowInsecure to override)');
    }
    parseFernetKey(options.secret); // fail at start-up on a bad key
    this.#url = new URL('/', url).toString();
    this.#secret = options.secret;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#reqid = options.reqid ?? randomUUID;
  }

  /**
   * Sends one request. Resolves with the reply for HTTP 200 (including `success: false`); rejects
   * with a 503 AuthError on timeouts, transport errors, non-200 statuses, undecryptable replies
   * and a `reqid` that does not match the one sent.
   */
  async request(name: string, body: Record<string, unknown>, clientIp: string): Promise<AuthnzerverReply> {
    const reqid = this.#reqid();
    const payload = encryptMessage({ request: name, body: { ...body, client_ipaddr: clientIp }, reqid, client_ipaddr: clientIp }, this.#secret);
    let status: number;
    let text: string;
    try {
      // No redirects (the envelope goes to the configured server only) and a capped answer, as the OAuth client.
      const res = await fetch(this.#url, { method: 'POST', body: payload, redirect: 'error', signal: AbortSignal.timeout(this.#timeoutMs), headers: { 'Content-Type': 'text/plain; charset=UTF-8' } });
      status = res.status;
      text = await readCappedText(res, MAX_REPLY_BYTES);
    } catch (cause) {
      throw dependencyUnavailable((cause as Error).name === 'TimeoutError' ? 'authnzerver_timeout' : 'authnzerver_unreachable', cause);
    }
    if (status === 429) throw dependencyUnavailable('authnzerver_rate_limited', undefined, 60);
    if (status !== 200) throw dependencyUnavailable(`authnzerver_status_${status}`);
    let message: Record<string, unknown>;
    try {
      message = decryptMessage(text, this.#secret);
    } catch (cause) {
      throw dependencyUnavailable('authnzerver_bad_reply', cause instanceof FernetError ? cause.message : undefined);
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
