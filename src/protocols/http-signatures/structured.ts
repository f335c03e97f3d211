/**
 * The Structured Fields of RFC 9421 (`Signature-Input`, `Signature`, `Accept-Signature`), read with
 * the `structured-headers` parser (RFC 9651) after their size is bounded, and checked against what
 * RFC 9421 §2 and §4 allow: component identifiers with known parameters and no repeats, signature
 * parameters of the right types, byte sequences for signatures.
 */
import {
  parseDictionary,
  serializeInnerList,
  serializeItem,
  type BareItem,
  type Dictionary,
  type InnerList,
  type Item,
  type Parameters,
} from 'structured-headers';
import { malformedRequest, type AuthError, type KnownReason } from '../../errors.js';

/** The algorithms of RFC 9421 §3.3 this library signs and verifies. */
export type HttpSignatureAlgorithm =
  'ed25519' | 'ecdsa-p256-sha256' | 'ecdsa-p384-sha384' | 'rsa-pss-sha512' | 'rsa-v1_5-sha256' | 'hmac-sha256';

/** Every {@link HttpSignatureAlgorithm}, in the order of RFC 9421 §6.2.2. */
export const HTTP_SIGNATURE_ALGORITHMS: readonly HttpSignatureAlgorithm[] = Object.freeze([
  'rsa-pss-sha512',
  'rsa-v1_5-sha256',
  'hmac-sha256',
  'ecdsa-p256-sha256',
  'ecdsa-p384-sha384',
  'ed25519',
]);

/** The parameters a component identifier may carry (RFC 9421 §2.1, §2.2.8, §6.5.2). */
export interface ComponentParameters {
  /** `@query-param`: the parameter's name. */
  readonly name?: string;
  /** A Dictionary field: the member's key. */
  readonly key?: string;
  /** The field is re-serialized as a Structured Field. */
  readonly sf?: true;
  /** Each field line is wrapped as a byte sequence. */
  readonly bs?: true;
  /** The component comes from the request this response answers. */
  readonly req?: true;
  /** The field comes from the trailers. */
  readonly tr?: true;
}

/** One covered component (RFC 9421 §2): its name (lower case) and parameters. */
export interface ComponentIdentifier {
  /** `@method`, `@authority`, …, or an HTTP field name in lower case. */
  readonly name: string;
  /** Its parameters. */
  readonly params: ComponentParameters;
  /** The serialized identifier as it appears in the signature base, e.g. `"@query-param";name="id"`. */
  readonly serialized: string;
}

/** The signature parameters of RFC 9421 §2.3 this library reads. */
export interface SignatureParameters {
  /** Creation time, epoch seconds. */
  readonly created?: number;
  /** Expiry time, epoch seconds. */
  readonly expires?: number;
  /** A value the verifier may use to detect replays. */
  readonly nonce?: string;
  /** The algorithm the signer names (never trusted on its own: the key decides). */
  readonly alg?: string;
  /** Which key signed. */
  readonly keyid?: string;
  /** The application the signature is for (RFC 9421 §2.3). */
  readonly tag?: string;
}

/** One entry of `Signature-Input`: what a signature under `label` covers. */
export interface SignatureInputEntry {
  /** The dictionary key. */
  readonly label: string;
  /** The covered components, in order. */
  readonly components: readonly ComponentIdentifier[];
  /** The signature parameters. */
  readonly params: SignatureParameters;
  /** The value of `@signature-params` (RFC 9421 §2.3): the inner list re-serialized. */
  readonly signatureParams: string;
}

/** Size bounds applied before and after parsing. */
export interface StructuredLimits {
  /** Longest `Signature-Input` / `Signature` field value, in bytes. */
  readonly maxHeaderBytes: number;
  /** Most labels in one field. */
  readonly maxSignatures: number;
  /** Most covered components in one signature. */
  readonly maxComponents: number;
}

/** The defaults of {@link StructuredLimits}. */
export const DEFAULT_STRUCTURED_LIMITS: StructuredLimits = Object.freeze({ maxHeaderBytes: 8192, maxSignatures: 8, maxComponents: 32 });

const COMPONENT_PARAMS = new Set(['name', 'key', 'sf', 'bs', 'req', 'tr']);
const DERIVED = new Set([
  '@method',
  '@target-uri',
  '@authority',
  '@scheme',
  '@request-target',
  '@path',
  '@query',
  '@query-param',
  '@status',
]);
// RFC 9110 §5.1 field-name (token), lower case as RFC 9421 §2.1 requires.
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

const bad = (reason: KnownReason, detail: string): AuthError => malformedRequest(reason, detail);

