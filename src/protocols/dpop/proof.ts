/**
 * DPoP proofs (RFC 9449 §4), both sides. A proof is a JWT with `typ: dpop+jwt`, signed by the
 * client's key whose public JWK is in its header; it names the request (`htm`, `htu`), its time
 * (`iat`), a unique `jti`, the hash of the access token (`ath`) and, when the server asks, its
 * `nonce`. Verification checks all of that except replay and the token binding, which the request
 * side (the schemes' DPoP binding) does once it knows the token.
 */
import { createHash, createPublicKey, randomUUID, timingSafeEqual, type JsonWebKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { AuthError, type Challenge, type ClaimReason, type DpopReason } from '../../errors.js';
import {
  algorithmsForKey,
  isJwsError,
  parseCompact,
  signCompact,
  verifySignature,
  verifySignatureAsync,
  type JwsAlgorithm,
  type ParsedJws,
} from '../../jwt/compact.js';
import { defaultAlgorithm } from '../../jwt/compact.js';
import { importPrivateKey, keyFamily, type PrivateKeyInput } from '../../keys/import.js';
import { jwkThumbprint } from '../../keys/thumbprint.js';
import { htuKey } from './target.js';
import { checkTimeClaims } from '../../jwt/claims.js';
import { optionError } from '../../lib/options.js';

/** Proof algorithms accepted by default: every asymmetric algorithm of the codec. */
export const DPOP_ALGORITHMS: readonly JwsAlgorithm[] = ['ES256', 'ES384', 'EdDSA', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];

/** What a proof must match. */
export interface DpopExpectation {
  /** The request method, exactly as sent (`GET`, `POST`, …). */
  readonly method: string;
  /**
   * The request URL as the client addressed it; query and fragment are ignored, and the path is
   * compared after RFC 3986 §6.2.2 normalisation on both sides (RFC 9449 §4.3). A path with a dot-segment
   * (`.`, `..`, also percent-encoded) never matches.
   */
  readonly url: string;
  /**
   * The RFC 7638 thumbprint the proof key must have (the token's `cnf.jkt`), compared before the
   * signature is verified; another key is refused as `token_invalid` / `jkt` (RFC 9449 §7.1).
   */
  readonly jkt?: string;
  /** The access token the proof comes with; its SHA-256 must be the proof's `ath`. */
  readonly accessToken?: string;
  /** Algorithms accepted (default {@link DPOP_ALGORITHMS}). */
  readonly algorithms?: readonly JwsAlgorithm[];
  /** Oldest accepted proof by its `iat`, seconds before now (default 60). */
  readonly maxProofAgeSeconds?: number;
  /** Clock skew allowed for `iat` in the future, seconds (default 5). */
  readonly clockToleranceSeconds?: number;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
  /**
   * Imported proof keys, reused across proofs (default: a cache for this call only). The schemes' DPoP binding
   * passes its own; the cache class is not exported, so other callers leave this unset.
   */
  readonly keyCache?: DpopKeyCache;
}

/** A proof whose signature and claims fit the request. */
export interface VerifiedDpopProof {
  /** RFC 7638 thumbprint of the proof's public key (what `cnf.jkt` must equal). */
  readonly jkt: string;
  readonly jti: string;
  /** `iat`, epoch seconds. */
  readonly iat: number;
  /** The `nonce` claim, if any. */
  readonly nonce: string | undefined;
  readonly key: KeyObject;
}

/** A proof was refused: RFC 9449's `invalid_dpop_proof`, with the failed check as `reason`. */
export function invalidProof(reason: DpopReason | ClaimReason, detail: string, challenges?: readonly Challenge[]): AuthError {
  return new AuthError('invalid_dpop_proof', { reason, detail, ...(challenges === undefined ? {} : { challenges }) });
}

// Members that only private or symmetric JWKs carry (RFC 7518 §6): such a JWK is refused, never used.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** A proof key and its RFC 7638 thumbprint. */
interface ProofKey {
  readonly key: KeyObject;
  readonly jkt: string;
}

// A public exponent or modulus out of these bounds makes one verification cost up to hundreds of
// times a normal one, on the thread pool every signature check shares.
const MAX_RSA_EXPONENT_BYTES = 4;
const MAX_RSA_MODULUS_BITS = 4096;

/** The unsigned big-endian integer of a base64url member, without leading zero bytes. */
function magnitude(member: string): Buffer {
  const bytes = Buffer.from(member, 'base64url');
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/** RSA proof keys: an odd exponent from 3 to 2^32 - 1 (65537 in practice), a modulus of at most 4096 bits. */
function rsaWithinBounds(e: string, n: string): boolean {
  const exponent = magnitude(e);
  const modulus = magnitude(n);
  if (exponent.length === 0 || exponent.length > MAX_RSA_EXPONENT_BYTES || ((exponent.at(-1) as number) & 1) === 0) return false;
  if (exponent.length === 1 && (exponent[0] as number) < 3) return false;
  const top = modulus[0] ?? 0;
  return (modulus.length - 1) * 8 + (32 - Math.clz32(top)) <= MAX_RSA_MODULUS_BITS;
}

/**
 * True when `member` is an unsigned integer as RFC 7518 §6.3.1 writes it: base64url without padding
 * or unused bits, in the minimum number of octets. Any other spelling of the same key would give it
 * another RFC 7638 thumbprint.
 */
function minimalInteger(member: string): boolean {
  const bytes = Buffer.from(member, 'base64url');
  return bytes.length > 0 && bytes[0] !== 0 && bytes.toString('base64url') === member;
}

// RFC 7638 §3.2: the required members of each key type, in lexicographic order.
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
};

/**
 * Imported proof keys by their required JWK members, so a client that signs every request with the
 * same key pays for the import and the thumbprint once (bounded; least recently used dropped).
 */
export class DpopKeyCache {
  readonly #lru: LRUCache<string, ProofKey>;
  constructor(max = 1000) {
    this.#lru = new LRUCache({ max });
  }

  /** The key of the proof header's `jwk`: asymmetric, public, of a family the policy allows. */
  keyOf(jwk: unknown): ProofKey {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
      throw invalidProof('jwk', 'The DPoP proof has no public JWK in its header.');
    const members = jwk as Record<string, unknown>;
    const required = typeof members['kty'] === 'string' ? THUMBPRINT_MEMBERS[members['kty']] : undefined;
    if (required === undefined || !Object.hasOwn(THUMBPRINT_MEMBERS, members['kty'] as string))
      throw invalidProof('jwk', 'The DPoP proof key must be an asymmetric public key.');
    for (const m of PRIVATE_MEMBERS)
      if (members[m] !== undefined) throw invalidProof('jwk', 'The DPoP proof header carries a private or symmetric key.');
    const canonical: Record<string, string> = {};
    for (const m of required) {
      const value = members[m];
      if (typeof value !== 'string') throw invalidProof('jwk', 'The DPoP proof key is missing a required member.');
      canonical[m] = value;
    }
    // The thumbprint input itself is the cache key: the same members always mean the same key.
    const text = JSON.stringify(canonical);
    const hit = this.#lru.get(text);
    if (hit) return hit;
    if (canonical['kty'] === 'RSA' && !(minimalInteger(canonical['e'] as string) && minimalInteger(canonical['n'] as string))) {
      throw invalidProof('jwk', 'The DPoP proof RSA key must write "n" and "e" in base64url in the minimum number of octets.');
    }
    if (canonical['kty'] === 'RSA' && !rsaWithinBounds(canonical['e'] as string, canonical['n'] as string)) {
      throw invalidProof('jwk', 'The DPoP proof RSA key must have an exponent below 2^32 (65537) and a modulus of at most 4096 bits.');
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: canonical as JsonWebKey, format: 'jwk' });
      keyFamily(key);
    } catch {
      throw invalidProof('jwk', 'The DPoP proof key is unreadable, too weak or of an unsupported type.');
    }
    // The members exactly as the key writes them (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2): another
    // spelling of the same key (padding, unused bits, extra octets) would be another thumbprint.
    const written = key.export({ format: 'jwk' }) as Record<string, unknown>;
    if (required.some((m) => written[m] !== canonical[m]))
      throw invalidProof('jwk', 'The DPoP proof key must write its members in base64url, unpadded, in the size RFC 7518 gives them.');
    const entry = { key, jkt: createHash('sha256').update(text).digest('base64url') };
    this.#lru.set(text, entry);
    return entry;
  }
}

