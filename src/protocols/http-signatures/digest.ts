/**
 * Content-Digest (RFC 9530): the field's syntax, computing it, and checking a body against it
 * while the body streams, under a byte cap. A malformed field is the client's syntax error (400);
 * a body that does not match is a failed check (401).
 */
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { parseDictionary } from 'structured-headers';
import { invalidCredentials, malformedRequest } from '../../errors.js';

/** The Content-Digest algorithms this library computes (RFC 9530 §5, the "active" ones). */
export type ContentDigestAlgorithm = 'sha-256' | 'sha-512';

const HASH: Readonly<Record<ContentDigestAlgorithm, { readonly name: string; readonly bytes: number }>> = {
  'sha-256': { name: 'sha256', bytes: 32 },
  'sha-512': { name: 'sha512', bytes: 64 },
};

/** Longest Content-Digest field value read, in bytes. */
export const MAX_CONTENT_DIGEST_BYTES = 4096;

/**
 * The digests of a Content-Digest field value that this library can check, by algorithm.
 * Algorithms it does not know are skipped (RFC 9530 §2: a recipient ignores them).
 * @throws AuthError 400 `digest_invalid` for a field that is not a Dictionary of byte sequences
 *   (or too large), or a known algorithm's digest of the wrong length; 400 `digest_algorithm` when
 *   no algorithm of it is known.
 */
export function parseContentDigest(value: string): ReadonlyMap<ContentDigestAlgorithm, Buffer> {
  if (Buffer.byteLength(value, 'latin1') > MAX_CONTENT_DIGEST_BYTES)
    throw malformedRequest('digest_invalid', 'The Content-Digest header is too large.');
  let parsed;
  try {
    parsed = parseDictionary(value);
  } catch {
    throw malformedRequest('digest_invalid', 'The Content-Digest header is not a valid Structured Field dictionary.');
  }
  const out = new Map<ContentDigestAlgorithm, Buffer>();
  for (const [name, member] of parsed) {
    const bytes = member[0];
    if (Array.isArray(bytes) || Object.prototype.toString.call(bytes) !== '[object ArrayBuffer]')
      throw malformedRequest('digest_invalid', 'Each Content-Digest member must be a byte sequence.');
    if (!Object.hasOwn(HASH, name)) continue;
    const algorithm = name as ContentDigestAlgorithm;
    const digest = Buffer.from(bytes as ArrayBuffer);
    if (digest.length !== HASH[algorithm].bytes) throw malformedRequest('digest_invalid', `The ${algorithm} digest has the wrong length.`);
    out.set(algorithm, digest);
  }
  if (out.size === 0)
    throw malformedRequest('digest_algorithm', 'The Content-Digest header names no algorithm this service checks (sha-256, sha-512).');
  return out;
}

/** A Content-Digest field value for `body` (default `sha-256`). */
export function contentDigest(body: Uint8Array | string, algorithms: readonly ContentDigestAlgorithm[] = ['sha-256']): string {
  return algorithms.map((a) => `${a}=:${createHash(HASH[a].name).update(body).digest('base64')}:`).join(', ');
}

/**
 * Hashes a body chunk by chunk for every digest a Content-Digest field names, refusing more than
 * `maxBodyBytes`; {@link finish} compares in constant time.
 */
export class ContentDigestCheck {
  readonly #expected: ReadonlyMap<ContentDigestAlgorithm, Buffer>;
  readonly #hashes: ReadonlyMap<ContentDigestAlgorithm, Hash>;
  readonly #maxBodyBytes: number;
  #bytes = 0;

  /**
   * @param header the Content-Digest field value.
   * @param maxBodyBytes the largest body hashed.
   * @throws AuthError 400 as {@link parseContentDigest}.
   */
  constructor(header: string, maxBodyBytes: number) {
    this.#expected = parseContentDigest(header);
    this.#hashes = new Map([...this.#expected.keys()].map((a) => [a, createHash(HASH[a].name)]));
    this.#maxBodyBytes = maxBodyBytes;
  }

  /**
   * Adds a chunk.
   * @throws AuthError 400 `body_too_large` past `maxBodyBytes`.
   */
  update(chunk: Uint8Array): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBodyBytes) throw malformedRequest('body_too_large', 'The request body is larger than this service checks.');
    for (const hash of this.#hashes.values()) hash.update(chunk);
  }

  /**
   * Compares every named digest with the body's.
   * @throws AuthError 401 `digest_mismatch` when one differs.
   */
  finish(): void {
    for (const [algorithm, expected] of this.#expected) {
      const actual = (this.#hashes.get(algorithm) as Hash).digest();
      if (!timingSafeEqual(actual, expected)) throw invalidCredentials('digest_mismatch', 'The body does not match its Content-Digest.');
    }
  }
}