/** True for the derived component names RFC 9421 §2.2 defines (and this library computes). */
export function isDerivedComponent(name: string): boolean {
  return DERIVED.has(name);
}

/** Parses a dictionary field bounded by `limits`; `field` names it in the refusal. */
function dictionary(value: string, field: string, reason: KnownReason, limits: StructuredLimits): Dictionary {
  if (Buffer.byteLength(value, 'latin1') > limits.maxHeaderBytes) throw bad('too_large', `The ${field} header is too large.`);
  let parsed: Dictionary;
  try {
    parsed = parseDictionary(value);
  } catch {
    throw bad(reason, `The ${field} header is not a valid Structured Field dictionary.`);
  }
  if (parsed.size > limits.maxSignatures) throw bad('too_large', `The ${field} header holds too many signatures.`);
  return parsed;
}

function isBoolTrue(value: BareItem | undefined): boolean {
  return value === true;
}

/**
 * Reads one component identifier (an sf-string item with parameters).
 * @throws AuthError 400 `component_invalid` for a name that is not a lower-case field name or a
 *   known derived component, unknown or mistyped parameters, or parameters that do not apply.
 */
export function componentIdentifier(item: Item): ComponentIdentifier {
  const [value, params] = item;
  if (typeof value !== 'string') throw bad('component_invalid', 'A component identifier must be a string.');
  const derived = value.startsWith('@');
  if (derived ? !DERIVED.has(value) : !FIELD_NAME.test(value))
    throw bad('component_invalid', derived ? 'The signature covers an unknown derived component.' : 'A covered field name is not valid.');
  const out: { name?: string; key?: string; sf?: true; bs?: true; req?: true; tr?: true } = {};
  for (const [key, param] of params) {
    if (!COMPONENT_PARAMS.has(key)) throw bad('component_invalid', 'A component identifier has an unknown parameter.');
    if (key === 'name' || key === 'key') {
      if (typeof param !== 'string') throw bad('component_invalid', `The "${key}" parameter of a component must be a string.`);
      out[key] = param;
    } else if (isBoolTrue(param)) {
      out[key as 'sf' | 'bs' | 'req' | 'tr'] = true;
    } else {
      throw bad('component_invalid', `The "${key}" parameter of a component must be true.`);
    }
  }
  if ((out.name !== undefined) !== (value === '@query-param'))
    throw bad('component_invalid', '"@query-param" needs a "name" parameter, and only it takes one.');
  if (derived && (out.key !== undefined || out.sf || out.bs || out.tr))
    throw bad('component_invalid', 'A derived component takes no field parameters.');
  // RFC 9421 §2.1.3: bs cannot be combined with sf or key.
  if (out.bs && (out.sf || out.key !== undefined))
    throw bad('component_invalid', 'The "bs" parameter cannot be combined with "sf" or "key".');
  if (value === '@status' && out.req) throw bad('component_invalid', '"@status" cannot come from the request.');
  return { name: value, params: out, serialized: serializeItem([value, params]) };
}

function integerParam(params: Parameters, name: string): number | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw bad('signature_input_invalid', `The "${name}" signature parameter must be an integer.`);
  return value;
}

function stringParam(params: Parameters, name: string): string | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw bad('signature_input_invalid', `The "${name}" signature parameter must be a string.`);
  return value;
}