/** base64url(SHA-256(token)): the `ath` of a proof (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Verifies a proof's form, signature and claims against the request.
 * @throws AuthError `invalid_dpop_proof` (401) naming the failed check, or `token_invalid` (`jkt`)
 *   when {@link DpopExpectation.jkt} is not the proof key's thumbprint.
 */
export function verifyDpopProof(proof: string, expect: DpopExpectation): VerifiedDpopProof {
  const form = checkForm(proof, expect);
  if (!verifySignature(form.alg, form.key, form.parsed.signingInput, form.parsed.signature)) throw badSignature();
  return checkClaims(form, expect);
}

/** {@link verifyDpopProof} with the signature checked on libuv's thread pool (what `DpopBinding` uses). */
export async function verifyDpopProofOffLoop(proof: string, expect: DpopExpectation): Promise<VerifiedDpopProof> {
  const form = checkForm(proof, expect);
  if (!(await verifySignatureAsync(form.alg, form.key, form.parsed.signingInput, form.parsed.signature))) throw badSignature();
  return checkClaims(form, expect);
}

interface ProofForm {
  readonly parsed: ParsedJws;
  readonly alg: JwsAlgorithm;
  readonly key: KeyObject;
  readonly jkt: string;
}

const badSignature = (): AuthError => invalidProof('signature_invalid', 'The DPoP proof signature does not verify.');

