/**
 * A per-client budget of upstream calls before authentication. Schemes that call out to check a
 * credential (kmsauth → KMS Decrypt, introspection → the authorization server, authnzerver) spend one
 * unit per call they cannot answer from a cache; a client that has spent its budget in the window
 * gets 429 without a call. Without it, a flood of random well-formed tokens from one address becomes
 * one upstream call each: KMS throttling on a shared AWS quota, then 503 for everyone.
 */
import { LRUCache } from 'lru-cache';
import { AuthError } from '../errors.js';
import { clientAddress, type AuthRequest } from '../scheme.js';

/** Options of {@link preAuthLimit}. */
export interface PreAuthLimitOptions {
  /** Upstream calls one client may cause per window (default 30; integer >= 1). */
  readonly max?: number;
  /** Window length, seconds (default 60; > 0). */
  readonly windowSeconds?: number;
  /**
   * The client's key (default: its address, `req.ip` — set Express's `trust proxy` behind a proxy,
   * or every client shares the proxy's budget).
   */
  readonly key?: (req: AuthRequest) => string;
  /** Most clients tracked at once (default 10 000); the least recently seen are forgotten first. */
  readonly maxClients?: number;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

/** A budget shared by the schemes it is passed to. */
export interface PreAuthLimiter {
  /**
   * The spending function for one request: call it right before an upstream call.
   * @throws AuthError 429 `rate_limited` (reason `pre_auth_limit`, with Retry-After) once the
   *   client's budget for the window is spent.
   */
  forRequest(req: AuthRequest): () => void;
}

/**
 * Builds a per-process budget (fixed windows per client key, bounded memory). Pass the same limiter
 * to several schemes to give each client one budget across them.
 * @throws TypeError for a `max`, `windowSeconds` or `maxClients` out of range.
 * @example kmsauthScheme({ validator, preAuthLimit: preAuthLimit({ max: 20, windowSeconds: 60 }) })
 */
export function preAuthLimit(options: PreAuthLimitOptions = {}): PreAuthLimiter {
  const max = options.max ?? 30;
  const windowMs = (options.windowSeconds ?? 60) * 1000;
  const maxClients = options.maxClients ?? 10_000;
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`preAuthLimit(): "max" must be an integer >= 1 (got ${max})`);
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) throw new TypeError(`preAuthLimit(): "windowSeconds" must be a finite number > 0 (got ${options.windowSeconds})`);
  if (!Number.isInteger(maxClients) || maxClients < 1) throw new TypeError(`preAuthLimit(): "maxClients" must be an integer >= 1 (got ${maxClients})`);
  const clock = options.clock ?? Date.now;
  const keyOf = options.key ?? clientAddress;
  const windows = new LRUCache<string, { start: number; used: number }>({ max: maxClients });
  return {
    forRequest(req) {
      return () => {
        const key = keyOf(req);
        const now = clock();
        let w = windows.get(key);
        if (w === undefined || now - w.start >= windowMs) {
          w = { start: now, used: 0 };
          windows.set(key, w);
        }
        if (w.used >= max) {
          throw new AuthError('rate_limited', {
            reason: 'pre_auth_limit',
            detail: 'Too many credentials to check from this client; try again later.',
            retryAfter: Math.max(1, Math.ceil((w.start + windowMs - now) / 1000)),
          });
        }
        w.used++;
      };
    },
  };
}
