/**
 * authnzerver's message envelope (messaging.py): `base64(fernet(json))`, the Fernet token's ASCII
 * base64-encoded once more with the standard alphabet.
 */
import { fernetDecrypt, fernetEncrypt, FernetError, type FernetEncryptOptions } from './fernet.js';

/** Encrypts a JSON-serialisable message into a request or response body. */
export function encryptMessage(message: unknown, secret: string | Uint8Array, options: FernetEncryptOptions = {}): string {
  return Buffer.from(fernetEncrypt(secret, JSON.stringify(message), options), 'ascii').toString('base64');
}

/** Decrypts a body into its JSON message; throws {@link FernetError} when it does not verify or parse. */
export function decryptMessage(body: string, secret: string | Uint8Array, ttlSeconds?: number): Record<string, unknown> {
  const trimmed = body.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new FernetError('body is not base64');
  const token = Buffer.from(trimmed, 'base64').toString('ascii');
  const plaintext = fernetDecrypt(secret, token, ttlSeconds === undefined ? {} : { ttlSeconds });
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw new FernetError('message is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new FernetError('message is not a JSON object');
  return parsed as Record<string, unknown>;
}
