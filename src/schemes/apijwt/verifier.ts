/**
 * Every other service's side of APIJwt: verifies tokens as api_jwt / api-jwt-2 decode them (same
 * flags, same typed values), without the original's shared-state and crash bugs.
 */
import type { KeyObject } from 'node:crypto';
import { importPublicKey, type PublicKeyInput } from '../../keys/import.js';
import { algorithmsForKey, JwsError, parseCompact, verifySignature, type JwsAlgorithm, type ParsedJws } from '../../jwt/compact.js';
import { RemoteJwks, type RemoteJwksOptions } from '../../keys/remote-jwks.js';
import { resolveModel, type ApiJwtModel, type ApiJwtModelOptions } from './config.js';

/** Where verification keys come from when they are not static: e.g. a JWKS URL (see `RemoteJwks`). */
export interface ApiJwtKeySource {
  /** Resolves the key for a `kid` (or undefined when the source has none). May throw a 503 AuthError. */
  getKey(kid: string | undefined): Promise<KeyObject | undefined>;
}

/** Audience handling: api_jwt rejects any `aud`; api-jwt-2 requires `aud: "aud"`; or a real audience. */
export type AudienceMode = { readonly preset: 'api_jwt' } | { readonly preset: 'apijwt2' } | { readonly audience: string | readonly string[] };

/** Options for {@link ApiJwtVerifier}. */
export interface ApiJwtVerifierOptions extends ApiJwtModelOptions {
  /** Public keys, tried in order (PEM, JWK, KeyObject; a JSON array string of PEMs as api_jwt accepts). */
  readonly publicKeys?: PublicKeyInput | readonly PublicKeyInput[];
  /** A dynamic key source, consulted by `kid` after the static keys. */
  readonly keySource?: ApiJwtKeySource;
  /** The auth service's JWKS URL: keys by `kid`, cached, re-fetched on an unknown `kid` (rotation). */
  readonly jwksUrl?: string;
  /** Fetch, cache and cooldown settings for `jwksUrl`. */
  readonly jwks?: RemoteJwksOptions;
  /** Algorithms accepted; each key further limits them to its own type. Default RS256 and EdDSA. */
  readonly algorithms?: readonly JwsAlgorithm[];
  /** Audience handling (default: api_jwt's — a token with any `aud` is rejected). */
  readonly audience?: AudienceMode;
  /** Clock tolerance for `exp`, `nbf` and `iat`, seconds (default 0, as PyJWT's leeway). */
  readonly clockToleranceSeconds?: number;
  /** Reject tokens whose `iss` is not one of the configured key names' issuers (api_jwt does not check). */
  readonly requireKnownIssuer?: boolean;
  /** Largest token accepted, characters (default 8192). */
  readonly maxTokenLength?: number;
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
  | 'claim_invalid'
  | 'audience_invalid'
  | 'subject_missing'
  | 'issuer_unknown';

/** The outcome of {@link ApiJwtVerifier.verify}, with api_jwt's three flags. */
export type ApiJwtResult =
  | { readonly valid: true; readonly claims: ApiJwtClaims; readonly isValid: true; readonly isBad: false; readonly isExpired: boolean }
  | { readonly valid: false; readonly reason: ApiJwtFailure; readonly isValid: false; readonly isBad: boolean; readonly isExpired: boolean };

const bad = (reason: ApiJwtFailure): ApiJwtResult => ({ valid: false, reason, isValid: false, isBad: true, isExpired: false });

// Python float(): decimal or scientific text, optional sign and surrounding whitespace, inf/nan.
const PY_FLOAT = /^\s*[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.|inf(?:inity)?|nan)\s*$/i;
const PY_INT = /^\s*[+-]?\d(?:_?\d)*\s*$/;

function toFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string' || !PY_FLOAT.test(value)) return undefined;
  const text = value.trim().replace(/_/g, '').toLowerCase();
  if (text.endsWith('inf') || text.endsWith('infinity')) return text.startsWith('-') ? -Infinity : Infinity;
  if (text.endsWith('nan')) return NaN;
  return Number(text);
}

