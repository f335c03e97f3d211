/**
 * Client side of DPoP for API calls: a `fetch` that sends `Authorization: DPoP <token>` with a fresh
 * proof per request, remembers each origin's `DPoP-Nonce`, and retries once when the server answers
 * `use_dpop_nonce` (RFC 9449 §9).
 */
import type { PrivateKeyInput } from '../../keys/import.js';
import { createDpopProof, dpopKey, type DpopKey } from './proof.js';

/** Options for {@link createDpopFetch}. */
export interface DpopFetchOptions {
  /** The DPoP private key (the one the token is bound to), or a prepared {@link DpopKey}. */
  readonly key: DpopKey | PrivateKeyInput;
  /** The access token, or a function that returns the current one (e.g. from `TokenClient`). */
  readonly accessToken: string | (() => string | Promise<string>);
  /** The underlying fetch (default the global `fetch`). */
  readonly fetch?: typeof fetch;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

function isDpopKey(value: DpopKey | PrivateKeyInput): value is DpopKey {
  return typeof value === 'object' && value !== null && 'jkt' in value && 'alg' in value && 'jwk' in value;
}

/** True when a response asks for a (new) nonce: 401 `DPoP error="use_dpop_nonce"` with a `DPoP-Nonce`. */
function wantsNonce(response: Response): string | undefined {
  const nonce = response.headers.get('dpop-nonce');
  if (nonce === null || response.status !== 401) return undefined;
  return /error="?use_dpop_nonce"?/.test(response.headers.get('www-authenticate') ?? '') ? nonce : undefined;
}

/**
 * A `fetch` for DPoP-protected APIs.
 * @example
 * const api = createDpopFetch({ key: dpopPrivateKeyPem, accessToken: async () => (await tokens.grantClient()).accessToken });
 * const res = await api('https://api.example.com/orders');
 */
export function createDpopFetch(options: DpopFetchOptions): (input: string | URL, init?: RequestInit) => Promise<Response> {
  const key = isDpopKey(options.key) ? options.key : dpopKey(options.key);
  const doFetch = options.fetch ?? fetch;
  const nonces = new Map<string, string>();
  return async (input, init = {}) => {
    const url = new URL(String(input));
    const method = (init.method ?? 'GET').toUpperCase();
    const token = typeof options.accessToken === 'string' ? options.accessToken : await options.accessToken();
    const send = (nonce: string | undefined): Promise<Response> => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `DPoP ${token}`);
      headers.set(
        'dpop',
        createDpopProof(key, {
          method,
          url: url.href,
          accessToken: token,
          ...(nonce === undefined ? {} : { nonce }),
          ...(options.clock ? { clock: options.clock } : {}),
        }),
      );
      return doFetch(url, { ...init, method, headers });
    };
    let response = await send(nonces.get(url.origin));
    const nonce = wantsNonce(response);
    if (nonce !== undefined) {
      nonces.set(url.origin, nonce);
      // One retry with the server's nonce; a body stream cannot be sent twice, so only replayable bodies.
      if (init.body === undefined || init.body === null || typeof init.body === 'string' || init.body instanceof URLSearchParams) {
        await response.body?.cancel();
        response = await send(nonce);
      }
    } else {
      const fresh = response.headers.get('dpop-nonce');
      if (fresh !== null) nonces.set(url.origin, fresh);
    }
    return response;
  };
}
