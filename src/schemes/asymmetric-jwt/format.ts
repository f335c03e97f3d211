/**
 * Wire formats of asymmetric_jwt_auth: the key fingerprint used as `kid`, and JSON written the way
 * Python's `json.dumps(..., separators=(',', ':'))` writes it, so tokens match byte for byte.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { pyFloat, pyString } from '../../jwt/pyjson.js';

/**
 * The `kid` of asymmetric_jwt_auth 1.x: lowercase hex SHA-256 of the key's SubjectPublicKeyInfo PEM
 * text (64-column body, trailing newline). The same for a key stored as PEM, PKCS#1, OpenSSH or JWK.
 */
export function keyFingerprint(key: KeyObject): string {
  // Computed once per key object: a PEM export and a hash per verified request showed in the profile.
  let fingerprint = fingerprints.get(key);
  if (fingerprint === undefined) {
    const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'pem' });
    fingerprint = createHash('sha256').update(spki).digest('hex');
    fingerprints.set(key, fingerprint);
  }
  return fingerprint;
}

const fingerprints = new WeakMap<KeyObject, string>();

/** Python's `repr(float)` / `str(int)` for a finite number: `1700000000`, `0.25`, `1e-05`, `1e+16`. */
export function pyNumber(value: number, asFloat = !Number.isInteger(value)): string {
  if (!Number.isFinite(value)) throw new RangeError('only finite numbers have a JSON form');
  return asFloat ? pyFloat(value) : BigInt(value).toString();
}

/** Compact Python-style JSON of an ordered object (entries keep their order). */
export function pyObject(entries: ReadonlyArray<readonly [string, string | number | { readonly float: number }]>): string {
  const parts = entries.map(([k, v]) => {
    const text = typeof v === 'string' ? pyString(v) : typeof v === 'number' ? pyNumber(v) : pyNumber(v.float, true);
    return `${pyString(k)}:${text}`;
  });
  return `{${parts.join(',')}}`;
}
