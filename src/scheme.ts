/**
 * The contract between `authenticate()` and each scheme. A scheme reads its credential from the
 * request and answers one of three things: "not mine" (undefined), a principal, or an AuthError.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { malformedRequest, type AuthError, type Challenge } from './errors.js';
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
   * Response headers sent with the 401 of a request that carries no credential, beside the
   * challenges (e.g. `Accept-Signature`, RFC 9421 §5, naming what to sign); never secrets.
   */
  readonly challengeHeaders?: Readonly<Record<string, string>>;
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

// RFC 9110 §11.4 / RFC 7235 §2.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
// `auth-scheme SP` then anything visible. RFC 9110 allows 1*SP; we accept exactly the one space every
// client sends, so `Bearer  <token>` gets the same answer from every scheme (Python's
// asymmetric_jwt_auth keeps the extra space inside the token).
const AUTHORIZATION_SYNTAX = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?: [\x21-\x7e][\x20-\x7e]*)?$/;
// `<scheme> <token68>,…`: a token68 is never followed by a comma, so this is a list of credentials
// (`JWT x, Bearer y`). The Authorization header carries one (RFC 9110 §11.6.2); auth-param lists
// of other schemes (`Digest a="b", c="d"`) do not match.
const CREDENTIAL_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [A-Za-z0-9\-._~+/]+=* *,/;

/** A list needs a comma: the cheap scan first, so the usual single credential never runs the regex. */
function isCredentialList(header: string): boolean {
  return header.includes(',') && CREDENTIAL_LIST.test(header);
}

/** True when `value` is an RFC 7235 token68 (the credential form of Bearer, Basic, JWT, ApiKey, …). */
export function isToken68(value: string): boolean {
  return TOKEN68.test(value);
}

/**
 * The one rule every scheme's `Authorization` header follows, checked by `authenticate()` before
 * any scheme runs: `auth-scheme [ SP credentials ]` with exactly one space, visible ASCII, and one
 * credential (not a comma-separated list). Returns the 400 to answer, or undefined.
 */
export function authorizationSyntaxError(header: string): AuthError | undefined {
  if (!AUTHORIZATION_SYNTAX.test(header)) {
    return malformedRequest('authorization_syntax', 'The Authorization header is not valid auth-scheme syntax.');
  }
  if (isCredentialList(header)) {
    return malformedRequest('authorization_list', 'Send one credential in the Authorization header.');
  }
  return undefined;
}

/**
 * Returns the credentials of an `Authorization` header whose scheme matches `schemeName`
 * (case-insensitive): everything after the single space, untrimmed; `''` when the header is the
 * scheme word alone. Undefined for other schemes or no header.
 */
export function readAuthorization(req: AuthRequest, schemeName: string): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme.length !== schemeName.length || scheme.toLowerCase() !== schemeName.toLowerCase()) return undefined;
  return space === -1 ? '' : header.slice(space + 1);
}

/**
 * The token68 credential of an `Authorization: <schemeName> <token68>` header, or undefined when the
 * header is of another scheme. The same rule for every token scheme, also when a scheme runs
 * without `authenticate()` (as a Passport strategy).
 * @throws AuthError 400 `request_malformed` when the header is a credential list (whatever its
 *   schemes), or is of this scheme but not exactly `<scheme> SP <token68>` (two spaces, no
 *   credential, a space inside).
 */
export function readToken68(req: AuthRequest, schemeName: string): string | undefined {
  const header = req.headers.authorization;
  // A credential list is malformed whoever comes first in it (`JWT x, Bearer y` as `Bearer y, JWT x`).
  if (typeof header === 'string' && isCredentialList(header))
    throw malformedRequest('authorization_list', 'Send one credential in the Authorization header.');
  const credentials = readAuthorization(req, schemeName);
  if (credentials === undefined) return undefined;
  if (!TOKEN68.test(credentials)) {
    throw malformedRequest('authorization_syntax', `Use "Authorization: ${schemeName} <credentials>": one space, one token.`);
  }
  return credentials;
}
