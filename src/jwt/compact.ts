/**
 * A small, strict JWS compact codec on node:crypto. The algorithm is always chosen by the caller
 * from the key (never from the token): `verifyCompact` only checks that the header names that same
 * algorithm. Shared by every JWT-based scheme.
 */
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { keyFamily, type KeyFamily } from '../keys/import.js';
import { brandedGuard } from '../lib/brand.js';
import { AuthnzError } from '../errors.js';

/** JWS algorithms this suite implements. */
export type JwsAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA';

/** Algorithms each key family may use. */
export const ALGORITHMS_BY_FAMILY: Readonly<Record<KeyFamily, readonly JwsAlgorithm[]>> = {
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  ed25519: ['EdDSA'],
  'ec-p256': ['ES256'],
  'ec-p384': ['ES384'],
};

/** Why a compact token was rejected; stable strings used as error reasons. */
export type JwsFailure =
  'malformed' | 'too_large' | 'header_invalid' | 'payload_invalid' | 'algorithm_not_allowed' | 'critical_header' | 'signature_invalid';

/** A parsed, not yet verified, compact JWS. */
export interface ParsedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** `base64url(header) . base64url(payload)` as bytes. */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/** Thrown by the codec; `code` names the failed check. */
export class JwsError extends AuthnzError<JwsFailure> {}

/** True for a {@link JwsError} from any copy of the library (brand, not `instanceof`). */
export const isJwsError = brandedGuard(JwsError, 'JwsError');

