/**
 * `httpSignatureScheme(options)`: requests signed with RFC 9421 HTTP Message Signatures as an
 * AuthScheme. The target URI is built from trusted parts only (the configured `origins`, the Host
 * checked as for DPoP, `X-Forwarded-*` only through Express's `trust proxy`); the protocol lives in
 * src/protocols/http-signatures/.
 */
import { AuthError, isAuthError, malformedRequest, invalidCredentials, dependencyUnavailable, type Challenge } from '../../errors.js';
import {
  booleanOption,
  describeValue,
  enumOption,
  forFactory,
  numberOption,
  optionError,
  optionNames,
  optionsObject,
  positiveInteger,
  nonNegative,
  positive,
} from '../../lib/options.js';
import { reportingTo, Warnings, type ObservableOptions } from '../../lib/warnings.js';
import { createPrincipal, type Principal, type PrincipalKind } from '../../principal.js';
import { credentialPresence, type AuthRequest, type AuthScheme } from '../../scheme.js';
import { MemoryReplayStore, type ReplayStore } from '../../stores/replay.js';
import { sharedStoreKinds } from '../../stores/shared.js';
import type { RemoteJwks } from '../../keys/remote-jwks.js';
import { originOption, requestOrigin } from '../../protocols/dpop/target.js';
import { feedRequestBody } from '../../protocols/http-signatures/body.js';
import { ContentDigestCheck } from '../../protocols/http-signatures/digest.js';
import { messageFromNodeRequest, type HttpMessage } from '../../protocols/http-signatures/message.js';
import {
  DEFAULT_STRUCTURED_LIMITS,
  componentFromText,
  serializeAcceptSignature,
  type StructuredLimits,
} from '../../protocols/http-signatures/structured.js';
import type { StructuredFieldType } from '../../protocols/http-signatures/base.js';
import { DEFAULT_REQUIRED_COMPONENTS, verifyMessage, type VerifiedSignature } from '../../protocols/http-signatures/verify.js';
import {
  KeySources,
  type FoundKey,
  type HttpSignatureKeyResolver,
  type HttpSignaturePublicKey,
  type HttpSignatureSharedSecret,
} from './keys.js';

const WHERE = 'httpSignatureScheme()';