/** Form, type, algorithm and key: everything before the signature. */
function checkForm(proof: string, expect: DpopExpectation): ProofForm {
  let parsed: ParsedJws;
  try {
    parsed = parseCompact(proof, 8192);
  } catch (error) {
    throw invalidProof(isJwsError(error) ? error.code : 'malformed', 'The DPoP proof is not a well-formed JWT.');
  }
  const { header } = parsed;
  if (typeof header['typ'] !== 'string' || header['typ'].toLowerCase() !== 'dpop+jwt')
    throw invalidProof('type_invalid', 'The DPoP proof must have typ dpop+jwt.');
  const allowed = expect.algorithms ?? DPOP_ALGORITHMS;
  const alg = header['alg'] as string;
  if (!(allowed as readonly string[]).includes(alg))
    throw invalidProof('algorithm_not_allowed', 'The DPoP proof algorithm is not accepted.');
  const { key, jkt } = (expect.keyCache ?? new DpopKeyCache(1)).keyOf(header['jwk']);
  if (!algorithmsForKey(key, allowed).includes(alg as JwsAlgorithm))
    throw invalidProof('algorithm_not_allowed', 'The DPoP proof algorithm does not fit its key.');
  // Before the signature: a key that is not the token's costs no verification (RFC 9449 §7.1 answers invalid_token).
  if (expect.jkt !== undefined && jkt !== expect.jkt)
    throw new AuthError('token_invalid', {
      reason: 'jkt',
      detail: 'The DPoP proof is signed by a key other than the one the token is bound to.',
    });
  return { parsed, alg: alg as JwsAlgorithm, key, jkt };
}

