/**
 * The contract between `authenticate()` and each scheme. A scheme reads its credential from the
 * request and answers one of three things: "not mine" (undefined), a principal, or an AuthError.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Challenge } from './errors.js';
import type { Principal } from './principal.js';

/** The parts of a request a scheme may read. Works with Node, Express 4/5 and Connect requests. */
export interface AuthRequest {
  readonly headers: IncomingHttpHeaders;
  /** Raw header list, used to detect repeated headers that Node folds or drops. */
  readonly rawHeaders?: readonly string[];
  /** Express's `req.ip` when available (honours `trust proxy`). */
  readonly ip?: string | undefined;
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined;
  readonly method?: string | undefined;
  readonly url?: string | undefined;
}

/** One authentication scheme, framework-free. */
export interface AuthScheme {
  /** Unique name; also the Passport strategy name. */
  readonly name: string;
  /** The challenge sent when the credential is missing (e.g. `{ scheme: 'Bearer' }`). */
  readonly challenge: Challenge;
  /**
   * Every challenge sent when the request carries no credential, when the scheme accepts several
   * (e.g. `Bearer` and `DPoP algs="…"`); default `[challenge]`.
   */
  readonly challenges?: readonly Challenge[];
  /**
   * Verifies the request's credential of this scheme.
   * @returns the principal, or `undefined` when the request carries no credential of this scheme.
   * @throws AuthError when the credential is present but wrong (401), malformed (400), or cannot be
   *   checked now (503).
   */
  authenticate(req: AuthRequest): Promise<Principal | undefined>;
  /**
   * Optional: whether the request carries a credential of this scheme (present, not verified). Cheap
   * and without side effects; `bruteForce()` counts and locks only requests for which it is true, so
   * a locked address keeps anonymous access to optional routes. Schemes without it count as present.
   */
  hasCredential?(req: AuthRequest): boolean;
}

/**
 * Builds {@link AuthScheme.hasCredential} from a scheme's credential reader: present when the reader
 * finds something, and also when it throws (a malformed credential is still an attempt).
 */
export function credentialPresence(read: (req: AuthRequest) => unknown): (req: AuthRequest) => boolean {
  return (req) => {
    try {
      return read(req) !== undefined;
    } catch {
      return true;
    }
  };
}

/** The client address of a request: Express's `req.ip`, else the socket's. */
export function clientAddress(req: AuthRequest): string {
  return req.ip ?? req.socket?.remoteAddress ?? 'unknown';
}

/**
 * Splits an `Authorization` header into scheme and credentials when its scheme matches
 * `schemeName` (case-insensitive). Returns undefined for other schemes or no header.
 */
export function readAuthorization(req: AuthRequest, schemeName: string): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme.length !== schemeName.length || scheme.toLowerCase() !== schemeName.toLowerCase()) return undefined;
  return space === -1 ? '' : header.slice(space + 1).trim();
}