/** Options for {@link httpSignatureScheme}. */
export interface HttpSignatureSchemeOptions extends ObservableOptions {
  /** Scheme name for `authenticate()` (default `http-signature`). */
  readonly name?: string;
  /**
   * This API's external origins, e.g. `['https://api.example.com']` (required). A request whose
   * origin (from `Host`, or the trusted `X-Forwarded-Host`/`-Proto`) is not one of them is refused
   * before any signature is checked, so a signature made for another service does not pass here.
   */
  readonly origins: readonly string[];
  /** Public keys by `keyid`. */
  readonly publicKeys?: Readonly<Record<string, HttpSignaturePublicKey>> | ReadonlyMap<string, HttpSignaturePublicKey>;
  /** HMAC secrets by `keyid`: the only way `hmac-sha256` is accepted. */
  readonly sharedSecrets?: Readonly<Record<string, HttpSignatureSharedSecret>> | ReadonlyMap<string, HttpSignatureSharedSecret>;
  /** Looks up keys the static maps do not hold (a database, a key directory). */
  readonly keyResolver?: HttpSignatureKeyResolver;
  /** A JWK Set whose `kid`s are the `keyid`s (principal subject: the `keyid`). */
  readonly jwksUri?: string | RemoteJwks;
  /**
   * Components every accepted signature covers (default `@method`, `@authority`, `@target-uri`;
   * `@path` with `@query` stands for `@target-uri`). Names or serialized identifiers.
   */
  readonly requiredComponents?: readonly string[];
  /** Accept only the signature with this label (default: any label, see `tag`). */
  readonly label?: string;
  /** Accept only signatures with this `tag` parameter. */
  readonly tag?: string;
  /** Oldest accepted `created`, in seconds (default 300). */
  readonly maxSignatureAgeSeconds?: number;
  /** Allowed clock difference, in seconds (default 5). */
  readonly clockToleranceSeconds?: number;
  /** `required`: refuse signatures without `nonce`; `optional` (default): check the ones that have one. */
  readonly nonce?: 'required' | 'optional';
  /** Where used nonces are recorded (default a MemoryReplayStore; use RedisReplayStore with several instances). */
  readonly replayStore?: ReplayStore;
  /** Largest body hashed for a covered `content-digest`, in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Longest `Signature-Input` / `Signature` value, in bytes (default 8192). */
  readonly maxHeaderBytes?: number;
  /** Most signatures in one request (default 8). */
  readonly maxSignatures?: number;
  /** Most covered components per signature (default 32). */
  readonly maxComponents?: number;
  /** Send `Accept-Signature` (RFC 9421 §5) with this scheme's 401s, naming what to sign (default true). */
  readonly acceptSignature?: boolean;
  /** Structured Field types of fields covered with `sf` or `key`, beyond the known ones. */
  readonly fieldTypes?: Readonly<Record<string, StructuredFieldType>>;
  /** Principal kind for keys whose entry gives none (default `service`). */
  readonly defaultKind?: PrincipalKind;
  /** Level for keys whose entry gives none (default 0). */
  readonly defaultLevel?: number;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

const KNOWN = optionNames<HttpSignatureSchemeOptions>()({
  name: 1,
  origins: 1,
  publicKeys: 1,
  sharedSecrets: 1,
  keyResolver: 1,
  jwksUri: 1,
  requiredComponents: 1,
  label: 1,
  tag: 1,
  maxSignatureAgeSeconds: 1,
  clockToleranceSeconds: 1,
  nonce: 1,
  replayStore: 1,
  maxBodyBytes: 1,
  maxHeaderBytes: 1,
  maxSignatures: 1,
  maxComponents: 1,
  acceptSignature: 1,
  fieldTypes: 1,
  defaultKind: 1,
  defaultLevel: 1,
  clock: 1,
  logger: 1,
  validate: 1,
});

/** The `WWW-Authenticate` auth-scheme this scheme's challenges use (RFC 9421 defines none; see docs/http-signatures.md). */
export const HTTP_SIGNATURE_CHALLENGE = 'Signature';

const MAX_NONCE_LENGTH = 256;

/** One header as a string: repeated lines joined with `, ` (Node joins unknown repeated fields so already). */
function header(req: AuthRequest, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

function originsOption(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw optionError(WHERE, 'origins', 'a non-empty array of origins such as "https://api.example.com"', describeValue(value));
  return value.map((item: unknown, i) => {
    const origin = originOption(item);
    if (origin === undefined)
      throw optionError(
        WHERE,
        `origins[${i}]`,
        'an http(s) origin without path, query or user info, such as "https://api.example.com"',
        describeValue(item),
      );
    return origin;
  });
}

function componentsOption(value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_REQUIRED_COMPONENTS;
  if (!Array.isArray(value)) throw optionError(WHERE, 'requiredComponents', 'an array of component names', describeValue(value));
  return value.map((item: unknown, i) => {
    try {
      if (typeof item !== 'string') throw new Error('not a string');
      return componentFromText(item).serialized;
    } catch {
      throw optionError(WHERE, `requiredComponents[${i}]`, 'a component name such as "@method" or "content-digest"', describeValue(item));
    }
  });
}

/** The label / tag option: a Structured Field key / any string. */
function labelOption(value: unknown, option: string, pattern: RegExp): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value))
    throw optionError(WHERE, option, 'a Structured Field key such as "sig1"', describeValue(value));
  return value;
}

/** The trusted target URI of the request: a configured origin and the request-target as received. */
function targetUri(req: AuthRequest, origins: readonly string[]): string {
  const origin = requestOrigin(req);
  if (!origins.includes(origin)) throw invalidCredentials('authority_invalid', 'The request names an origin this service does not serve.');
  const target = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  if (!target.startsWith('/'))
    throw malformedRequest('request_target', 'A signed request must address a path (origin-form request-target).');
  return `${origin}${target}`;
}

/** The error with the scheme's challenge and `Accept-Signature`, for 401s. */
function withChallenge(thrown: unknown, challenge: Challenge, headers: Readonly<Record<string, string>> | undefined): unknown {
  if (!isAuthError(thrown) || thrown.status !== 401) return thrown;
  return new AuthError(thrown.code, {
    detail: thrown.detail,
    reason: thrown.reason,
    challenges: [
      { scheme: challenge.scheme, params: { ...(challenge.params ?? {}), error: 'invalid_signature', error_description: thrown.detail } },
    ],
    cause: thrown.cause,
    ...(headers === undefined ? {} : { headers: { ...(thrown.headers ?? {}), ...headers } }),
    endsChain: thrown.endsChain,
  });
}

