/**
 * Verifying a message (RFC 9421 §3.2): choose the one signature this verifier accepts (by label and
 * tag), check what it covers and when it was made, resolve its key, take the algorithm from the key,
 * rebuild the signature base and verify. Cheap checks first; the key is looked up only for a
 * signature that could be accepted.
 */
import { AuthError, invalidCredentials, malformedRequest } from '../../errors.js';
import { algorithmsForKey, verifyBase, type SignatureKeyMaterial } from './algorithms.js';
import { KNOWN_STRUCTURED_FIELDS, signatureBase, type StructuredFieldType } from './base.js';
import type { HttpMessage } from './message.js';
import {
  DEFAULT_STRUCTURED_LIMITS,
  componentFromText,
  parseSignatureInput,
  parseSignatures,
  type ComponentIdentifier,
  type HttpSignatureAlgorithm,
  type SignatureInputEntry,
  type SignatureParameters,
  type StructuredLimits,
} from './structured.js';

/** A key found for a `keyid`, with the algorithms it may verify. */
export interface VerificationKey {
  /** A public KeyObject, or an HMAC secret. */
  readonly key: SignatureKeyMaterial;
  /**
   * The algorithms this key is configured for; default every asymmetric one the key type allows
   * (see `algorithmsForKey`). HMAC is never a default: a secret (or bytes) verifies `hmac-sha256`
   * only when this names it, so a public key passed as bytes is not taken for a shared secret. A
   * signature's `alg` outside this list is refused; without `alg`, the list must hold exactly one.
   */
  readonly algorithms?: readonly HttpSignatureAlgorithm[];
}

/** Finds the key of a signature; undefined when the `keyid` is unknown. */
export type VerificationKeyLookup = (
  keyId: string,
  entry: SignatureInputEntry,
) => Promise<VerificationKey | undefined> | VerificationKey | undefined;