function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string' || !PY_INT.test(value)) return undefined;
  const n = Number(value.trim().replace(/_/g, ''));
  return Number.isSafeInteger(n) ? n : undefined;
}

// Python truthiness of a JSON value.
function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function readKeys(input: ApiJwtVerifierOptions['publicKeys']): KeyObject[] {
  if (input === undefined) return [];
  if (typeof input === 'string' && input.trimStart().startsWith('[')) {
    const parsed: unknown = JSON.parse(input);
    if (!Array.isArray(parsed) || !parsed.every((k) => typeof k === 'string')) throw new TypeError('publicKeys JSON must be an array of PEM strings');
    return parsed.map((k: string) => importPublicKey(k));
  }
  const list = Array.isArray(input) ? (input as readonly PublicKeyInput[]) : [input as PublicKeyInput];
  return list.map((k) => importPublicKey(k));
}

/** Verifies APIJwt tokens. Keys are imported and checked once, at construction. */
export class ApiJwtVerifier {
  private readonly model: ApiJwtModel;
  private readonly keys: ReadonlyArray<{ key: KeyObject; algorithms: readonly JwsAlgorithm[] }>;
  private readonly knownAlgorithms: ReadonlySet<string>;
  private readonly algorithms: readonly JwsAlgorithm[];
  private readonly keySource: ApiJwtKeySource | undefined;
  private readonly audiences: readonly string[] | undefined;
  private readonly leeway: number;
  private readonly requireKnownIssuer: boolean;
  private readonly maxTokenLength: number;
  private readonly clock: () => number;
  private readonly keyNameByIssuer: ReadonlyMap<string, string>;

  constructor(options: ApiJwtVerifierOptions) {
    this.model = resolveModel(options);
    this.algorithms = options.algorithms ?? ['RS256', 'EdDSA'];
    this.keys = readKeys(options.publicKeys).map((key) => ({ key, algorithms: algorithmsForKey(key, this.algorithms) }));
    if (options.keySource && options.jwksUrl) throw new TypeError('ApiJwtVerifier takes keySource or jwksUrl, not both');
    this.keySource = options.keySource ?? (options.jwksUrl === undefined ? undefined : new RemoteJwks(options.jwksUrl, { clock: options.clock, ...options.jwks }));
    if (this.keys.length === 0 && !this.keySource) throw new TypeError('ApiJwtVerifier needs publicKeys, jwksUrl or a keySource');
    for (const { algorithms } of this.keys) {
      if (algorithms.length === 0) throw new TypeError('a public key cannot verify any of the configured algorithms');
    }
    this.knownAlgorithms = new Set(this.keySource ? this.algorithms : this.keys.flatMap((k) => k.algorithms));
    const mode = options.audience ?? { preset: 'api_jwt' };
    this.audiences = 'audience' in mode ? (typeof mode.audience === 'string' ? [mode.audience] : [...mode.audience]) : mode.preset === 'apijwt2' ? ['aud'] : undefined;
    this.leeway = options.clockToleranceSeconds ?? 0;
    this.requireKnownIssuer = options.requireKnownIssuer === true;
    this.maxTokenLength = options.maxTokenLength ?? 8192;
    this.clock = options.clock ?? Date.now;
    this.keyNameByIssuer = new Map(Object.entries(this.model.keys).map(([name, iss]) => [iss, name]));
  }

