/**
 * The presented API key format: `<prefix>_<id>.<secret>`. The prefix makes keys recognisable (secret
 * scanners, logs), the id allows a direct store lookup without scanning, and the secret carries 256
 * bits from the CSPRNG. Only an HMAC of id and secret is ever stored.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { optionError } from '../../lib/options.js';

/** The parts of a presented key. */
export interface ParsedApiKey {
  /** The readable prefix, e.g. `ak`. */
  readonly prefix: string;
  /** The public key id (16 lowercase hex characters). */
  readonly id: string;
  /** The secret part (base64url of 32 random bytes). Never log or store it. */
  readonly secret: string;
}

/** Length in bytes of the random secret (256 bits). */
export const SECRET_BYTES = 32;

const PREFIX_SYNTAX = /^[A-Za-z][A-Za-z0-9]{0,31}$/;
const KEY_SYNTAX = /^([A-Za-z][A-Za-z0-9]{0,31})_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

/** True when `prefix` is usable: a letter then up to 31 letters or digits. */
export function isValidPrefix(prefix: string): boolean {
  return PREFIX_SYNTAX.test(prefix);
}

/** Parses a presented key; undefined when it is not in the format (the caller answers 401). */
export function parseApiKey(key: string): ParsedApiKey | undefined {
  const m = KEY_SYNTAX.exec(key);
  if (!m) return undefined;
  return { prefix: m[1] as string, id: m[2] as string, secret: m[3] as string };
}

/** Generates a fresh key id and secret under `prefix`. */
export function generateApiKey(prefix: string): ParsedApiKey & { readonly key: string } {
  if (!isValidPrefix(prefix)) throw optionError('generateApiKey()', 'prefix', 'a letter followed by up to 31 letters or digits');
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { prefix, id, secret, key: `${prefix}_${id}.${secret}` };
}

/**
 * The stored form of a key: HMAC-SHA256 under the server pepper over `prefix_id.secret`, hex.
 * A 256-bit random secret needs no slow hash; the pepper means a leaked store alone cannot be
 * used to test guesses offline.
 */
export function hashApiKey(pepper: Uint8Array, parsed: ParsedApiKey): string {
  return hashApiKeyBytes(pepper, parsed).toString('hex');
}

/** {@link hashApiKey} as raw bytes, for the per-request comparison (no hex round trip). */
export function hashApiKeyBytes(pepper: Uint8Array, parsed: ParsedApiKey): Buffer {
  return createHmac('sha256', pepper).update(`${parsed.prefix}_${parsed.id}.${parsed.secret}`).digest();
}

/**
 * {@link hashApiKeyBytes} under one fixed pepper, for the per-request check: the pepper's inner and
 * outer HMAC pads are hashed once (RFC 2104), so each key costs two copies of a hash state rather
 * than a new HMAC, whose set-up is most of its cost when the request arrives alone (bench/RESULTS.md).
 */
export function apiKeyHasher(pepper: Uint8Array): (parsed: ParsedApiKey) => Buffer {
  const BLOCK = 64;
  const key = pepper.length > BLOCK ? createHash('sha256').update(pepper).digest() : pepper;
  const inner = Buffer.alloc(BLOCK, 0x36);
  const outer = Buffer.alloc(BLOCK, 0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i] = (inner[i] as number) ^ (key[i] as number);
    outer[i] = (outer[i] as number) ^ (key[i] as number);
  }
  const innerState = createHash('sha256').update(inner);
  const outerState = createHash('sha256').update(outer);
  inner.fill(0);
  outer.fill(0);
  return (parsed) =>
    outerState
      .copy()
      .update(innerState.copy().update(`${parsed.prefix}_${parsed.id}.${parsed.secret}`).digest())
      .digest();
}

/** Constant-time comparison of two digests; lengths are public (32 bytes for every valid record). */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}
