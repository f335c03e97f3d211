/**
 * Fernet (https://github.com/fernet/spec) over node:crypto: version 0x80, 64-bit big-endian seconds,
 * 16-byte IV, AES-128-CBC/PKCS7 ciphertext, HMAC-SHA256 over all of it; URL-safe base64 **with
 * padding**, as Python's `cryptography` emits and expects.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthnzError } from '../../errors.js';
import { brandedGuard } from '../../lib/brand.js';

/** Why a token was refused (the message is the reason in Python `cryptography`'s words). */
export class FernetError extends AuthnzError<'fernet_invalid'> {
  constructor(message: string) {
    super('fernet_invalid', message);
  }
}

/** True for a {@link FernetError} from any copy of the library (brand, not `instanceof`). */
export const isFernetError = brandedGuard(FernetError, 'FernetError');

/** Splits a Fernet key (URL-safe base64 of 32 bytes) into signing and encryption halves. */
export function parseFernetKey(key: string | Uint8Array): { signing: Buffer; encryption: Buffer } {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'base64url') : Buffer.from(key);
  if (bytes.length !== 32) throw new FernetError('Fernet key must be 32 bytes (URL-safe base64)');
  return { signing: bytes.subarray(0, 16), encryption: bytes.subarray(16) };
}

/** URL-safe base64 with `=` padding (Node's `base64url` drops it; Python requires it). */
export function base64UrlPadded(data: Uint8Array): string {
  return Buffer.from(data).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Options for {@link fernetEncrypt}. */
export interface FernetEncryptOptions {
  /** Clock, epoch ms (the token carries whole seconds). */
  readonly clock?: () => number;
  /** Fixed IV, for test vectors only. */
  readonly iv?: Uint8Array;
}

/** Encrypts `plaintext` into a Fernet token. */
export function fernetEncrypt(key: string | Uint8Array, plaintext: string | Uint8Array, options: FernetEncryptOptions = {}): string {
  const { signing, encryption } = parseFernetKey(key);
  const iv = options.iv ? Buffer.from(options.iv) : randomBytes(16);
  if (iv.length !== 16) throw new FernetError('IV must be 16 bytes');
  const cipher = createCipheriv('aes-128-cbc', encryption, iv);
  const ciphertext = Buffer.concat([
    cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext),
    cipher.final(),
  ]);
  const header = Buffer.alloc(9);
  header[0] = 0x80;
  header.writeBigUInt64BE(BigInt(Math.floor((options.clock ?? Date.now)() / 1000)), 1);
  const body = Buffer.concat([header, iv, ciphertext]);
  const mac = createHmac('sha256', signing).update(body).digest();
  return base64UrlPadded(Buffer.concat([body, mac]));
}

/** Options for {@link fernetDecrypt}. */
export interface FernetDecryptOptions {
  /** Maximum token age in seconds; undefined accepts any age (as authnzerver does). */
  readonly ttlSeconds?: number;
  /** Clock, epoch ms. */
  readonly clock?: () => number;
}

/** Verifies and decrypts a Fernet token; throws {@link FernetError} on any problem. */
export function fernetDecrypt(key: string | Uint8Array, token: string, options: FernetDecryptOptions = {}): Buffer {
  const { signing, encryption } = parseFernetKey(key);
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(token)) throw new FernetError('token is not URL-safe base64');
  const raw = Buffer.from(token, 'base64url');
  if (raw.length < 1 + 8 + 16 + 16 + 32 || (raw.length - 57) % 16 !== 0) throw new FernetError('token has a wrong length');
  if (raw[0] !== 0x80) throw new FernetError('unknown token version');
  const body = raw.subarray(0, raw.length - 32);
  const mac = createHmac('sha256', signing).update(body).digest();
  if (!timingSafeEqual(mac, raw.subarray(raw.length - 32))) throw new FernetError('token signature mismatch');
  if (options.ttlSeconds !== undefined) {
    const issued = Number(raw.readBigUInt64BE(1));
    const now = Math.floor((options.clock ?? Date.now)() / 1000);
    if (issued + options.ttlSeconds < now) throw new FernetError('token expired');
    if (issued > now + 60) throw new FernetError('token from the future');
  }
  try {
    const decipher = createDecipheriv('aes-128-cbc', encryption, raw.subarray(9, 25));
    return Buffer.concat([decipher.update(raw.subarray(25, raw.length - 32)), decipher.final()]);
  } catch {
    throw new FernetError('token does not decrypt');
  }
}