/**
 * The RFC 9421 HTTP Message Signatures scheme.
 * @example
 * app.post('/orders', authenticate([httpSignatureScheme({
 *   origins: ['https://api.example.com'],
 *   publicKeys: { 'client-1': { key: publicKeyPem, subject: 'billing-service' } },
 * })]), handler);
 * @throws TypeError `httpSignatureScheme(): "<option>" must be …`.
 */
export function httpSignatureScheme(options: HttpSignatureSchemeOptions): AuthScheme {
  optionsObject(options, WHERE, false);
  const warnings = new Warnings(WHERE, options);
  warnings.unknownOptions(options, KNOWN);
  const origins = originsOption(options.origins);
  const keys = new KeySources(WHERE, forFactory(options, WHERE));
  if (keys.empty)
    throw optionError(WHERE, 'publicKeys', 'given (or "sharedSecrets", "keyResolver" or "jwksUri"): the scheme needs a key source');
  const required = componentsOption(options.requiredComponents);
  const label = labelOption(options.label, 'label', /^[a-z*][a-z0-9_\-.*]*$/);
  if (options.tag !== undefined && (typeof options.tag !== 'string' || options.tag === ''))
    throw optionError(WHERE, 'tag', 'a non-empty string', describeValue(options.tag));
  const tag = options.tag;
  const maxAge = positive(options.maxSignatureAgeSeconds, 300, WHERE, 'maxSignatureAgeSeconds');
  const tolerance = nonNegative(options.clockToleranceSeconds, 5, WHERE, 'clockToleranceSeconds');
  const nonceMode = enumOption(options.nonce, ['required', 'optional'], 'optional', WHERE, 'nonce');
  const maxBodyBytes = positiveInteger(options.maxBodyBytes, 1024 * 1024, WHERE, 'maxBodyBytes');
  const limits: StructuredLimits = {
    maxHeaderBytes: positiveInteger(options.maxHeaderBytes, DEFAULT_STRUCTURED_LIMITS.maxHeaderBytes, WHERE, 'maxHeaderBytes'),
    maxSignatures: positiveInteger(options.maxSignatures, DEFAULT_STRUCTURED_LIMITS.maxSignatures, WHERE, 'maxSignatures'),
    maxComponents: positiveInteger(options.maxComponents, DEFAULT_STRUCTURED_LIMITS.maxComponents, WHERE, 'maxComponents'),
  };
  const defaultKind = enumOption(options.defaultKind, ['service', 'user'], 'service', WHERE, 'defaultKind');
  const defaultLevel = numberOption(options.defaultLevel, 0, WHERE, 'defaultLevel');
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw optionError(WHERE, 'clock', 'a function () => epoch ms', describeValue(clock));
  const store: ReplayStore = options.replayStore ?? new MemoryReplayStore();
  let instancesChecked = options.replayStore !== undefined;
  /**
   * Once, at the first nonce: the default in-memory store in an app that looks like one of several
   * instances (Express's `trust proxy` set, or a Redis or PostgreSQL store built in this process).
   */
  const checkInstances = (req: AuthRequest): void => {
    if (instancesChecked) return;
    instancesChecked = true;
    const trust = (req as { app?: { get?(setting: string): unknown } }).app?.get?.('trust proxy');
    const proxied = trust !== undefined && trust !== false && trust !== 0;
    const shared = sharedStoreKinds();
    if (!proxied && shared === undefined) return;
    warnings.warn(
      'http_signature_per_process_state',
      `${proxied ? 'Express\'s "trust proxy" is set' : `a shared store (${shared ?? ''}) is in use`}, as when the API runs on several instances, but signature nonces are kept in this process (the default in-memory "replayStore"): a nonce used on one instance is accepted again by another; give every instance the same RedisReplayStore`,
    );
  };
  const name = options.name ?? 'http-signature';
  const challenge: Challenge = { scheme: HTTP_SIGNATURE_CHALLENGE };
  const acceptSignature = booleanOption(options.acceptSignature, true, WHERE, 'acceptSignature')
    ? serializeAcceptSignature([
        {
          label: label ?? 'sig1',
          components: required,
          params: { created: true, ...(nonceMode === 'required' ? { nonce: true } : {}), ...(tag === undefined ? {} : { tag }) },
        },
      ])
    : undefined;
  const challengeHeaders = acceptSignature === undefined ? undefined : { 'Accept-Signature': acceptSignature };
  const read = (req: AuthRequest): true | undefined =>
    req.headers['signature-input'] !== undefined || req.headers['signature'] !== undefined ? true : undefined;

  async function verify(req: AuthRequest): Promise<Principal | undefined> {
    const input = header(req, 'signature-input');
    const signature = header(req, 'signature');
    if (input === undefined && signature === undefined) return undefined;
    if (input === undefined) throw malformedRequest('signature_input_invalid', 'A Signature header needs its Signature-Input header.');
    if (signature === undefined) throw malformedRequest('signature_header_invalid', 'A Signature-Input header needs its Signature header.');
    const message: HttpMessage = messageFromNodeRequest(req, targetUri(req, origins));
    let found: FoundKey | undefined;
    let verified: VerifiedSignature;
    try {
      verified = await verifyMessage({
        message,
        signatureInput: input,
        signature,
        requiredComponents: required,
        maxSignatureAgeSeconds: maxAge,
        clockToleranceSeconds: tolerance,
        limits,
        clock,
        ...(label === undefined ? {} : { label }),
        ...(tag === undefined ? {} : { tag }),
        ...(options.fieldTypes === undefined ? {} : { fieldTypes: options.fieldTypes }),
        keyLookup: async (keyId, entry) => {
          try {
            found = await keys.resolve(keyId, { request: req, message, entry });
          } catch (thrown) {
            throw isAuthError(thrown) ? thrown : dependencyUnavailable('key_lookup_unavailable', thrown);
          }
          return found;
        },
      });
    } catch (thrown) {
      // Signatures for another label or tag are for other verifiers (RFC 9421 §3.2): without one
      // of ours the request carries no credential of this scheme.
      if (isAuthError(thrown) && thrown.reason === 'signature_missing') return undefined;
      throw thrown;
    }
    const { nonce } = verified.params;
    if (nonce === undefined && nonceMode === 'required')
      throw invalidCredentials('nonce_missing', 'The signature has no "nonce" parameter.');
    if (nonce !== undefined && nonce.length > MAX_NONCE_LENGTH)
      throw invalidCredentials('nonce_too_long', 'The signature nonce is too long.');
    // Whatever parameters it is covered with (`sf`, `bs`, `key`), a signed Content-Digest is a claim
    // about the body, and a principal listing it must mean the body was checked.
    if (verified.identifiers.some((c) => c.name === 'content-digest')) {
      const check = new ContentDigestCheck(header(req, 'content-digest') ?? '', maxBodyBytes);
      await feedRequestBody(req as Parameters<typeof feedRequestBody>[0], check, maxBodyBytes);
      check.finish();
    }
    // Last, so that a refused request does not use its nonce up. Kept for the whole window a
    // signature is accepted in; scoped by keyid, so one key's nonces do not collide with another's.
    if (nonce !== undefined) {
      checkInstances(req);
      const fresh = await store.claim({
        subject: `http-signature:${verified.keyId}`,
        time: String(verified.params.created ?? ''),
        nonce,
        ttlMs: (maxAge + 2 * tolerance + 1) * 1000,
      });
      if (!fresh) throw new AuthError('replay', { reason: 'replayed', detail: 'This signature nonce was already used.' });
    }
    const key = found as FoundKey;
    return createPrincipal({
      subject: key.subject ?? verified.keyId,
      kind: key.kind ?? defaultKind,
      scheme: 'http-signature',
      scopes: key.scopes ?? [],
      level: key.level ?? defaultLevel,
      details: {
        ...(key.details ?? {}),
        keyId: verified.keyId,
        algorithm: verified.algorithm,
        label: verified.label,
        components: Object.freeze([...verified.components]),
        ...(verified.params.tag === undefined ? {} : { tag: verified.params.tag }),
        ...(verified.params.created === undefined ? {} : { created: verified.params.created }),
        ...(verified.params.expires === undefined ? {} : { expiresAt: verified.params.expires }),
        ...(nonce === undefined ? {} : { nonce }),
      },
    });
  }

  return reportingTo(
    {
      name,
      challenge,
      ...(challengeHeaders === undefined ? {} : { challengeHeaders }),
      hasCredential: credentialPresence(read),
      async authenticate(req: AuthRequest): Promise<Principal | undefined> {
        try {
          return await verify(req);
        } catch (thrown) {
          throw withChallenge(thrown, challenge, challengeHeaders);
        }
      },
    },
    warnings,
  );
}
