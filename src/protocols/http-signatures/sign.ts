/**
 * Signing a message (RFC 9421 §3.1): the `Signature-Input` and `Signature` members for one label.
 */
import { randomBytes } from 'node:crypto';
import { serializeParameters } from 'structured-headers';
import { isAuthError } from '../../errors.js';
import { algorithmsForKey, signBase, type SignatureKeyMaterial } from './algorithms.js';
import { KNOWN_STRUCTURED_FIELDS, signatureBase, type StructuredFieldType } from './base.js';
import type { HttpMessage } from './message.js';
import { componentFromText, type ComponentIdentifier, type HttpSignatureAlgorithm } from './structured.js';

/** What {@link signMessage} signs with. */
export interface HttpSigningKey {
  /** A private KeyObject (Ed25519, EC P-256/P-384, RSA ≥ 2048 bits) or an HMAC secret (≥ 32 bytes). */
  readonly key: SignatureKeyMaterial;
  /** The algorithm; default the key's only one (an RSA key needs it: `rsa-pss-sha512` or `rsa-v1_5-sha256`). */
  readonly algorithm?: HttpSignatureAlgorithm;
  /** The `keyid` parameter. */
  readonly keyId?: string;
}

/** The signature parameters {@link signMessage} writes. */
export interface SignParameters {
  /** `created`, epoch seconds; default now; `false` leaves it out. */
  readonly created?: number | false;
  /** `expires`, epoch seconds. */
  readonly expires?: number;
  /** `nonce`; `true` for 16 random bytes (base64url). */
  readonly nonce?: string | true;
  /** `tag`. */
  readonly tag?: string;
  /** Write the `alg` parameter (default false: RFC 9421 §3.3.7 leaves the choice to the key). */
  readonly alg?: boolean;
}

/** Options of {@link signMessage}. */
export interface SignMessageOptions {
  /** The message to sign. */
  readonly message: HttpMessage;
  /** Components to cover, as names (`@method`, `content-digest`) or serialized identifiers (`"@query-param";name="id"`). */
  readonly components: readonly string[];
  /** The key. */
  readonly key: HttpSigningKey;
  /** Signature parameters. */
  readonly params?: SignParameters;
  /** The label (default `sig1`). */
  readonly label?: string;
  /** Structured Field types of fields covered with `sf` or `key`, beyond the known ones. */
  readonly fieldTypes?: Readonly<Record<string, StructuredFieldType>>;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

/** What {@link signMessage} produces. */
export interface SignedMessage {
  /** The label. */
  readonly label: string;
  /** The `Signature-Input` member, e.g. `sig1=("@method" …);created=…;keyid="…"`: the whole field value when it is the only one. */
  readonly signatureInput: string;
  /** The `Signature` member, e.g. `sig1=:…:`. */
  readonly signature: string;
  /** The signature base that was signed (for debugging and tests). */
  readonly signatureBase: string;
}

const LABEL = /^[a-z*][a-z0-9_\-.*]*$/;

function paramsMap(
  params: SignParameters,
  key: HttpSigningKey,
  algorithm: HttpSignatureAlgorithm,
  now: number,
): Map<string, string | number> {
  const map = new Map<string, string | number>();
  if (params.created !== false) map.set('created', params.created ?? Math.floor(now / 1000));
  if (params.expires !== undefined) map.set('expires', params.expires);
  if (params.nonce !== undefined) map.set('nonce', params.nonce === true ? randomBytes(16).toString('base64url') : params.nonce);
  if (params.alg === true) map.set('alg', algorithm);
  if (key.keyId !== undefined) map.set('keyid', key.keyId);
  if (params.tag !== undefined) map.set('tag', params.tag);
  return map;
}

/**
 * Signs `message` (RFC 9421 §3.1).
 * @example
 * const { signatureInput, signature } = signMessage({
 *   message: httpMessage({ method: 'GET', url: 'https://api.example.com/orders' }),
 *   components: ['@method', '@authority', '@target-uri'],
 *   key: { key: privateKey, keyId: 'client-1' },
 * });
 * @throws TypeError for a bad label, component, or a key that cannot sign with the algorithm;
 *   AuthError 401 `component_missing` when the message lacks a covered component.
 */
export function signMessage(options: SignMessageOptions): SignedMessage {
  const label = options.label ?? 'sig1';
  if (!LABEL.test(label)) throw new TypeError('signMessage(): "label" must be a Structured Field key such as "sig1"');
  const usable = algorithmsForKey(options.key.key);
  const algorithm = options.key.algorithm ?? (usable.length === 1 ? usable[0] : undefined);
  if (algorithm === undefined)
    throw new TypeError(
      'signMessage(): "key.algorithm" is required for this key (an RSA key signs with "rsa-pss-sha512" or "rsa-v1_5-sha256")',
    );
  let components: ComponentIdentifier[];
  try {
    components = options.components.map(componentFromText);
  } catch (thrown) {
    if (isAuthError(thrown)) throw new TypeError(`signMessage(): "components": ${thrown.detail}`);
    throw thrown;
  }
  const params = paramsMap(options.params ?? {}, options.key, algorithm, (options.clock ?? Date.now)());
  const inner = `(${components.map((c) => c.serialized).join(' ')})${serializeParameters(params)}`;
  const base = signatureBase(options.message, components, inner, { ...KNOWN_STRUCTURED_FIELDS, ...(options.fieldTypes ?? {}) });
  const signature = signBase(algorithm, options.key.key, base);
  return { label, signatureInput: `${label}=${inner}`, signature: `${label}=:${signature.toString('base64')}:`, signatureBase: base };
}
