/**
 * Key import shared by every scheme: PEM (SPKI, PKCS#1, X.509, PKCS#8, SEC1), DER, JWK and Node
 * KeyObjects, with one policy for what is strong enough (RSA ≥ 2048 bits; EC P-256; Ed25519).
 */
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { brandedGuard } from '../lib/brand.js';
import { AuthnzError } from '../errors.js';
import { optionError, optionErrorWithCause } from '../lib/options.js';

// The JWK type as this @types/node names it: `crypto.JsonWebKey` is gone from @types/node 25 on, so
// neither the published declarations nor the code name it.
type NodeJwk = Extract<Parameters<typeof createPublicKey>[0], { format: 'jwk' }>['key'];

/**
 * Anything a public key can be given as: PEM or DER text or bytes, a JWK object (RFC 7517 members,
 * as Node's `crypto.JsonWebKey` or the Web Crypto `JsonWebKey`), or a KeyObject.
 */
export type PublicKeyInput =
  string | Buffer | { readonly kty?: string; readonly [member: string]: unknown } | { readonly kty?: string } | KeyObject;

/** Anything a private key can be given as (the same forms as {@link PublicKeyInput}). */
export type PrivateKeyInput =
  string | Buffer | { readonly kty?: string; readonly [member: string]: unknown } | { readonly kty?: string } | KeyObject;

/** Why a key was refused. */
export type KeyImportErrorCode = 'key_unreadable' | 'key_weak' | 'key_unsupported' | 'key_not_public' | 'key_not_private';

/** A key that failed to import or is too weak. */
export class KeyImportError extends AuthnzError<KeyImportErrorCode> {
  constructor(code: KeyImportErrorCode, message: string, cause?: unknown) {
    super(code, message, { cause });
  }
}

/** True for a {@link KeyImportError} from any copy of the library (brand, not `instanceof`). */
export const isKeyImportError = brandedGuard(KeyImportError, 'KeyImportError');

/** The key types this suite signs and verifies with. */
export type KeyFamily = 'rsa' | 'ed25519' | 'ec-p256' | 'ec-p384';

/** Minimum RSA modulus size accepted anywhere (RFC 8725 §3.5 / NIST). */
export const MIN_RSA_BITS = 2048;

/** Classifies a key and enforces the strength policy (RSA ≥ 2048 bits, Ed25519, EC P-256 and P-384). */
export function keyFamily(key: KeyObject): KeyFamily {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  if (type === 'rsa') {
    if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) {
      throw new KeyImportError('key_weak', `RSA keys must have at least ${MIN_RSA_BITS} bits`);
    }
    return 'rsa';
  }
  if (type === 'ed25519') return 'ed25519';
  if (type === 'ec' && details?.namedCurve === 'prime256v1') return 'ec-p256';
  if (type === 'ec' && details?.namedCurve === 'secp384r1') return 'ec-p384';
  throw new KeyImportError(
    'key_unsupported',
    `unsupported key type ${type ?? 'unknown'}${details?.namedCurve ? ` (${details.namedCurve})` : ''}`,
  );
}

function looksLikeJwk(text: string): boolean {
  return text.trimStart().startsWith('{');
}

/**
 * Imports a public key. A private key given here is reduced to its public half.
 * @throws KeyImportError naming what is wrong.
 */
export function importPublicKey(input: PublicKeyInput): KeyObject {
  let key: KeyObject;
  try {
    if (input instanceof KeyObject) {
      key = input.type === 'private' ? createPublicKey(input) : input;
    } else if (typeof input === 'string') {
      if (looksLikeJwk(input)) key = createPublicKey({ key: JSON.parse(input) as NodeJwk, format: 'jwk' });
      else key = createPublicKey(input);
    } else if (Buffer.isBuffer(input)) {
      const text = input.toString('utf8');
      if (text.includes('-----BEGIN')) key = createPublicKey(text);
      else if (looksLikeJwk(text)) key = createPublicKey({ key: JSON.parse(text) as NodeJwk, format: 'jwk' });
      else {
        try {
          key = createPublicKey({ key: input, format: 'der', type: 'spki' });
        } catch {
          key = createPublicKey({ key: input, format: 'der', type: 'pkcs1' });
        }
      }
    } else {
      key = createPublicKey({ key: input, format: 'jwk' });
    }
  } catch (cause) {
    throw new KeyImportError('key_unreadable', 'could not read the public key (expected PEM, DER or JWK)', cause);
  }
  if (key.type === 'secret') throw new KeyImportError('key_not_public', 'a symmetric key is not a public key');
  keyFamily(key);
  return key;
}