/** The claims, after the signature verified. */
function checkClaims({ parsed, key, jkt }: ProofForm, expect: DpopExpectation): VerifiedDpopProof {
  const { jti, htm, htu, ath, nonce } = parsed.payload;
  const iat = parsed.payload['iat'] as number;
  if (typeof jti !== 'string' || jti === '' || jti.length > 256)
    throw invalidProof('jti', 'The DPoP proof needs a jti of at most 256 characters.');
  if (htm !== expect.method) throw invalidProof('htm', 'The DPoP proof was made for another HTTP method.');
  const want = htuKey(expect.url);
  if (typeof htu !== 'string' || want === undefined || htuKey(htu) !== want)
    throw invalidProof('htu', 'The DPoP proof was made for another URL.');
  const now = (expect.clock ?? Date.now)() / 1000;
  // The tolerance is for a client clock ahead of ours; the age limit is exact.
  const time = checkTimeClaims(parsed.payload, now, {
    exp: 'ignored',
    requireIat: true,
    clockToleranceSeconds: expect.clockToleranceSeconds ?? 5,
    maxTokenAgeSeconds: expect.maxProofAgeSeconds ?? 60,
    strictAge: true,
  });
  if (time !== undefined)
    throw invalidProof(
      time,
      time === 'too_old'
        ? 'The DPoP proof is too old.'
        : time === 'issued_in_future'
          ? 'The DPoP proof was made in the future.'
          : 'The DPoP proof has no valid iat.',
    );
  if (expect.accessToken !== undefined) {
    if (typeof ath !== 'string' || !same(ath, accessTokenHash(expect.accessToken)))
      throw invalidProof('ath', 'The DPoP proof was made for another access token.');
  }
  if (nonce !== undefined && typeof nonce !== 'string') throw invalidProof('nonce', 'The DPoP proof nonce is not a string.');
  return { jkt, jti, iat, nonce, key };
}

/** What {@link createDpopProof} signs. */
export interface DpopProofRequest {
  readonly method: string;
  readonly url: string;
  /** The access token sent with the proof (adds `ath`); absent for token requests. */
  readonly accessToken?: string;
  /** The server's latest `DPoP-Nonce`, if it asked for one. */
  readonly nonce?: string;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

/** A client's DPoP key: imported once, its public JWK and algorithm ready for every proof. */
export interface DpopKey {
  readonly key: KeyObject;
  readonly alg: JwsAlgorithm;
  /** The public JWK put in every proof header. */
  readonly jwk: Readonly<Record<string, string>>;
  /** RFC 7638 thumbprint of the public key (the `cnf.jkt` of tokens bound to it). */
  readonly jkt: string;
}

/** Imports a client's DPoP private key (PEM, JWK, KeyObject); `alg` defaults from the key type. */
export function dpopKey(input: PrivateKeyInput, alg?: JwsAlgorithm): DpopKey {
  const key = importPrivateKey(input);
  const chosen = alg ?? defaultAlgorithm(key);
  const fits = algorithmsForKey(key);
  if (!fits.includes(chosen))
    throw optionError(
      'dpopKey()',
      'alg',
      `an algorithm of the key: ${fits.join(', ')}`,
      /^[A-Z0-9]{2,8}$/.test(chosen) ? `"${chosen}"` : 'another value',
    );
  const full = createPublicKey(key).export({ format: 'jwk' }) as Record<string, string>;
  const jwk: Record<string, string> = {};
  for (const m of ['kty', 'crv', 'x', 'y', 'e', 'n']) if (full[m] !== undefined) jwk[m] = full[m];
  return Object.freeze({ key, alg: chosen, jwk: Object.freeze(jwk), jkt: jwkThumbprint(key) });
}

/** Signs a fresh proof (new `jti`, `iat` now) for one request (RFC 9449 §4.2). */
export function createDpopProof(key: DpopKey, request: DpopProofRequest): string {
  const u = new URL(request.url);
  const payload: Record<string, unknown> = {
    jti: randomUUID(),
    htm: request.method.toUpperCase(),
    htu: `${u.origin}${u.pathname}`,
    iat: Math.floor((request.clock ?? Date.now)() / 1000),
  };
  if (request.accessToken !== undefined) payload['ath'] = accessTokenHash(request.accessToken);
  if (request.nonce !== undefined) payload['nonce'] = request.nonce;
  return signCompact(key.alg, key.key, JSON.stringify({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk }), JSON.stringify(payload));
}
