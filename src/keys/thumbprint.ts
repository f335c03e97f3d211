/** RFC 7638 JWK thumbprints, used as `kid` wherever this suite names a key. */
import { createHash, type KeyObject } from 'node:crypto';

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a public (or private) asymmetric key. */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  // Only the required members, in lexicographic order (RFC 7638 §3.2).
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'OKP'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
