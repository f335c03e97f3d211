/**
 * The client side of RFC 9421: a request signer that needs no fetch (give it a method, a URL,
 * headers and the body when known; it returns the header fields to add), and `createSignedFetch`,
 * a `fetch` that signs every request it sends. With `signatureAgent` it signs as a Web Bot Auth
 * agent: `Signature-Agent` in the dictionary form keyed by the label and covered by the signature,
 * `keyid` the key's JWK thumbprint, `tag` `web-bot-auth`, and an `expires`.
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import { jwkThumbprint } from '../../keys/thumbprint.js';
import {
  booleanOption,
  enumOption,
  functionOption,
  listOption,
  optionError,
  optionsObject,
  positive,
  stringOption,
  optionNames,
} from '../../lib/options.js';
import { Warnings } from '../../lib/warnings.js';
import { contentDigest, type ContentDigestAlgorithm } from './digest.js';
import { httpMessage } from './message.js';
import { signMessage, type HttpSigningKey } from './sign.js';
import { algorithmsForKey } from './algorithms.js';

/** The `tag` of Web Bot Auth signatures. */
export const WEB_BOT_AUTH_TAG = 'web-bot-auth';

/** Options of {@link createRequestSigner} and {@link createSignedFetch}. */
export interface RequestSignerOptions {
  /** The private key (and its algorithm and `keyid`; with `signatureAgent` the `keyid` defaults to the key's JWK thumbprint). */
  readonly key: HttpSigningKey;
  /** Components to cover (default `@method`, `@target-uri`, `@authority`, plus `content-digest` when the body is known, plus the `Signature-Agent` member). */
  readonly components?: readonly string[];
  /** `expires` = `created` + this, in seconds (default none; 60 with `signatureAgent`). */
  readonly lifetimeSeconds?: number;
  /** Add a random `nonce` (default true). */
  readonly nonce?: boolean;
  /** The `tag` parameter (default none; `web-bot-auth` with `signatureAgent`). */
  readonly tag?: string;
  /** The signature label (default `sig1`). */
  readonly label?: string;
  /** Your key directory's origin (`https://bot.example`): signs as a Web Bot Auth agent. */
  readonly signatureAgent?: string;
  /** The Content-Digest algorithm for known bodies (default `sha-256`). */
  readonly digestAlgorithm?: ContentDigestAlgorithm;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

/** One request to sign. */
export interface RequestToSign {
  readonly method: string;
  /** The absolute URL the request goes to. */
  readonly url: string;
  /** The header fields the request will carry (covered fields are read from here). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body when it is known in full; a `Content-Digest` is added for it. */
  readonly body?: string | Uint8Array;
}

/** Signs requests: returns the header fields to add (`Signature-Input`, `Signature`, and `Content-Digest` / `Signature-Agent` when they apply). */
export type RequestSigner = (request: RequestToSign) => Record<string, string>;

const DEFAULT_COMPONENTS = ['@method', '@target-uri', '@authority'] as const;
const SIGNER_KNOWN = {
  key: 1,
  components: 1,
  lifetimeSeconds: 1,
  nonce: 1,
  tag: 1,
  label: 1,
  signatureAgent: 1,
  digestAlgorithm: 1,
  clock: 1,
} as const;
const SIGNER_OPTIONS = optionNames<RequestSignerOptions>()(SIGNER_KNOWN);
const SIGNED_FETCH_OPTIONS = optionNames<SignedFetchOptions>()({ ...SIGNER_KNOWN, fetch: 1 });
const WHERE = 'createRequestSigner()';

/**
 * A request signer.
 * @example const sign = createRequestSigner({ key: { key: privateKey, keyId: 'client-1' } }); const headers = sign({ method: 'GET', url: 'https://api.example.com/orders' });
 * @throws TypeError for options that are out of range, and (when signing) for a covered component the request lacks.
 */
export function createRequestSigner(options: RequestSignerOptions, where = WHERE): RequestSigner {
  optionsObject(options, where, false);
  new Warnings(where).unknownOptions(options, where === WHERE ? SIGNER_OPTIONS : SIGNED_FETCH_OPTIONS);
  if (typeof options.key !== 'object' || options.key === null || options.key instanceof KeyObject)
    throw optionError(where, 'key', 'an object { key, algorithm?, keyId? }');
  checkSigningKey(options.key, where);
  const agent = options.signatureAgent === undefined ? undefined : stringOption(options.signatureAgent, '', where, 'signatureAgent');
  if (agent !== undefined && !/^https:\/\/[^/?#@]+\/?$/i.test(agent))
    throw optionError(where, 'signatureAgent', 'an https origin such as "https://bot.example"');
  const label = stringOption(options.label, 'sig1', where, 'label');
  const lifetime =
    options.lifetimeSeconds === undefined && agent === undefined
      ? undefined
      : positive(options.lifetimeSeconds, 60, where, 'lifetimeSeconds');
  const nonce = booleanOption(options.nonce, true, where, 'nonce');
  const tag =
    options.tag === undefined ? (agent === undefined ? undefined : WEB_BOT_AUTH_TAG) : stringOption(options.tag, '', where, 'tag');
  const digest = enumOption<ContentDigestAlgorithm>(options.digestAlgorithm, ['sha-256', 'sha-512'], 'sha-256', where, 'digestAlgorithm');
  const clock = functionOption<() => number>(options.clock, where, 'clock', 'a function () => epoch ms') ?? Date.now;
  const chosen =
    options.components === undefined
      ? undefined
      : listOption(
          options.components,
          (v): v is string => typeof v === 'string' && v !== '',
          where,
          'components',
          'a list of component names',
        );
  let keyId = options.key.keyId;
  if (keyId === undefined && agent !== undefined) {
    // Web Bot Auth names keys by their JWK thumbprint (the directory lists them by it).
    if (options.key.key instanceof Uint8Array) throw optionError(where, 'key', 'an asymmetric key when "signatureAgent" is set');
    keyId = jwkThumbprint(createPublicKey(options.key.key));
  }
  const key: HttpSigningKey = { ...options.key, ...(keyId === undefined ? {} : { keyId }) };
  const agentComponent = `"signature-agent";key="${label}"`;

  return (request) => {
    const headers: Record<string, string> = { ...(request.headers ?? {}) };
    const added: Record<string, string> = {};
    if (request.body !== undefined) added['content-digest'] = contentDigest(request.body, [digest]);
    if (agent !== undefined) added['signature-agent'] = `${label}="${agent}"`;
    Object.assign(headers, added);
    const components = [...(chosen ?? DEFAULT_COMPONENTS)];
    if (chosen === undefined && request.body !== undefined) components.push('content-digest');
    if (agent !== undefined && !components.some((c) => c.startsWith('"signature-agent"') || c === 'signature-agent'))
      components.push(agentComponent);
    if (components.includes('content-digest') && request.body === undefined)
      throw new TypeError(`${where}: "components" covers content-digest, but the body of this request is not known`);
    const now = clock();
    const created = Math.floor(now / 1000);
    const signed = signMessage({
      message: httpMessage({ method: request.method, url: request.url, headers }),
      components,
      key,
      label,
      params: {
        created,
        ...(lifetime === undefined ? {} : { expires: created + Math.ceil(lifetime) }),
        ...(nonce ? { nonce: true as const } : {}),
        ...(tag === undefined ? {} : { tag }),
      },
      fieldTypes: { 'signature-agent': 'dictionary' },
      clock: () => now,
    });
    return { ...added, 'signature-input': signed.signatureInput, signature: signed.signature };
  };
}

/** The key must sign with one algorithm now, not fail on the first request. */
function checkSigningKey(key: HttpSigningKey, where: string): void {
  const material: unknown = key.key;
  const usable = material instanceof KeyObject ? (material.type === 'public' ? [] : algorithmsForKey(material)) : undefined;
  if (material instanceof Uint8Array) {
    if (algorithmsForKey(material).length === 0) throw optionError(where, 'key.key', 'an HMAC secret of at least 32 bytes');
  } else if (usable === undefined || usable.length === 0)
    throw optionError(where, 'key.key', 'a private KeyObject (Ed25519, EC P-256/P-384, RSA of 2048 bits or more) or an HMAC secret');
  const candidates = usable ?? ['hmac-sha256'];
  if (key.algorithm === undefined ? candidates.length !== 1 : !candidates.includes(key.algorithm))
    throw optionError(where, 'key.algorithm', `one of ${candidates.map((a) => `"${a}"`).join(', ')} for this key`);
}

/** Options of {@link createSignedFetch}: the signer's, and the fetch to wrap. */
export interface SignedFetchOptions extends RequestSignerOptions {
  /** The fetch to wrap (default the global `fetch`). */
  readonly fetch?: typeof fetch;
}

/** The body of a request as bytes, when it is known in full before sending. */
async function knownBody(input: string | Request | URL, init: RequestInit | undefined): Promise<string | Uint8Array | undefined> {
  const body = init?.body ?? undefined;
  if (body === undefined || body === null) {
    if (input instanceof Request && input.body !== null) return new Uint8Array(await input.clone().arrayBuffer());
    return undefined;
  }
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  // A stream (or form data, whose boundary fetch chooses): not known before it is sent.
  return undefined;
}

/**
 * A `fetch` that signs each request: `Signature-Input`, `Signature`, `Content-Digest` when the
 * body is known (string, bytes, Blob, URLSearchParams), and `Signature-Agent` for Web Bot Auth.
 * A redirect is returned to the caller, not followed, unless `init.redirect` says otherwise: the
 * signature covers the first target only and would otherwise be sent on to the next.
 * @example const signedFetch = createSignedFetch({ key: { key: privateKey }, signatureAgent: 'https://bot.example' }); await signedFetch('https://site.example/');
 */
export function createSignedFetch(options: SignedFetchOptions): typeof fetch {
  const where = 'createSignedFetch()';
  const sign = createRequestSigner(options, where);
  const send = functionOption<typeof fetch>(options.fetch, where, 'fetch', 'a fetch function') ?? fetch;
  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = request?.url ?? (input instanceof URL ? input.href : String(input));
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers ?? request?.headers);
    const body = await knownBody(input, init);
    const plain: Record<string, string> = {};
    headers.forEach((value, name) => {
      plain[name] = value;
    });
    if (body !== undefined && !headers.has('content-type') && typeof init?.body === 'string')
      plain['content-type'] = 'text/plain;charset=UTF-8';
    for (const [name, value] of Object.entries(sign({ method, url, headers: plain, ...(body === undefined ? {} : { body }) })))
      headers.set(name, value);
    if (plain['content-type'] !== undefined && !headers.has('content-type')) headers.set('content-type', plain['content-type']);
    // A redirect is not followed unless the caller asks (`init.redirect`): fetch would send the
    // signature, made for this target only, on to the next one, possibly another origin.
    const redirect = init?.redirect ?? 'manual';
    return send(request ?? url, { ...init, method, headers, redirect, ...(body === undefined || request === undefined ? {} : { body }) });
  };
}