/**
 * Imports a private key (PKCS#8, PKCS#1, SEC1 PEM — encrypted ones with `passphrase` — DER or JWK).
 * @throws KeyImportError naming what is wrong.
 */
export function importPrivateKey(input: PrivateKeyInput, passphrase?: string): KeyObject {
  let key: KeyObject;
  try {
    if (input instanceof KeyObject) key = input;
    else if (typeof input === 'string') {
      if (looksLikeJwk(input)) key = createPrivateKey({ key: JSON.parse(input) as NodeJwk, format: 'jwk' });
      else key = createPrivateKey(passphrase === undefined ? input : { key: input, passphrase });
    } else if (Buffer.isBuffer(input)) {
      const text = input.toString('utf8');
      if (text.includes('-----BEGIN')) key = createPrivateKey(passphrase === undefined ? text : { key: text, passphrase });
      else if (looksLikeJwk(text)) key = createPrivateKey({ key: JSON.parse(text) as NodeJwk, format: 'jwk' });
      else key = createPrivateKey({ key: input, format: 'der', type: 'pkcs8', ...(passphrase === undefined ? {} : { passphrase }) });
    } else key = createPrivateKey({ key: input, format: 'jwk' });
  } catch (cause) {
    throw new KeyImportError('key_unreadable', 'could not read the private key (wrong format or passphrase)', cause);
  }
  if (key.type !== 'private') throw new KeyImportError('key_not_private', 'expected a private key');
  keyFamily(key);
  return key;
}

/** True when `input` holds private key material (a private KeyObject, a private PEM, a JWK with `d`). */
export function isPrivateKeyInput(input: PublicKeyInput): boolean {
  if (input instanceof KeyObject) return input.type === 'private';
  const text = typeof input === 'string' ? input : Buffer.isBuffer(input) ? input.toString('latin1') : undefined;
  if (text !== undefined) return /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/.test(text) || (looksLikeJwk(text) && /"d"\s*:/.test(text));
  return typeof input === 'object' && input !== null && 'd' in input;
}

// A short single-line string that is not a key in any text form but looks like a file name.
const FILE_PATH = /^(?:[~.]{0,2}[\\/]|[A-Za-z]:\\)?[^\s{}]*\.(?:pem|pub|key|crt|der|jwk|json)$|^[~.]{0,2}\//;

/**
 * Imports a public key given as an option, at start-up, with an error in the options' message
 * shape naming the option (never the key): a file path instead of key text, private key material,
 * an unreadable key, a weak RSA key and an unsupported type are each refused with what to do.
 * @throws TypeError `<where>: "<option>" …`
 */
export function publicKeyOption(
  input: PublicKeyInput,
  where: string,
  option: string,
  load: (input: PublicKeyInput) => KeyObject = importPublicKey,
): KeyObject {
  if (typeof input === 'string' && !input.includes('-----BEGIN') && !input.includes('\n') && FILE_PATH.test(input.trim())) {
    throw optionError(where, option, "the key text, not a file path (read it first, e.g. readFileSync(path, 'utf8'))");
  }
  if (isPrivateKeyInput(input)) {
    throw optionError(where, option, 'a public key', 'a private key: give the public half only, e.g. createPublicKey(privateKey)');
  }
  try {
    return load(input);
  } catch (cause) {
    const code = isKeyImportError(cause) ? cause.code : 'key_unreadable';
    const expected =
      code === 'key_weak'
        ? `a key of at least ${MIN_RSA_BITS} bits (got a weaker RSA key)`
        : code === 'key_unsupported'
          ? 'an RSA (>= 2048 bits), Ed25519 or EC P-256 public key (got another key type)'
          : 'a readable public key: PEM, DER, JWK or an OpenSSH line';
    throw optionErrorWithCause(where, option, expected, cause);
  }
}

/**
 * True when a key option holds an entry `{ key, kid?, alg? }` rather than the key itself: an object
 * with `key` that is neither a JWK (`kty`) nor a KeyObject.
 */
export function isKeyEntry<Entry extends { readonly key: unknown }>(value: unknown): value is Entry {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Buffer.isBuffer(value) &&
    'key' in value &&
    !('kty' in value) &&
    !('asymmetricKeyType' in value)
  );
}