const B64URL = /^[A-Za-z0-9_-]*$/;
const B64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Decodes canonical base64url only: no padding, no stray bits, no other alphabet. */
export function decodeBase64UrlStrict(segment: string): Buffer | undefined {
  if (!B64URL.test(segment) || segment.length % 4 === 1) return undefined;
  // Non-canonical encodings (non-zero trailing bits) decode to the same bytes; reject them. Only
  // the last character can carry such bits: 4 of them after 2 characters of a group, 2 after 3.
  const rest = segment.length % 4;
  if (rest !== 0) {
    const last = B64URL_ALPHABET.indexOf(segment.charAt(segment.length - 1));
    if ((last & (rest === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  }
  return Buffer.from(segment, 'base64url');
}

/**
 * True when a JSON object text repeats a member name at its top level. JSON.parse silently keeps
 * the last one, so `{"sub":"alice","sub":"admin"}` would mean different things to different parsers
 * (RFC 7515 §5.2 and RFC 8725 §3.10 say reject).
 */
export function hasDuplicateTopLevelKeys(text: string): boolean {
  const seen = new Set<string>();
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      i++;
      if (depth === 1) {
        let j = i;
        while (
          j < text.length &&
          (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d || text.charCodeAt(j) === 0x09)
        )
          j++;
        if (text.charCodeAt(j) === 0x3a /* : */) {
          // Compare decoded names, so "a" and "\u0061" count as the same member.
          const raw = text.slice(start, i);
          const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
          if (seen.has(name)) return true;
          seen.add(name);
        }
      }
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    i++;
  }
  return false;
}

// RFC 8259 §8.1: JSON text is UTF-8. A lenient decode turns invalid bytes into U+FFFD, so `C0 AF` in
// `sub` would read as "ali\uFFFDce" here while Python's json.loads refuses the token: the two sides
// would disagree about one signed token. Fatal decoding refuses it; the BOM is kept so that
// JSON.parse refuses it as before.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseJsonObject(bytes: Buffer, failure: 'header_invalid' | 'payload_invalid'): Record<string, unknown> {
  let value: unknown;
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new JwsError(failure, `${failure === 'header_invalid' ? 'header' : 'payload'} is not valid UTF-8`);
  }
  try {
    value = JSON.parse(text);
  } catch {
    throw new JwsError(failure, `${failure === 'header_invalid' ? 'header' : 'payload'} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwsError(failure, `${failure === 'header_invalid' ? 'header' : 'payload'} is not a JSON object`);
  }
  if (hasDuplicateTopLevelKeys(text)) throw new JwsError(failure, 'duplicate member names');
  return value as Record<string, unknown>;
}

/** Default upper bound on a token's length; a JWT for authentication is a few hundred bytes. */
export const DEFAULT_MAX_TOKEN_LENGTH = 8192;

/** Parses a compact JWS without verifying it. */
export function parseCompact(token: string, maxLength = DEFAULT_MAX_TOKEN_LENGTH): ParsedJws {
  if (token.length > maxLength) throw new JwsError('too_large', 'token is too large');
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second === -1 || token.indexOf('.', second + 1) !== -1) throw new JwsError('malformed', 'not a compact JWS');
  const headerBytes = decodeBase64UrlStrict(token.slice(0, first));
  const payloadBytes = decodeBase64UrlStrict(token.slice(first + 1, second));
  const signature = decodeBase64UrlStrict(token.slice(second + 1));
  if (!headerBytes || !payloadBytes || !signature || signature.length === 0) throw new JwsError('malformed', 'not canonical base64url');
  const header = parseJsonObject(headerBytes, 'header_invalid');
  if (typeof header['alg'] !== 'string') throw new JwsError('header_invalid', 'header has no alg');
  // RFC 7515 §4.1.11: unknown critical extensions must be rejected; we understand none.
  if (header['crit'] !== undefined) throw new JwsError('critical_header', 'critical header parameters are not supported');
  const payload = parseJsonObject(payloadBytes, 'payload_invalid');
  return { header, payload, signingInput: Buffer.from(token.slice(0, second), 'ascii'), signature };
}

function digestFor(alg: JwsAlgorithm): string | null {
  switch (alg) {
    case 'RS256':
    case 'PS256':
    case 'ES256':
      return 'sha256';
    case 'RS384':
    case 'PS384':
    case 'ES384':
      return 'sha384';
    case 'RS512':
    case 'PS512':
      return 'sha512';
    case 'EdDSA':
      return null;
  }
}

function keyOptions(
  alg: JwsAlgorithm,
  key: KeyObject,
): KeyObject | { key: KeyObject; padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' } {
  if (alg.startsWith('PS'))
    return { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 + (alg === 'PS384' ? 16 : alg === 'PS512' ? 32 : 0) };
  if (alg === 'ES256' || alg === 'ES384') return { key, dsaEncoding: 'ieee-p1363' };
  return key;
}

/** ECDSA signatures are r || s of exactly the curve's size (RFC 7518 §3.4); DER or padded forms are refused. */
function signatureSizeOk(alg: JwsAlgorithm, signature: Buffer): boolean {
  return !((alg === 'ES256' && signature.length !== 64) || (alg === 'ES384' && signature.length !== 96));
}

/** True when the signature verifies under `alg` and `key`. Never throws for bad signatures. */
export function verifySignature(alg: JwsAlgorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  if (!signatureSizeOk(alg, signature)) return false;
  try {
    return cryptoVerify(digestFor(alg), data, keyOptions(alg, key), signature);
  } catch {
    return false;
  }
}

/**
 * {@link verifySignature} on libuv's thread pool (`crypto.verify` with a callback), so the event
 * loop keeps parsing and answering other requests while a signature is checked. For uncached
 * verification only: a cache hit answers faster than the hop to the pool costs. The pool has
 * `UV_THREADPOOL_SIZE` threads (default 4). Never rejects for bad signatures.
 */
export function verifySignatureAsync(alg: JwsAlgorithm, key: KeyObject, data: Buffer, signature: Buffer): Promise<boolean> {
  if (!signatureSizeOk(alg, signature)) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      cryptoVerify(digestFor(alg), data, keyOptions(alg, key), signature, (error, ok) => resolve(error === null && ok));
    } catch {
      resolve(false); // a key of the wrong type throws synchronously
    }
  });
}

/** Signs bytes with `alg` and `key`. */
export function signBytes(alg: JwsAlgorithm, key: KeyObject, data: Buffer): Buffer {
  return cryptoSign(digestFor(alg), data, keyOptions(alg, key));
}

/** The algorithms `key` may verify, narrowed to `allowed` when given. */
export function algorithmsForKey(key: KeyObject, allowed?: readonly JwsAlgorithm[]): readonly JwsAlgorithm[] {
  const own = ALGORITHMS_BY_FAMILY[keyFamily(key)];
  return allowed ? own.filter((a) => allowed.includes(a)) : own;
}

/**
 * Verifies a parsed token against one key. The header's `alg` must be one the key allows;
 * the key decides, the token only names its choice.
 */
export function verifyParsed(parsed: ParsedJws, key: KeyObject, allowed: readonly JwsAlgorithm[]): void {
  const alg = parsed.header['alg'] as string;
  if (!(allowed as readonly string[]).includes(alg)) throw new JwsError('algorithm_not_allowed', 'algorithm not allowed for this key');
  if (!verifySignature(alg as JwsAlgorithm, key, parsed.signingInput, parsed.signature)) {
    throw new JwsError('signature_invalid', 'signature does not verify');
  }
}

/**
 * RFC 8725 §3.11 explicit typing: true when the header's `typ` names `expected`. Compared as media
 * types are (RFC 7515 §4.1.9): case-insensitively, with or without the `application/` prefix.
 */
export function typMatches(header: Readonly<Record<string, unknown>>, expected: string): boolean {
  const typ = header['typ'];
  if (typeof typ !== 'string') return false;
  const bare = (t: string): string => {
    const lower = t.toLowerCase();
    return lower.startsWith('application/') ? lower.slice(12) : lower;
  };
  return bare(typ) === bare(expected);
}

/** Builds a compact JWS from exact header and payload bytes (so byte-identical output is possible). */
export function signCompact(alg: JwsAlgorithm, key: KeyObject, headerJson: string, payloadJson: string): string {
  const input = `${Buffer.from(headerJson, 'utf8').toString('base64url')}.${Buffer.from(payloadJson, 'utf8').toString('base64url')}`;
  return `${input}.${signBytes(alg, key, Buffer.from(input, 'ascii')).toString('base64url')}`;
}

/** The default JWS algorithm for a key: RS256, ES256 or EdDSA. */
export function defaultAlgorithm(key: KeyObject): JwsAlgorithm {
  return ALGORITHMS_BY_FAMILY[keyFamily(key)][0] as JwsAlgorithm;
}
