/**
 * The check of a key directory's own signatures (draft-meunier-http-message-signatures-directory,
 * "Validating the Domain Binding"): each key proves that its holder serves it under the authority
 * that was asked, by a response signature with `tag="http-message-signatures-directory"` covering
 * `"@authority";req`, with `created` (not in the future) and `expires` (not past), `keyid` its
 * thumbprint, and, when `content-digest` is covered, a Content-Digest that matches the body.
 * Keys without such a signature are not used: a directory cannot list keys it does not hold.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isAuthError } from '../../errors.js';
import { parseContentDigest } from './digest.js';
import { DIRECTORY_PATH, DIRECTORY_TAG, type KeyDirectoryEntry, type DirectorySignatureCheck } from './directory.js';
import { httpMessage } from './message.js';
import { parseSignatureInput } from './structured.js';
import { verifyMessage } from './verify.js';

/** Whether a Content-Digest field value matches `body` (every sha-256 / sha-512 member it names, at least one). */
export function contentDigestMatches(value: string | string[] | undefined, body: Buffer): boolean {
  if (typeof value !== 'string') return false;
  let digests: ReadonlyMap<string, Buffer>;
  try {
    digests = parseContentDigest(value);
  } catch {
    return false;
  }
  for (const [algorithm, expected] of digests) {
    const actual = createHash(algorithm === 'sha-512' ? 'sha512' : 'sha256')
      .update(body)
      .digest();
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return false;
  }
  return digests.size > 0;
}

/** A year: a directory signature is bounded by its own `expires`, not by the request-signature age limit. */
const SIGNATURE_AGE_SECONDS = 365 * 86_400;

/**
 * The {@link DirectorySignatureCheck} of the draft: the thumbprints of the keys that signed the answer.
 * A signature that fails is ignored (another key may still have signed); none at all leaves the set empty.
 */
export const checkDirectorySignatures: DirectorySignatureCheck = async (answer, authority, keys, now) => {
  const signed = new Set<string>();
  const input = answer.headers['signature-input'];
  const signature = answer.headers.signature;
  if (typeof input !== 'string' || typeof signature !== 'string') return signed;
  let labels: string[];
  try {
    labels = parseSignatureInput(input)
      .filter((entry) => entry.params.tag === DIRECTORY_TAG)
      .map((entry) => entry.label);
  } catch {
    return signed;
  }
  const request = httpMessage({ method: 'GET', url: `https://${authority}${DIRECTORY_PATH}` });
  const message = httpMessage({ status: 200, headers: answer.headers, request });
  for (const label of labels) {
    try {
      let used: KeyDirectoryEntry | undefined;
      const verified = await verifyMessage({
        message,
        signatureInput: input,
        signature,
        label,
        tag: DIRECTORY_TAG,
        requiredComponents: ['"@authority";req'],
        maxSignatureAgeSeconds: SIGNATURE_AGE_SECONDS,
        clock: () => now,
        keyLookup: (keyId) => {
          used = keys.get(keyId);
          return used === undefined ? undefined : { key: used.key, ...(used.alg === undefined ? {} : { algorithms: [used.alg] }) };
        },
      });
      // The draft requires `expires`; without it the proof would hold for ever.
      if (verified.params.expires === undefined || used === undefined) continue;
      if (verified.components.includes('"content-digest"') && !contentDigestMatches(answer.headers['content-digest'], answer.body))
        continue;
      signed.add(used.thumbprint);
    } catch (error) {
      if (!isAuthError(error)) throw error;
    }
  }
  return signed;
};
