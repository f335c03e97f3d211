/**
 * Every other service's side of APIJwt: verifies tokens as api_jwt / api-jwt-2 decode them (same
 * flags, same typed values), without the original's shared-state and crash bugs.
 */
import type { KeyObject } from 'node:crypto';
import { keyFamily, publicKeyOption, type KeyFamily, type PublicKeyInput } from '../../keys/import.js';
import {
  enumOption,
  exclusiveOptions,
  factoryOf,
  forFactory,
  hasMethods,
  nonNegative,
  optionError,
  positiveInteger,
  sharedSecretRefused,
} from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import {
  ALGORITHMS_BY_FAMILY,
  algorithmsForKey,
  parseCompact,
  typMatches,
  verifySignatureAsync,
  type JwsAlgorithm,
  type ParsedJws,
} from '../../jwt/compact.js';
import { RemoteJwks, type RemoteJwksOptions } from '../../keys/remote-jwks.js';
import { checkTimeClaims, maxTokenLifetimeOption, type TimeClaimPolicy } from '../../jwt/claims.js';
import { readExtras, toFloat } from './claims.js';
import { resolveModel, type ApiJwtModel, type ApiJwtModelOptions } from './config.js';

/** Where verification keys come from when they are not static: e.g. a JWKS URL (see `RemoteJwks`). */
export interface ApiJwtKeySource {
  /**
   * Resolves the key for a `kid` (or undefined when the source has none) that may verify `alg`
   * (a JWKS entry whose own `alg` differs is not returned). May throw a 503 AuthError.
   */
  getKey(kid: string | undefined, alg?: string): Promise<KeyObject | undefined>;
  /** For sources that change: fetch a stale set again (see `RemoteJwks.revalidate`). */
  revalidate?(): Promise<void> | undefined;
  /** For sources that change: hear which kids left the set (see `RemoteJwks.onKeysRemoved`). */
  onKeysRemoved?(listener: (kids: readonly string[]) => void): void;
}

/** Audience handling: api_jwt rejects any `aud`; api-jwt-2 requires `aud: "aud"`; or a real audience. */
export type AudienceMode =
  { readonly preset: 'api_jwt' } | { readonly preset: 'apijwt2' } | { readonly audience: string | readonly string[] };

/** Options for {@link ApiJwtVerifier}. */
export interface ApiJwtVerifierOptions extends ApiJwtModelOptions, ObservableOptions {
  /** Public keys, tried in order (PEM, JWK, KeyObject; a JSON array string of PEMs as api_jwt accepts). */
  readonly publicKeys?: PublicKeyInput | readonly PublicKeyInput[];
  /** A dynamic key source, consulted by `kid` after the static keys. */
  readonly keySource?: ApiJwtKeySource;
  /** The auth service's JWK Set URL: keys by `kid`, cached, re-fetched on an unknown `kid` (rotation). */
  readonly jwksUri?: string;
  /** Fetch, cache and cooldown settings for `jwksUri`. */
  readonly jwks?: RemoteJwksOptions;
  /**
   * Algorithms accepted; each key further limits them to its own type. Default: from the key, one
   * per type (RSA RS256 as api_jwt, Ed25519 EdDSA, P-256 ES256: what {@link ApiJwtIssuer} signs with).
   */
  readonly algorithms?: readonly JwsAlgorithm[];
  /** Audience handling (default: api_jwt's — a token with any `aud` is rejected). */
  readonly audience?: AudienceMode;
  /** Clock tolerance for `exp`, `nbf` and `iat`, seconds (default 0, as PyJWT's leeway; finite, >= 0). */
  readonly clockToleranceSeconds?: number;
  /** Reject tokens whose `iss` is not one of the configured key names' issuers (api_jwt does not check). */
  readonly requireKnownIssuer?: boolean;
  /** Largest token accepted, characters (default 8192; an integer >= 1). */
  readonly maxTokenLength?: number;
  /**
   * Check every extra against the model's allowed values (`allowed`, per key name for `PER_KEY`), and
   * require list extras as api_jwt's comma-joined string (default true). api_jwt checks only when
   * issuing; set false for tokens from issuers you do not control that follow another model.
   */
  readonly checkAllowedValues?: boolean;
  /**
   * Longest accepted lifetime, seconds: `exp` no further ahead than this, and `exp − iat` no longer
   * (default 86 400; a positive whole number).
   */
  readonly maxTokenLifetimeSeconds?: number;
  /** Required header `typ` (RFC 8725 §3.11), e.g. `JWT` as api_jwt writes; default: not checked. */
  readonly typ?: string;
  /** Clock in epoch milliseconds (default `Date.now`). */
  readonly clock?: () => number;
}