/** Reads the signature parameters of an inner list (RFC 9421 §2.3); unknown ones stay in `@signature-params` only. */
export function signatureParameters(params: Parameters): SignatureParameters {
  const out: { created?: number; expires?: number; nonce?: string; alg?: string; keyid?: string; tag?: string } = {};
  const created = integerParam(params, 'created');
  if (created !== undefined) out.created = created;
  const expires = integerParam(params, 'expires');
  if (expires !== undefined) out.expires = expires;
  for (const name of ['nonce', 'alg', 'keyid', 'tag'] as const) {
    const value = stringParam(params, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Reads one `Signature-Input` member: an inner list of component identifiers with its parameters. */
function inputEntry(label: string, member: Item | InnerList, limits: StructuredLimits): SignatureInputEntry {
  if (!Array.isArray(member[0])) throw bad('signature_input_invalid', 'Each Signature-Input member must be an inner list.');
  const list = member as InnerList;
  if (list[0].length > limits.maxComponents) throw bad('too_large', 'A signature covers too many components.');
  const components = list[0].map(componentIdentifier);
  const seen = new Set<string>();
  for (const component of components) {
    // RFC 9421 §3.1 / §7.5.6: a component identifier may appear once.
    if (seen.has(component.serialized)) throw bad('component_invalid', 'A signature covers the same component twice.');
    seen.add(component.serialized);
  }
  return { label, components, params: signatureParameters(list[1]), signatureParams: serializeInnerList(list) };
}

/**
 * Parses a `Signature-Input` field value (RFC 9421 §4.1).
 * @throws AuthError 400 (`too_large`, `signature_input_invalid`, `component_invalid`).
 */
export function parseSignatureInput(value: string, limits: StructuredLimits = DEFAULT_STRUCTURED_LIMITS): readonly SignatureInputEntry[] {
  const parsed = dictionary(value, 'Signature-Input', 'signature_input_invalid', limits);
  return [...parsed].map(([label, member]) => inputEntry(label, member, limits));
}

/**
 * Parses a `Signature` field value (RFC 9421 §4.2): label → signature bytes.
 * @throws AuthError 400 (`too_large`, `signature_header_invalid`).
 */
export function parseSignatures(value: string, limits: StructuredLimits = DEFAULT_STRUCTURED_LIMITS): ReadonlyMap<string, Buffer> {
  const parsed = dictionary(value, 'Signature', 'signature_header_invalid', limits);
  const out = new Map<string, Buffer>();
  for (const [label, member] of parsed) {
    const bytes = member[0];
    // By tag, not instanceof: the parser may run in another realm (test runners' VM contexts).
    if (Array.isArray(bytes) || Object.prototype.toString.call(bytes) !== '[object ArrayBuffer]')
      throw bad('signature_header_invalid', 'Each Signature member must be a byte sequence.');
    out.set(label, Buffer.from(bytes as ArrayBuffer));
  }
  return out;
}

/** What an `Accept-Signature` member asks for (RFC 9421 §5.1). */
export interface SignatureRequest {
  /** The label the signer should use. */
  readonly label: string;
  /** The components to cover, serialized (e.g. `@method`, `"@query-param";name="id"` as `@query-param;name="id"` is not valid). */
  readonly components: readonly string[];
  /** Parameters to include: a `tag`, a `keyid`, an `alg`, or `created`/`nonce` as `true` (wanted, value chosen by the signer). */
  readonly params?: Readonly<Record<string, string | true>>;
}

/**
 * Serializes `Accept-Signature` (RFC 9421 §5.1). Components are given as names (`@method`,
 * `content-digest`) or as serialized identifiers (`"@query-param";name="id"`).
 */
export function serializeAcceptSignature(requests: readonly SignatureRequest[]): string {
  return requests
    .map((request) => {
      const items = request.components.map((c) => (c.startsWith('"') ? c : serializeItem([c, new Map()])));
      const params = Object.entries(request.params ?? {})
        .map(([k, v]) => (v === true ? `;${k}` : `;${k}=${serializeItem([v, new Map()])}`))
        .join('');
      return `${request.label}=(${items.join(' ')})${params}`;
    })
    .join(', ');
}

/**
 * Parses `Accept-Signature` (RFC 9421 §5.1) into its requests.
 * @throws AuthError 400 (`too_large`, `signature_input_invalid`, `component_invalid`).
 */
export function parseAcceptSignature(value: string, limits: StructuredLimits = DEFAULT_STRUCTURED_LIMITS): readonly SignatureRequest[] {
  const parsed = dictionary(value, 'Accept-Signature', 'signature_input_invalid', limits);
  return [...parsed].map(([label, member]) => {
    if (!Array.isArray(member[0])) throw bad('signature_input_invalid', 'Each Accept-Signature member must be an inner list.');
    const list = member as InnerList;
    if (list[0].length > limits.maxComponents) throw bad('too_large', 'A signature request names too many components.');
    const params: Record<string, string | true> = {};
    // Here a parameter without a value (`;created`) asks for it; one with a value asks for that value.
    for (const [name, param] of list[1]) params[name] = param === true ? true : String(param);
    return { label, components: list[0].map((item) => componentIdentifier(item).serialized), params };
  });
}

/**
 * A component identifier from its text form: a bare name (`@method`, `Content-Type`) or a
 * serialized identifier with parameters (`"@query-param";name="id"`, `"example-dict";key="a"`).
 * @throws AuthError 400 `component_invalid` (callers validating configuration turn it into a TypeError).
 */
export function componentFromText(text: string): ComponentIdentifier {
  if (!text.startsWith('"')) return componentIdentifier([text.toLowerCase(), new Map()]);
  let parsed: Dictionary;
  try {
    parsed = parseDictionary(`c=(${text})`);
  } catch {
    throw bad('component_invalid', 'A component identifier is not valid Structured Field syntax.');
  }
  const member = parsed.get('c');
  if (member === undefined || !Array.isArray(member[0]) || member[0].length !== 1)
    throw bad('component_invalid', 'A component identifier must be one item.');
  return componentIdentifier((member as InnerList)[0][0] as Item);
}
