/**
 * The token's pieces shared by generator and validator: usernames, the plaintext and the time format.
 */
import { MESSAGES, KmsauthValidationError } from './errors.js';

/** Minutes subtracted from "now" for `not_before` (python-kmsauth `TOKEN_SKEW`). */
export const TOKEN_SKEW_MINUTES = 3;

/** A parsed kmsauth username. */
export interface KmsauthUsername {
  readonly version: number;
  readonly userType: string;
  readonly from: string;
}

/**
 * Parses `<from>` (v1, user type `service`) or `<version>/<user_type>/<from>`.
 * Decision D6: a non-numeric version is `Unsupported username format.`, never an unexpected error.
 */
export function parseUsername(username: string): KmsauthUsername {
  const parts = username.split('/');
  if (parts.length === 1) return { version: 1, userType: 'service', from: parts[0] as string };
  if (parts.length === 3) {
    const [v, userType, from] = parts as [string, string, string];
    if (!/^[0-9]{1,6}$/.test(v)) throw new KmsauthValidationError(MESSAGES.usernameFormat, 'username_format');
    return { version: Number(v), userType, from };
  }
  throw new KmsauthValidationError(MESSAGES.usernameFormat, 'username_format');
}

/** Builds the username a generator sends: v1 `from`, v2 `2/<user_type>/<from>`. */
export function formatUsername(version: number, from: string, userType: string | undefined): string {
  return version === 1 ? from : `${version}/${userType ?? ''}/${from}`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Formats epoch ms as python-kmsauth's `%Y%m%dT%H%M%SZ` (UTC, seconds precision). */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

/**
 * Parses `%Y%m%dT%H%M%SZ` strictly (decision D11: Python's `strptime` also takes unpadded fields and
 * a lower-case `t`). Returns epoch ms, or undefined when the value is not such a time.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Reject values Date.UTC would roll over (month 13, 31 April, 25:00...).
  return formatTime(ms) === value ? ms : undefined;
}

/**
 * The plaintext exactly as Python's `json.dumps` writes it (`", "` and `": "` separators, key order
 * `not_before`, `not_after`), so tokens are byte-identical to python-kmsauth's.
 */
export function formatPlaintext(notBeforeMs: number, notAfterMs: number): string {
  return `{"not_before": "${formatTime(notBeforeMs)}", "not_after": "${formatTime(notAfterMs)}"}`;
}

/** Decision D5: strict standard base64 with padding; Node's decoder would also take URL-safe or unpadded input. */
export function decodeStrictBase64(token: string): Uint8Array | undefined {
  if (token.length === 0 || token.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  return new Uint8Array(Buffer.from(token, 'base64'));
}