  /** Verifies a token. Never throws for a bad token; a key source outage rejects with a 503 AuthError. */
  async verify(token: string | null | undefined): Promise<ApiJwtResult> {
    if (token === null || token === undefined) return { valid: false, reason: 'missing', isValid: false, isBad: false, isExpired: true };
    let parsed: ParsedJws;
    try {
      parsed = parseCompact(token, this.maxTokenLength);
    } catch (error) {
      if (error instanceof JwsError && error.failure === 'critical_header') return bad('malformed');
      return bad('malformed');
    }
    const alg = parsed.header['alg'] as string;
    // As PyJWT: an algorithm outside the allow-list fails before any key is tried (not "bad").
    if (!this.knownAlgorithms.has(alg)) return { valid: false, reason: 'algorithm_not_allowed', isValid: false, isBad: false, isExpired: false };
    if (!(await this.signatureVerifies(parsed, alg as JwsAlgorithm))) return bad('signature_invalid');
    return this.checkClaims(parsed.payload);
  }

  private async signatureVerifies(parsed: ParsedJws, alg: JwsAlgorithm): Promise<boolean> {
    for (const { key, algorithms } of this.keys) {
      if (algorithms.includes(alg) && verifySignature(alg, key, parsed.signingInput, parsed.signature)) return true;
    }
    if (this.keySource) {
      const kid = parsed.header['kid'];
      const key = await this.keySource.getKey(typeof kid === 'string' ? kid : undefined);
      if (key && algorithmsForKey(key, this.algorithms).includes(alg)) return verifySignature(alg, key, parsed.signingInput, parsed.signature);
    }
    return false;
  }

  private checkClaims(payload: Readonly<Record<string, unknown>>): ApiJwtResult {
    const now = Math.floor(this.clock() / 1000);
    // PyJWT's order: iat, nbf, exp, then aud.
    const { iat, nbf, exp, aud, sub, iss } = payload;
    if (iat !== undefined && (!isNumericDate(iat) || iat > now + this.leeway)) {
      return bad(isNumericDate(iat) ? 'not_yet_valid' : 'claim_invalid');
    }
    if (nbf !== undefined && (!isNumericDate(nbf) || nbf > now + this.leeway)) return bad(isNumericDate(nbf) ? 'not_yet_valid' : 'claim_invalid');
    // api_jwt crashes without exp; a token with no expiry is simply invalid here.
    if (!isNumericDate(exp)) return bad('claim_invalid');
    if (Math.trunc(exp) <= now - this.leeway) return { valid: false, reason: 'expired', isValid: false, isBad: false, isExpired: true };
    if (!this.audienceOk(aud)) return bad('audience_invalid');
    if (typeof sub !== 'string' || sub === '') return bad('subject_missing');
    const keyName = typeof iss === 'string' ? this.keyNameByIssuer.get(iss) : undefined;
    if (this.requireKnownIssuer && keyName === undefined) return bad('issuer_unknown');

    const typed: Record<string, unknown> = {};
    for (const [name, spec] of this.model.extras) {
      const value = payload[name];
      if (!truthy(value)) continue;
      let converted: unknown;
      switch (spec.type) {
        case 'list':
          converted = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value.map(String) : undefined;
          break;
        case 'float':
          converted = toFloat(value);
          break;
        case 'int':
          converted = toInt(value);
          break;
        default:
          converted = value;
      }
      if (converted === undefined) return bad('claim_invalid');
      typed[name] = converted;
    }
    const level = payload['level'] === undefined ? 0 : toFloat(payload['level']);
    if (level === undefined) return bad('claim_invalid');
    const factor = payload['factor'] ?? '';
    const extras: Record<string, unknown> = {};
    for (const name of this.model.extras.keys()) {
      if (!['level', 'factor', 'target', 'dnt', 'scopes'].includes(name) && name in typed) extras[name] = typed[name];
    }
    const claims: ApiJwtClaims = {
      id: sub,
      exp: Math.trunc(exp),
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

  private audienceOk(aud: unknown): boolean {
    if (this.audiences === undefined) return aud === undefined;
    if (typeof aud === 'string') return this.audiences.includes(aud);
    if (Array.isArray(aud)) return aud.every((a) => typeof a === 'string') && aud.some((a: string) => this.audiences?.includes(a));
    return false;
  }
}
