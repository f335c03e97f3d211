/**
 * What a DPoP proof's `htu` is compared with, built from trusted parts only: the origin from the
 * configured origins (or, by default, a `Host` that is a valid `uri-host [":" port]`, RFC 9112 §3.2),
 * `X-Forwarded-Host` and `-Proto` only when Express's `trust proxy` trusts the peer, and the path
 * exactly as received. Both sides go through the same RFC 3986 §6.2.2 syntax-based normalisation
 * (percent-encoding in upper case, unreserved characters decoded); the origin through WHATWG URL.
 */
import { isIPv6 } from 'node:net';
import { malformedRequest, type AuthError } from '../../errors.js';
import type { AuthRequest } from '../../scheme.js';

/** What Express adds to a request; read when present. */
interface ExpressLike extends AuthRequest {
  readonly originalUrl?: string;
  readonly app?: { get?(setting: string): unknown };
  readonly socket?: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean } | undefined;
}

// RFC 3986 §3.2.2 reg-name narrowed to what DNS names and IPv4 addresses use (no percent-encoding,
// no sub-delims), or an IP-literal; then an optional port.
const HOST = /^(?:\[([0-9A-Fa-f:.]+)\]|[A-Za-z0-9._~-]+)(?::(\d{1,5}))?$/;
const UNRESERVED = /^[A-Za-z0-9._~-]$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;

const badHost = (): AuthError =>
  malformedRequest('host_invalid', 'The Host (or trusted X-Forwarded-Host) header is not a valid host and port.');

/** True when Express's `trust proxy` setting trusts the peer that sent this request. */
export function proxyTrusted(req: AuthRequest): boolean {
  const trust = (req as ExpressLike).app?.get?.('trust proxy fn');
  return (
    typeof trust === 'function' && (trust as (address: string | undefined, hop: number) => unknown)(req.socket?.remoteAddress, 0) === true
  );
}

/** `authority` when it is `uri-host [":" port]` (a name, IPv4 or bracketed IPv6; port <= 65535). */
function validHost(authority: string): boolean {
  const m = HOST.exec(authority);
  if (m === null) return false;
  if (m[1] !== undefined && !isIPv6(m[1])) return false;
  return m[2] === undefined || Number(m[2]) <= 65535;
}

function firstForwarded(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.split(',')[0]?.trim();
}

/** How many times the raw header list holds `name` (lower case); Node folds or drops repeats in `headers`. */
export function countHeader(raw: readonly string[] | undefined, name: string): number {
  if (!raw) return 0;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === name) n++;
  return n;
}

/**
 * The origin the request names: scheme from the socket, host from `Host`; with a trusted proxy,
 * `X-Forwarded-Proto` and `X-Forwarded-Host` (their first values) instead.
 * @throws AuthError 400 `request_malformed` (`host_invalid`) for a missing, repeated or invalid host,
 *   or a forwarded scheme other than http or https.
 */
export function requestOrigin(req: AuthRequest): string {
  const r = req as ExpressLike;
  const trusted = proxyTrusted(req);
  let protocol = r.socket?.encrypted === true ? 'https' : 'http';
  let host = typeof r.headers.host === 'string' ? r.headers.host : undefined;
  if (countHeader(r.rawHeaders, 'host') > 1) throw badHost();
  if (trusted) {
    const proto = firstForwarded(r.headers['x-forwarded-proto']);
    if (proto !== undefined && proto !== '') protocol = proto.toLowerCase();
    const forwarded = firstForwarded(r.headers['x-forwarded-host']);
    if (forwarded !== undefined && forwarded !== '') host = forwarded;
  }
  if (protocol !== 'http' && protocol !== 'https')
    throw malformedRequest('host_invalid', 'The trusted X-Forwarded-Proto header names neither http nor https.');
  if (host === undefined || !validHost(host)) throw badHost();
  try {
    return new URL(`${protocol}://${host}`).origin;
  } catch {
    throw badHost();
  }
}

/**
 * The request's path as received, without the query.
 * @throws AuthError 400 (`request_target`) when the request-target is not origin-form (`/…`).
 */
export function requestPath(req: AuthRequest): string {
  const r = req as ExpressLike;
  const target = r.originalUrl ?? r.url ?? '/';
  if (!target.startsWith('/')) throw malformedRequest('request_target', 'A DPoP request must address a path (origin-form request-target).');
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

/**
 * RFC 3986 §6.2.2.1–2: hex digits of percent-encodings in upper case, percent-encoded unreserved
 * characters decoded; an empty path is `/` (§6.2.3). Undefined for a `%` without two hex digits.
 */
export function normalisePath(path: string): string | undefined {
  if (path === '') return '/';
  if (!path.includes('%')) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!HEX2.test(hex)) return undefined;
    const decoded = String.fromCharCode(Number.parseInt(hex, 16));
    out += UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return out;
}

/** True when a normalised path has a `.` or `..` segment (which routers and URL parsers resolve differently). */
export function hasDotSegment(normalised: string): boolean {
  return normalised.split('/').some((segment) => segment === '.' || segment === '..');
}

/**
 * The form an `htu` (or the expected URL) is compared in: WHATWG origin + normalised path, without
 * query and fragment. Undefined for anything that is not an http(s) URL with a plain authority
 * (no userinfo, no `\`) and a path without dot-segments.
 */
export function htuKey(url: string): string | undefined {
  const m = /^(https?):\/\/([^/?#]*)([^?#]*)/i.exec(url);
  if (m === null) return undefined;
  const authority = m[2] as string;
  if (!validHost(authority)) return undefined;
  const path = normalisePath(m[3] as string);
  if (path === undefined || hasDotSegment(path)) return undefined;
  try {
    return `${new URL(`${(m[1] as string).toLowerCase()}://${authority}`).origin}${path}`;
  } catch {
    return undefined;
  }
}

/**
 * One configured origin (`https://api.example.com`, a port if not the default) in the form
 * {@link requestOrigin} gives; undefined when it is not a bare http(s) origin.
 */
export function originOption(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^https?:\/\/[^/?#]+\/?$/i.test(value)) return undefined;
  // htuKey gives the origin and the path `/`.
  return htuKey(value)?.slice(0, -1);
}
