/**
 * Loads every key in a directory (a "certs directory", as baikal-sdk calls it): PEM (PKCS#8,
 * encrypted PKCS#8, PKCS#1, SEC1, SPKI, X.509 certificates), DER and JWK / JWK Set JSON. Detection is
 * by content, not by file name. Shared by every scheme that takes keys from disk.
 */
import { AuthnzError } from '../errors.js';
import { brandedGuard } from '../lib/brand.js';
import { createPrivateKey, createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { keyFamily, KeyImportError, isKeyImportError } from './import.js';

/** One key read from a directory. */
export interface DirectoryKey {
  /** File name inside the directory; `name#2` for the third key of a JWK Set file. */
  readonly file: string;
  /** The public key (derived from the private key when the file holds one). */
  readonly publicKey: KeyObject;
  /** The private key, when the file holds one. */
  readonly privateKey?: KeyObject;
  /** The `kid` the file itself gives (JWK files only); otherwise undefined. */
  readonly kid?: string;
}

/** Options for {@link loadKeyDirectory}. */
export interface LoadKeyDirectoryOptions {
  /** Passphrase for encrypted PKCS#8 files. */
  readonly passphrase?: string;
  /** File names to skip besides dot-files (e.g. `README.md`). */
  readonly ignore?: (file: string) => boolean;
}

/** A file in a key directory could not be read as a key; the message names the file. */
export class KeyDirectoryError extends AuthnzError<'key_file_unreadable'> {
  /** The offending file's path. */
  readonly file: string;
  constructor(file: string, message: string, cause?: unknown) {
    super('key_file_unreadable', `${file}: ${message}`, { cause });
    this.file = file;
  }
}

/** True for a {@link KeyDirectoryError} from any copy of the library (brand, not `instanceof`). */
export const isKeyDirectoryError = brandedGuard(KeyDirectoryError, 'KeyDirectoryError');

/** One key parsed from a file, before it gets a file name. */
export interface ParsedKey {
  /** The public key (derived from the private key when there is one). */
  publicKey: KeyObject;
  /** The private key, when the file holds one. */
  privateKey?: KeyObject;
  /** The JWK's own `kid`, if any. */
  kid?: string;
}

function fromPem(text: string, passphrase: string | undefined): ParsedKey {
  if (/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/.test(text)) {
    const privateKey = createPrivateKey(passphrase === undefined ? text : { key: text, passphrase });
    return { publicKey: createPublicKey(privateKey), privateKey };
  }
  if (text.includes('-----BEGIN CERTIFICATE-----')) return { publicKey: new X509Certificate(text).publicKey };
  return { publicKey: createPublicKey(text) };
}

function fromJwk(jwk: JsonWebKey): ParsedKey {
  const kid = typeof jwk['kid'] === 'string' ? (jwk['kid'] as string) : undefined;
  if (jwk.kty === 'oct') throw new KeyImportError('key_unsupported', 'symmetric JWKs are not supported here');
  if (typeof jwk.d === 'string') {
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    return { publicKey: createPublicKey(privateKey), privateKey, ...(kid === undefined ? {} : { kid }) };
  }
  return { publicKey: createPublicKey({ key: jwk, format: 'jwk' }), ...(kid === undefined ? {} : { kid }) };
}

function fromDer(der: Buffer, passphrase: string | undefined): ParsedKey {
  const privateTypes = ['pkcs8', 'pkcs1', 'sec1'] as const;
  for (const type of privateTypes) {
    try {
      const privateKey = createPrivateKey({
        key: der,
        format: 'der',
        type,
        ...(passphrase !== undefined && type === 'pkcs8' ? { passphrase } : {}),
      });
      return { publicKey: createPublicKey(privateKey), privateKey };
    } catch {
      // try the next encoding
    }
  }
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      return { publicKey: createPublicKey({ key: der, format: 'der', type }) };
    } catch {
      // try the next encoding
    }
  }
  return { publicKey: new X509Certificate(der).publicKey };
}

/** Reads the keys of one file's contents (exported for tests and single-file callers). */
export function parseKeyFile(bytes: Buffer, passphrase?: string): ParsedKey[] {
  const text = bytes.toString('utf8');
  if (text.includes('-----BEGIN')) return [fromPem(text, passphrase)];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    const json = JSON.parse(text) as { keys?: unknown } & JsonWebKey;
    if (Array.isArray(json.keys)) return (json.keys as JsonWebKey[]).map(fromJwk);
    return [fromJwk(json)];
  }
  return [fromDer(bytes, passphrase)];
}

/**
 * Loads every key file of `dir`, in sorted order, skipping dot-files and sub-directories.
 * Every key must be a supported, strong-enough type (RSA ≥ 2048, EC P-256, Ed25519).
 * @throws KeyDirectoryError naming the first file that is not a readable key (fail closed: a typo in a
 *   key file must not silently leave a service with fewer keys than intended).
 */
export function loadKeyDirectory(dir: string, options: LoadKeyDirectoryOptions = {}): DirectoryKey[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (cause) {
    throw new KeyDirectoryError(dir, 'cannot read the key directory', cause);
  }
  const out: DirectoryKey[] = [];
  for (const name of names) {
    if (name.startsWith('.') || options.ignore?.(name)) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    let raws: ParsedKey[];
    try {
      raws = parseKeyFile(readFileSync(path), options.passphrase);
      if (raws.length === 0) throw new Error('the JWK Set is empty');
      for (const raw of raws) keyFamily(raw.publicKey);
    } catch (cause) {
      const why = isKeyImportError(cause)
        ? cause.message
        : 'not a readable key (expected PEM, DER or JWK; encrypted keys need the passphrase)';
      throw new KeyDirectoryError(path, why, cause);
    }
    raws.forEach((raw, i) => out.push({ file: raws.length === 1 ? name : `${name}#${i}`, ...raw }));
  }
  return out;
}