/** Options of {@link verifyMessage}. */
export interface VerifyMessageOptions {
  /** The message. */
  readonly message: HttpMessage;
  /** The `Signature-Input` field value (repeated lines joined with `, `). */
  readonly signatureInput: string;
  /** The `Signature` field value. */
  readonly signature: string;
  /** Looks the key up by `keyid`. */
  readonly keyLookup: VerificationKeyLookup;
  /** Accept only the signature with this label. */
  readonly label?: string;
  /** Accept only a signature with this `tag`. */
  readonly tag?: string;
  /**
   * Components the signature must cover (names or serialized identifiers). `@target-uri` is also
   * satisfied by `@path` together with `@query` (both with `@authority` required beside them, the
   * target is then bound too, except its scheme).
   */
  readonly requiredComponents?: readonly string[];
  /** Refuse a signature without `created` (default true). */
  readonly requireCreated?: boolean;
  /** Oldest accepted `created`, in seconds before now (default 300). */
  readonly maxSignatureAgeSeconds?: number;
  /** Allowed clock difference, in seconds (default 5). */
  readonly clockToleranceSeconds?: number;
  /** Size bounds of the fields. */
  readonly limits?: Partial<StructuredLimits>;
  /** Structured Field types of fields covered with `sf` or `key`, beyond the known ones. */
  readonly fieldTypes?: Readonly<Record<string, StructuredFieldType>>;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

/** A verified signature. */
export interface VerifiedSignature {
  /** Its label. */
  readonly label: string;
  /** The `keyid`. */
  readonly keyId: string;
  /** The algorithm it verified with (from the key). */
  readonly algorithm: HttpSignatureAlgorithm;
  /** The signature parameters. */
  readonly params: SignatureParameters;
  /** The covered components, serialized, in order. */
  readonly components: readonly string[];
  /** The parsed covered components. */
  readonly identifiers: readonly ComponentIdentifier[];
  /** The signature base that verified. */
  readonly signatureBase: string;
}

/** The default covered components a verifier requires: the method and the whole target. */
export const DEFAULT_REQUIRED_COMPONENTS: readonly string[] = Object.freeze(['@method', '@authority', '@target-uri']);

/** Picks the one entry this verifier considers: the first (in field order) with our label and tag. */
function select(entries: readonly SignatureInputEntry[], label: string | undefined, tag: string | undefined): SignatureInputEntry {
  for (const entry of entries) {
    if (label !== undefined && entry.label !== label) continue;
    if (tag !== undefined && entry.params.tag !== tag) continue;
    return entry;
  }
  throw invalidCredentials('signature_missing', 'The request carries no signature this service accepts (check the label and tag).');
}

/**
 * The names of required components the entry does not cover, where `@target-uri` may be replaced
 * by `@path` and `@query`.
 */
export function uncoveredComponents(covered: readonly string[], required: readonly ComponentIdentifier[]): readonly string[] {
  const have = new Set(covered);
  return required
    .filter((c) => !have.has(c.serialized))
    .filter((c) => !(c.serialized === '"@target-uri"' && have.has('"@path"') && have.has('"@query"')))
    .map((c) => c.serialized);
}

/** `required` as identifiers, for callers that check the same list on every request. */
export function requiredIdentifiers(required: readonly string[]): readonly ComponentIdentifier[] {
  return required.map(componentFromText);
}

function checkTimes(params: SignatureParameters, options: VerifyMessageOptions): void {
  const now = Math.floor((options.clock ?? Date.now)() / 1000);
  const tolerance = options.clockToleranceSeconds ?? 5;
  const maxAge = options.maxSignatureAgeSeconds ?? 300;
  if (params.created === undefined) {
    if (options.requireCreated !== false) throw invalidCredentials('created_missing', 'The signature has no "created" parameter.');
  } else {
    if (params.created > now + tolerance) throw invalidCredentials('issued_in_future', 'The signature was created in the future.');
    if (params.created < now - maxAge - tolerance)
      throw new AuthError('token_expired', { reason: 'too_old', detail: 'The signature is too old.' });
  }
  if (params.expires !== undefined && params.expires < now - tolerance)
    throw new AuthError('token_expired', { reason: 'expired', detail: 'The signature has expired.' });
}

/** The algorithm to verify with: the key's, checked against the signature's `alg` (RFC 9421 §3.2 step 6). */
function chooseAlgorithm(key: VerificationKey, alg: string | undefined): HttpSignatureAlgorithm {
  const fits = algorithmsForKey(key.key);
  const allowed = (key.algorithms ?? fits.filter((a) => a !== 'hmac-sha256')).filter((a) => fits.includes(a));
  if (alg !== undefined) {
    if (!(allowed as readonly string[]).includes(alg))
      throw invalidCredentials('algorithm_not_allowed', 'The signature names an algorithm its key is not used with.');
    return alg as HttpSignatureAlgorithm;
  }
  if (allowed.length !== 1)
    throw invalidCredentials('algorithm_not_allowed', 'The key of this signature needs the "alg" parameter or one configured algorithm.');
  return allowed[0] as HttpSignatureAlgorithm;
}

/**
 * Verifies the one signature of `message` this verifier accepts (RFC 9421 §3.2).
 * @returns the verified signature.
 * @throws AuthError 400 for malformed fields; 401 when no signature is for this verifier
 *   (`signature_missing`), a required component is not covered (`component_not_covered`), a
 *   covered component is absent (`component_missing`), the time window fails (`created_missing`,
 *   `issued_in_future`, `too_old`, `expired`), the key is unknown (`key_unknown`), the algorithm
 *   does not fit (`algorithm_not_allowed`) or the signature does not verify (`signature_invalid`).
 */
export async function verifyMessage(options: VerifyMessageOptions): Promise<VerifiedSignature> {
  const limits = { ...DEFAULT_STRUCTURED_LIMITS, ...(options.limits ?? {}) };
  const entries = parseSignatureInput(options.signatureInput, limits);
  const signatures = parseSignatures(options.signature, limits);
  const entry = select(entries, options.label, options.tag);
  const bytes = signatures.get(entry.label);
  if (bytes === undefined) throw malformedRequest('signature_header_invalid', 'The Signature header has no member for the chosen label.');
  const covered = entry.components.map((c) => c.serialized);
  const missing = uncoveredComponents(covered, requiredIdentifiers(options.requiredComponents ?? DEFAULT_REQUIRED_COMPONENTS));
  if (missing.length > 0) {
    // Plain names unquoted: the detail is also the challenge's quoted error_description.
    const names = missing.map((c) => c.replace(/^"([^"]*)"$/, '$1'));
    throw invalidCredentials('component_not_covered', `The signature must cover ${names.join(', ')}.`);
  }
  checkTimes(entry.params, options);
  const keyId = entry.params.keyid;
  if (keyId === undefined) throw invalidCredentials('key_unknown', 'The signature has no "keyid" parameter.');
  const key = await options.keyLookup(keyId, entry);
  if (key === undefined) throw invalidCredentials('key_unknown', 'The signature names a key this service does not know.');
  const algorithm = chooseAlgorithm(key, entry.params.alg);
  const base = signatureBase(options.message, entry.components, entry.signatureParams, {
    ...KNOWN_STRUCTURED_FIELDS,
    ...(options.fieldTypes ?? {}),
  });
  if (!verifyBase(algorithm, key.key, base, bytes)) throw invalidCredentials('signature_invalid', 'The signature does not verify.');
  return {
    label: entry.label,
    keyId,
    algorithm,
    params: entry.params,
    components: covered,
    identifiers: entry.components,
    signatureBase: base,
  };
}
