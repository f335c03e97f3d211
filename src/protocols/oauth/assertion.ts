/** Signed JWT assertions (RFC 7523): client authentication (`private_key_jwt`) and the jwt-bearer grant. */
import { randomUUID, type KeyObject } from 'node:crypto';
import { importPrivateKey, isKeyEntry, type PrivateKeyInput } from '../../keys/import.js';
import { signCompact, type JwsAlgorithm } from '../../jwt/compact.js';
import { defaultAlgorithm } from '../../jwt/compact.js';
import { jwkThumbprint } from '../../keys/thumbprint.js';
import { OAuthClientError } from './errors.js';

/** A signing key with its `kid` and algorithm. */
export interface SigningKeyInput {
  readonly key: PrivateKeyInput;
  /** `kid` header; defaults to the RFC 7638 thumbprint of the public key (what `publishJwks` publishes). */
  readonly kid?: string;
  /** Defaults to RS256 / ES256 / EdDSA by key type. */
  readonly alg?: JwsAlgorithm;
}

/** A resolved signing key. */
export interface SigningKey {
  readonly key: KeyObject;
  readonly kid: string;
  readonly alg: JwsAlgorithm;
}

/** Imports a signing key once and fills in `kid` and `alg`. */
export function resolveSigningKey(input: SigningKeyInput | PrivateKeyInput): SigningKey {
  const entry: SigningKeyInput = isKeyEntry<SigningKeyInput>(input) ? input : { key: input };
  const key = importPrivateKey(entry.key);
  return { key, kid: entry.kid ?? jwkThumbprint(key), alg: entry.alg ?? defaultAlgorithm(key) };
}

/**
 * Signs a JWT with header `{alg, kid, typ: "JWT"}` and the given claims plus `iat`, `exp` and a fresh
 * `jti` (random UUID), so the server can reject replays.
 */
export function signAssertion(
  signer: SigningKey,
  claims: Readonly<Record<string, unknown>>,
  lifetimeSeconds: number,
  nowMs: number,
): string {
  if (!(lifetimeSeconds > 0)) throw new OAuthClientError('configuration', 'assertion lifetime must be positive');
  const iat = Math.floor(nowMs / 1000);
  const payload = { ...claims, iat, exp: iat + lifetimeSeconds, jti: randomUUID() };
  return signCompact(signer.alg, signer.key, JSON.stringify({ alg: signer.alg, kid: signer.kid, typ: 'JWT' }), JSON.stringify(payload));
}