/** Typed claims of a verified token (api_jwt's `decode()` result, as a fresh object). */
export interface ApiJwtClaims {
  /** `sub`. */
  readonly id: string;
  /** `exp`, epoch seconds. */
  readonly exp: number;
  readonly level: number;
  readonly factor: string;
  readonly dnt?: number;
  readonly target?: string;
  readonly scopes?: readonly string[];
  /** `iss` as received. */
  readonly issuer: string | undefined;
  /** The key name whose `iss` matches, if any. */
  readonly keyName: string | undefined;
  /** Custom extras, converted by their declared type. */
  readonly extras: Readonly<Record<string, unknown>>;
  /** The payload as received. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Why a token was rejected; stable strings. */
export type ApiJwtFailure =
  | 'missing'
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'signature_invalid'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'claim_invalid'
  | 'audience_invalid'
  | 'subject_missing'
  | 'issuer_unknown'
  | 'value_not_allowed'
  | 'lifetime_too_long'
  | 'type_invalid'
  /** The token carries `cnf` (RFC 7800): it is bound to a key or certificate this verifier cannot check. */
  | 'cnf_unsupported';

/** The outcome of {@link ApiJwtVerifier.verify}, with api_jwt's three flags. */
export type ApiJwtResult =
  | { readonly valid: true; readonly claims: ApiJwtClaims; readonly isValid: true; readonly isBad: false; readonly isExpired: boolean }
  | {
      readonly valid: false;
      readonly reason: ApiJwtFailure;
      readonly isValid: false;
      readonly isBad: boolean;
      readonly isExpired: boolean;
    };

const bad = (reason: ApiJwtFailure): ApiJwtResult => ({ valid: false, reason, isValid: false, isBad: true, isExpired: false });

/** The algorithm each key type verifies when `algorithms` is not given: what the issuer signs with. */
const DEFAULT_ALGORITHMS: Readonly<Record<KeyFamily, readonly JwsAlgorithm[]>> = {
  rsa: ['RS256'],
  ed25519: ['EdDSA'],
  'ec-p256': ['ES256'],
  'ec-p384': ['ES384'],
};
const FAMILY_NAMES: Readonly<Record<KeyFamily, string>> = {
  rsa: 'an RSA',
  ed25519: 'an Ed25519',
  'ec-p256': 'an EC P-256',
  'ec-p384': 'an EC P-384',
};

const ALL_ALGORITHMS: readonly JwsAlgorithm[] = [...new Set(Object.values(ALGORITHMS_BY_FAMILY).flat())];

function readKeys(input: ApiJwtVerifierOptions['publicKeys'], where: string): KeyObject[] {
  if (input === undefined) return [];
  if (typeof input === 'string' && looksLikeSecret(input)) throw sharedSecretRefused(where, 'publicKeys');
  if (typeof input === 'string' && input.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((k) => typeof k === 'string'))
      throw optionError(where, 'publicKeys', 'PEM text, a JWK, a KeyObject, a list of them, or a JSON array of PEM strings');
    return parsed.map((k: string, i) => publicKeyOption(k, where, `publicKeys[${i}]`));
  }
  if (Array.isArray(input)) return (input as readonly PublicKeyInput[]).map((k, i) => publicKeyOption(k, where, `publicKeys[${i}]`));
  return [publicKeyOption(input as PublicKeyInput, where, 'publicKeys')];
}

/** Key text that is neither PEM, JWK JSON nor a JSON list: a shared secret, as PyJWT's HS256 takes. */
function looksLikeSecret(text: string): boolean {
  const trimmed = text.trim();
  return !trimmed.includes('-----BEGIN') && !trimmed.startsWith('{') && !trimmed.startsWith('[') && !/^(?:ssh-|ecdsa-)/.test(trimmed);
}

/** The `algorithms` option: a non-empty list of supported names (an unknown name is echoed, it is not a secret). */
function readAlgorithms(value: unknown, where: string): readonly JwsAlgorithm[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0)
    throw optionError(
      where,
      'algorithms',
      `a non-empty array of ${ALL_ALGORITHMS.join(', ')}`,
      Array.isArray(value) ? 'an empty array' : undefined,
    );
  if (value.some((alg: unknown) => typeof alg === 'string' && /^HS\d+$/.test(alg))) throw sharedSecretRefused(where, 'algorithms');
  return value.map((alg: unknown, i) => enumOption(alg, ALL_ALGORITHMS, undefined, where, `algorithms[${i}]`));
}

