/**
 * Who may call and with which keys: a pluggable user/key source (a static map or an async lookup)
 * and the loading of stored public keys in every format asymmetric_jwt_auth accepts.
 */
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { importPublicKey, type PublicKeyInput } from '../../keys/import.js';
import { isOpenSshPublicKey, parseOpenSshPublicKey } from '../../keys/openssh.js';
import type { RemoteJwks } from '../../keys/remote-jwks.js';
import type { PrincipalKind } from '../../principal.js';

/** One caller (a "user" in asymmetric_jwt_auth) and what it is trusted with. */
export interface AsymmetricJwtUser {
  /** Public keys: SPKI or PKCS#1 PEM, an OpenSSH `ssh-rsa`/`ssh-ed25519` line, a JWK or a KeyObject. */
  readonly publicKeys?: readonly PublicKeyInput[];
  /** JWK Set URLs (or ready RemoteJwks) this caller publishes; the token's `kid` selects the key. */
  readonly jwks?: ReadonlyArray<string | RemoteJwks>;
  /** Principal kind (default from the scheme options, else `service`). */
  readonly kind?: PrincipalKind;
  /** Scopes granted to this caller. */
  readonly scopes?: readonly string[];
  /** Assurance level of this caller. */
  readonly level?: number;
}

/** Looks a caller up by username (e.g. in a database); undefined for unknown users. */
export type AsymmetricJwtUserLookup = (username: string) => Promise<AsymmetricJwtUser | undefined> | AsymmetricJwtUser | undefined;

/** Where callers come from: a map of username → record, or a lookup function. */
export type AsymmetricJwtKeySource =
  ReadonlyMap<string, AsymmetricJwtUser> | Readonly<Record<string, AsymmetricJwtUser>> | AsymmetricJwtUserLookup;

/** Resolves a username against a key source. Own properties only, so `__proto__` is just unknown. */
export async function lookupUser(source: AsymmetricJwtKeySource, username: string): Promise<AsymmetricJwtUser | undefined> {
  if (typeof source === 'function') return source(username);
  if (source instanceof Map) return (source as ReadonlyMap<string, AsymmetricJwtUser>).get(username);
  const record = source as Readonly<Record<string, AsymmetricJwtUser>>;
  return Object.hasOwn(record, username) ? record[username] : undefined;
}

/**
 * Loads a stored public key: OpenSSH lines through the OpenSSH parser, everything else through
 * the shared importer.
 * @throws KeyImportError naming what is wrong.
 */
export function loadPublicKey(input: PublicKeyInput): KeyObject {
  if (typeof input === 'string' && isOpenSshPublicKey(input)) return parseOpenSshPublicKey(input).key;
  if (Buffer.isBuffer(input) && isOpenSshPublicKey(input.toString('utf8'))) return parseOpenSshPublicKey(input.toString('utf8')).key;
  return importPublicKey(input);
}

// Parsed keys per stored input, not per record: the record's current `publicKeys` list is read on every
// request, so removing a compromised key from it (even in place) takes effect at once. Text inputs are
// cached by their text (bounded), object inputs (JWK objects, Buffers) by identity.
const parsedByText = new LRUCache<string, KeyObject | Error>({ max: 4096 });
const parsedByObject = new WeakMap<object, KeyObject | Error>();

/** Records a key of a static record, checked at start-up, so requests do not parse it again. */
export function primeStoredKey(input: PublicKeyInput, key: KeyObject): void {
  if (typeof input === 'string') parsedByText.set(input, key);
  else parsedByObject.set(input, key);
}

function parsed(input: PublicKeyInput, index: number, onBadKey?: (error: unknown, index: number) => void): KeyObject | undefined {
  const isText = typeof input === 'string';
  let key = isText ? parsedByText.get(input) : parsedByObject.get(input);
  if (key === undefined) {
    try {
      key = loadPublicKey(input);
    } catch (error) {
      key = error instanceof Error ? error : new Error(String(error));
      // Reported once per input, not on every request.
      onBadKey?.(error, index);
    }
    if (isText) parsedByText.set(input, key);
    else parsedByObject.set(input, key);
  }
  return key instanceof Error ? undefined : key;
}

/**
 * The stored keys of a user as KeyObjects, from the record's `publicKeys` as they are now. Unreadable keys
 * are skipped (and reported through `onBadKey`) so one broken entry does not lock the caller out of
 * its other keys.
 */
export function storedKeys(user: AsymmetricJwtUser, onBadKey?: (error: unknown, index: number) => void): readonly KeyObject[] {
  const keys: KeyObject[] = [];
  const inputs = user.publicKeys ?? [];
  for (let index = 0; index < inputs.length; index++) {
    const key = parsed(inputs[index] as PublicKeyInput, index, onBadKey);
    if (key !== undefined) keys.push(key);
  }
  return keys;
}
