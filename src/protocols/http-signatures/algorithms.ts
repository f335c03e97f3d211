/**
 * The algorithms of RFC 9421 §3.3: which keys each one takes, and signing and verifying a signature
 * base with it. ECDSA signatures are raw `r || s` (IEEE P1363), not DER (§3.3.4, §3.3.5); RSA-PSS
 * signs with SHA-512 and a 64-byte salt (§3.3.1) and verifies any salt length, read from the
 * signature (RSASSA-PSS's security does not rest on the verifier pinning it, and the most used Node
 * signer uses the largest salt); HMAC is compared in constant time (§3.3.3).
 */
import {
  KeyObject,
  constants,
  createHmac,
  createPublicKey,
  createSecretKey,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
} from 'node:crypto';
import { MIN_RSA_BITS } from '../../keys/import.js';
import type { HttpSignatureAlgorithm } from './structured.js';

/** A key that signs or verifies: an asymmetric KeyObject, or an HMAC secret. */
export type SignatureKeyMaterial = KeyObject | Uint8Array;

/** Shortest HMAC secret accepted, in bytes (the output size of SHA-256). */
export const MIN_HMAC_SECRET_BYTES = 32;

/** The JOSE name of each asymmetric algorithm, for JWK Sets that restrict a key's `alg`. */
export const JOSE_ALGORITHM: Readonly<Partial<Record<HttpSignatureAlgorithm, string>>> = Object.freeze({
  ed25519: 'EdDSA',
  'ecdsa-p256-sha256': 'ES256',
  'ecdsa-p384-sha384': 'ES384',
  'rsa-pss-sha512': 'PS512',
  'rsa-v1_5-sha256': 'RS256',
});

function asSecret(key: SignatureKeyMaterial): Buffer | undefined {
  if (key instanceof KeyObject) return key.type === 'secret' ? key.export() : undefined;
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/**
 * The algorithms a key can be used with: one for Ed25519 and each EC curve, RSA-PSS and RSA
 * PKCS#1 v1.5 for an RSA key of at least 2048 bits (RSA-PSS only for an `rsa-pss` key), HMAC for a
 * secret of at least 32 bytes; none for anything else.
 */
export function algorithmsForKey(key: SignatureKeyMaterial): readonly HttpSignatureAlgorithm[] {
  const secret = asSecret(key);
  if (secret !== undefined) return secret.length >= MIN_HMAC_SECRET_BYTES ? ['hmac-sha256'] : [];
  const k = key as KeyObject;
  const details = k.asymmetricKeyDetails;
  switch (k.asymmetricKeyType) {
    case 'ed25519':
      return ['ed25519'];
    case 'ec':
      return details?.namedCurve === 'prime256v1'
        ? ['ecdsa-p256-sha256']
        : details?.namedCurve === 'secp384r1'
          ? ['ecdsa-p384-sha384']
          : [];
    case 'rsa':
      return (details?.modulusLength ?? 0) >= MIN_RSA_BITS ? ['rsa-pss-sha512', 'rsa-v1_5-sha256'] : [];
    case 'rsa-pss':
      return (details?.modulusLength ?? 0) >= MIN_RSA_BITS ? ['rsa-pss-sha512'] : [];
    default:
      return [];
  }
}

/** The node:crypto digest name and options of an asymmetric algorithm. */
function parameters(
  algorithm: Exclude<HttpSignatureAlgorithm, 'hmac-sha256'>,
  key: KeyObject,
  use: 'sign' | 'verify',
): { digest: string | null; options: { key: KeyObject; dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number } } {
  switch (algorithm) {
    case 'ed25519':
      return { digest: null, options: { key } };
    case 'ecdsa-p256-sha256':
      return { digest: 'sha256', options: { key, dsaEncoding: 'ieee-p1363' } };
    case 'ecdsa-p384-sha384':
      return { digest: 'sha384', options: { key, dsaEncoding: 'ieee-p1363' } };
    case 'rsa-pss-sha512':
      return {
        digest: 'sha512',
        options: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: use === 'sign' ? 64 : constants.RSA_PSS_SALTLEN_AUTO },
      };
    case 'rsa-v1_5-sha256':
      return { digest: 'sha256', options: { key, padding: constants.RSA_PKCS1_PADDING } };
  }
}

/**
 * Signs a signature base.
 * @throws TypeError when the key cannot be used with `algorithm` (see {@link algorithmsForKey}).
 */
export function signBase(algorithm: HttpSignatureAlgorithm, key: SignatureKeyMaterial, base: string | Uint8Array): Buffer {
  const data = typeof base === 'string' ? Buffer.from(base, 'utf8') : base;
  const usable = key instanceof KeyObject && key.type === 'private' ? algorithmsForKey(createPublicKey(key)) : algorithmsForKey(key);
  if (!usable.includes(algorithm)) throw new TypeError(`signMessage(): the key cannot sign with "${algorithm}"`);
  if (algorithm === 'hmac-sha256')
    return createHmac('sha256', asSecret(key) as Buffer)
      .update(data)
      .digest();
  const { digest, options } = parameters(algorithm, key as KeyObject, 'sign');
  return cryptoSign(digest, data, options);
}

/**
 * Verifies a signature over a signature base with `algorithm`. False (never a throw) when the key
 * does not fit the algorithm or the signature does not verify (an ECDSA signature must be raw
 * `r || s`: a DER one does not verify).
 */
export function verifyBase(
  algorithm: HttpSignatureAlgorithm,
  key: SignatureKeyMaterial,
  base: string | Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!algorithmsForKey(key).includes(algorithm)) return false;
  const data = typeof base === 'string' ? Buffer.from(base, 'utf8') : base;
  if (algorithm === 'hmac-sha256') {
    const mac = createHmac('sha256', asSecret(key) as Buffer)
      .update(data)
      .digest();
    // timingSafeEqual needs equal lengths; the length of a MAC is no secret.
    return signature.length === mac.length && timingSafeEqual(mac, signature);
  }
  const { digest, options } = parameters(algorithm, key as KeyObject, 'verify');
  try {
    return cryptoVerify(digest, data, options, signature);
  } catch {
    return false;
  }
}

/** An HMAC secret as a KeyObject (so it is not printed by accident). */
export function hmacSecret(secret: Uint8Array | string): KeyObject {
  return createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret));
}