/** Verifies APIJwt tokens. Keys are imported and checked once, at construction. */
export class ApiJwtVerifier {
  readonly #model: ApiJwtModel;
  readonly #keys: ReadonlyArray<{ key: KeyObject; algorithms: readonly JwsAlgorithm[] }>;
  readonly #knownAlgorithms: ReadonlySet<string>;
  readonly #algorithms: readonly JwsAlgorithm[] | undefined;
  readonly #keySource: ApiJwtKeySource | undefined;
  readonly #audiences: readonly string[] | undefined;
  readonly #requireKnownIssuer: boolean;
  readonly #checkAllowedValues: boolean;
  readonly #timePolicy: TimeClaimPolicy;
  readonly #typ: string | undefined;
  readonly #maxTokenLength: number;
  readonly #clock: () => number;
  readonly #keyNameByIssuer: ReadonlyMap<string, string>;

  /**
   * @param options keys (static, `jwksUri` or `keySource`), algorithms, audience, tolerances
   * @throws TypeError `new ApiJwtVerifier(): "<option>" must be …` for a missing key source, both
   *   `keySource` and `jwksUri`, an unusable key (unreadable, private, weak, a file path, a shared
   *   secret), an unknown or HS* algorithm, a key that can use none of the algorithms, or a numeric
   *   option that is not finite and in range.
   */
  constructor(options: ApiJwtVerifierOptions) {
    const where = factoryOf(options, 'new ApiJwtVerifier()');
    exclusiveOptions(where, { keySource: options.keySource, jwksUri: options.jwksUri }, 'at-most-one');
    exclusiveOptions(where, { publicKeys: options.publicKeys, jwksUri: options.jwksUri, keySource: options.keySource }, 'one');
    if (options.keySource !== undefined && !hasMethods('getKey')(options.keySource))
      throw optionError(where, 'keySource', 'an object with getKey(kid)');
    const tolerance = nonNegative(options.clockToleranceSeconds, 0, where, 'clockToleranceSeconds');
    this.#maxTokenLength = positiveInteger(options.maxTokenLength, 8192, where, 'maxTokenLength');
    this.#model = resolveModel(options, where);
    this.#algorithms = readAlgorithms(options.algorithms, where);
    this.#keys = readKeys(options.publicKeys, where).map((key, index) => {
      const algorithms = this.#algorithmsFor(key);
      if (algorithms.length === 0) {
        const family = keyFamily(key);
        throw optionError(
          where,
          `publicKeys[${index}]`,
          `a key for one of "algorithms" (${(options.algorithms ?? []).join(', ')})`,
          `${FAMILY_NAMES[family]} key, which verifies ${ALGORITHMS_BY_FAMILY[family].join(', ')}`,
        );
      }
      return { key, algorithms };
    });
    const warnings = new Warnings(where, options);
    this.#keySource =
      options.keySource ??
      (options.jwksUri === undefined
        ? undefined
        : new RemoteJwks(
            options.jwksUri,
            forFactory({ clock: options.clock, logger: warnings.logger, validate: options.validate, ...options.jwks }, where),
          ));
    if (this.#keys.length === 0 && !this.#keySource)
      throw optionError(where, 'publicKeys', 'at least one public key (or give "jwksUri" or "keySource")', 'an empty list');
    this.#knownAlgorithms = new Set(
      this.#keySource ? (this.#algorithms ?? Object.values(DEFAULT_ALGORITHMS).flat()) : this.#keys.flatMap((k) => k.algorithms),
    );
    const mode = options.audience ?? { preset: 'api_jwt' };
    this.#audiences =
      'audience' in mode
        ? typeof mode.audience === 'string'
          ? [mode.audience]
          : [...mode.audience]
        : mode.preset === 'apijwt2'
          ? ['aud']
          : undefined;
    this.#requireKnownIssuer = options.requireKnownIssuer === true;
    this.#checkAllowedValues = options.checkAllowedValues !== false;
    // PyJWT's order (iat, nbf, exp); api_jwt crashes without exp, which is an invalid token here.
    this.#timePolicy = {
      clockToleranceSeconds: tolerance,
      order: 'iat-first',
      missingExp: 'claim_invalid',
      maxTokenLifetimeSeconds: maxTokenLifetimeOption(options.maxTokenLifetimeSeconds, where),
    };
    this.#typ = options.typ;
    this.#clock = options.clock ?? Date.now;
    this.#keyNameByIssuer = new Map(Object.entries(this.#model.keyNames).map(([name, iss]) => [iss, name]));
  }

  /**
   * Calls `listener` with the kids that left the key source (`jwksUri`, or a `keySource` that
   * implements `onKeysRemoved`), so a cache of verified tokens can drop the tokens they signed.
   */
  onKeysRemoved(listener: (kids: readonly string[]) => void): void {
    this.#keySource?.onKeysRemoved?.(listener);
  }

  /** Fetches a stale key set again (see `RemoteJwks.revalidate`); undefined when there is nothing to wait for. */
  revalidateKeys(): Promise<void> | undefined {
    return this.#keySource?.revalidate?.();
  }

  /** The algorithms `key` may verify: the configured ones it supports, else its type's default. */
  #algorithmsFor(key: KeyObject): readonly JwsAlgorithm[] {
    return this.#algorithms ? algorithmsForKey(key, this.#algorithms) : DEFAULT_ALGORITHMS[keyFamily(key)];
  }

  /** Verifies a token. Never throws for a bad token; a key source outage rejects with a 503 AuthError. */
  async verify(token: string | null | undefined): Promise<ApiJwtResult> {
    if (token === null || token === undefined) return { valid: false, reason: 'missing', isValid: false, isBad: false, isExpired: true };
    let parsed: ParsedJws;
    try {
      parsed = parseCompact(token, this.#maxTokenLength);
    } catch {
      return bad('malformed');
    }
    const alg = parsed.header['alg'] as string;
    // As PyJWT: an algorithm outside the allow-list fails before any key is tried (not "bad").
    if (!this.#knownAlgorithms.has(alg))
      return { valid: false, reason: 'algorithm_not_allowed', isValid: false, isBad: false, isExpired: false };
    if (!(await this.#signatureVerifies(parsed, alg as JwsAlgorithm))) return bad('signature_invalid');
    if (this.#typ !== undefined && !typMatches(parsed.header, this.#typ)) return bad('type_invalid');
    return this.#checkClaims(parsed.payload);
  }

  async #signatureVerifies(parsed: ParsedJws, alg: JwsAlgorithm): Promise<boolean> {
    for (const { key, algorithms } of this.#keys) {
      if (algorithms.includes(alg) && (await verifySignatureAsync(alg, key, parsed.signingInput, parsed.signature))) return true;
    }
    if (this.#keySource) {
      const kid = parsed.header['kid'];
      const key = await this.#keySource.getKey(typeof kid === 'string' ? kid : undefined, alg);
      if (key && this.#keyVerifies(key, alg)) return verifySignatureAsync(alg, key, parsed.signingInput, parsed.signature);
    }
    return false;
  }

  #keyVerifies(key: KeyObject, alg: JwsAlgorithm): boolean {
    try {
      return this.#algorithmsFor(key).includes(alg);
    } catch {
      return false; // a weak or unsupported key from a key source never verifies
    }
  }

  #checkClaims(payload: Readonly<Record<string, unknown>>): ApiJwtResult {
    const now = Math.floor(this.#clock() / 1000);
    const { exp, aud, sub, iss } = payload;
    const time = checkTimeClaims(payload, now, this.#timePolicy);
    if (time === 'expired') return { valid: false, reason: 'expired', isValid: false, isBad: false, isExpired: true };
    if (time !== undefined) return bad(time === 'claim_missing' || time === 'too_old' ? 'claim_invalid' : time);
    if (!this.#audienceOk(aud)) return bad('audience_invalid');
    if (typeof sub !== 'string' || sub === '') return bad('subject_missing');
    // A sender-constrained token (DPoP `jkt`, mTLS `x5t#S256`, …) is worth nothing without its proof,
    // which APIJwt has no way to receive: accepting it as a bearer token would undo the binding.
    if (payload['cnf'] !== undefined) return bad('cnf_unsupported');
    const keyName = typeof iss === 'string' ? this.#keyNameByIssuer.get(iss) : undefined;
    if (this.#requireKnownIssuer && keyName === undefined) return bad('issuer_unknown');

    const typed = readExtras(this.#model, payload, keyName, this.#checkAllowedValues);
    if (typeof typed === 'string') return bad(typed);
    const level = payload['level'] === undefined ? 0 : toFloat(payload['level']);
    if (level === undefined) return bad('claim_invalid');
    const factor = payload['factor'] ?? '';
    const extras: Record<string, unknown> = {};
    for (const name of this.#model.extras.keys()) {
      if (!['level', 'factor', 'target', 'dnt', 'scopes'].includes(name) && name in typed) extras[name] = typed[name];
    }
    const claims: ApiJwtClaims = {
      id: sub,
      exp: exp as number,
      level,
      factor: typeof factor === 'string' ? factor : String(factor),
      ...('dnt' in typed ? { dnt: typed['dnt'] as number } : {}),
      ...('target' in typed ? { target: String(typed['target']) } : {}),
      ...('scopes' in typed ? { scopes: typed['scopes'] as string[] } : {}),
      issuer: typeof iss === 'string' ? iss : undefined,
      keyName,
      extras,
      raw: payload,
    };
    return { valid: true, claims, isValid: true, isBad: false, isExpired: claims.exp < now };
  }

  #audienceOk(aud: unknown): boolean {
    const audiences = this.#audiences;
    if (audiences === undefined) return aud === undefined;
    if (typeof aud === 'string') return audiences.includes(aud);
    if (Array.isArray(aud)) return aud.every((a) => typeof a === 'string') && aud.some((a: string) => audiences.includes(a));
    return false;
  }
}
