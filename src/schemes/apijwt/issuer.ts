/**
 * The auth service's side of APIJwt: issues tokens with api_jwt's claim layout and value formatting,
 * so Python services read our tokens and we read theirs (byte-identical for the same inputs).
 */
import type { KeyObject } from 'node:crypto';
import { importPrivateKey, keyFamily, type PrivateKeyInput } from '../../keys/import.js';
import { signCompact, type JwsAlgorithm } from '../../jwt/compact.js';
import {
  allowedFor,
  pyEquals,
  resolveModel,
  type AllowedValues,
  type ApiJwtModel,
  type ApiJwtModelOptions,
  type ExtraSpec,
  type ExtraValue,
} from './config.js';
import { ApiJwtIssueError } from './errors.js';
import { optionNames, optionsObject, positiveInteger } from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import { pyFloat, pyInt, pyJsonDumps, type PyJsonValue } from '../../jwt/pyjson.js';

/** Options for {@link ApiJwtIssuer}. */
export interface ApiJwtIssuerOptions extends ApiJwtModelOptions, ObservableOptions {
  /** The signing key: RSA (RS256, as api_jwt) or, as an extension, Ed25519 (EdDSA) / P-256 (ES256). */
  readonly privateKey: PrivateKeyInput;
  /** Passphrase of an encrypted PEM private key. */
  readonly passphrase?: string;
  /** Lifetime of the tokens issued, seconds (default 3600; a positive integer). */
  readonly lifetimeSeconds?: number;
  /** Clock in epoch milliseconds (default `Date.now`). */
  readonly clock?: () => number;
}

/** What {@link ApiJwtIssuer.issue} takes besides extras. */
export interface IssueRequest {
  /** The token's subject (`sub`). Numbers are written as Python's `str()` would. */
  readonly subject: string | number | bigint;
  /** Key name (default `user`); its `iss` comes from the `keyNames` map. */
  readonly keyName?: string;
  /** Lifetime of this token, seconds (default: the issuer's `lifetimeSeconds`; a positive integer). */
  readonly lifetimeSeconds?: number;
  /** Emits `aud` for consumers running api-jwt-2 (which require `aud: "aud"`) or a real audience. */
  readonly audience?: string;
  /** Extras by name: `level`, `factor`, `target`, `dnt`, `scopes` and custom ones. `null` keeps the default. */
  readonly extras?: Readonly<Record<string, ExtraValue | null | undefined>>;
}

/** An issued token with its claims as serialised (all strings but `exp`). */
export interface IssuedApiJwt {
  readonly token: string;
  readonly header: Readonly<Record<string, string>>;
  readonly claims: Readonly<Record<string, PyJsonValue>>;
  /** Expiry, epoch seconds. */
  readonly expiresAt: number;
}

const ALG_BY_FAMILY = { rsa: 'RS256', ed25519: 'EdDSA', 'ec-p256': 'ES256', 'ec-p384': 'ES384' } as const satisfies Record<
  string,
  JwsAlgorithm
>;

function checkAllowed(name: string, value: ExtraValue, allowed: AllowedValues | null | undefined, key: string): void {
  const list = allowedFor(allowed, key);
  if (list === undefined) return;
  if (list === 'no_key') throw new ApiJwtIssueError('key_not_in_per_key', name, `no allowed values of "${name}" for key "${key}"`);
  if (list === 'keys') {
    if (typeof value !== 'string' || !Object.prototype.hasOwnProperty.call(allowed, value)) {
      throw new ApiJwtIssueError('value_not_allowed', name, `value of "${name}" is not an allowed key`);
    }
    return;
  }
  const values: readonly unknown[] = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (!list.some((a) => pyEquals(a, v))) {
      throw new ApiJwtIssueError('value_not_allowed', name, `value of "${name}" is not in its allowed values`);
    }
  }
}

function checkType(name: string, value: ExtraValue, spec: ExtraSpec): ExtraValue {
  const fail = (): never => {
    throw new ApiJwtIssueError('type_mismatch', name, `"${name}" must be of type ${spec.type}`);
  };
  switch (spec.type) {
    case 'float':
      return typeof value === 'number' || typeof value === 'bigint' ? value : fail();
    case 'int':
      return typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)) ? value : fail();
    case 'string':
      return typeof value === 'string' ? value : fail();
    case 'list':
      // api_jwt wraps a scalar given for a list extra.
      if (typeof value === 'string') return [value];
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : fail();
    case 'json':
      return value;
  }
}

function serialise(value: ExtraValue, type: ExtraType | 'subject'): PyJsonValue {
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (type === 'int') return pyInt(value);
    if (type === 'float') return pyFloat(value);
    return Number.isInteger(value) ? pyInt(value) : pyFloat(value);
  }
  return value as PyJsonValue;
}
type ExtraType = ExtraSpec['type'];

function checkLifetime(seconds: number, field: string): number {
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new ApiJwtIssueError('invalid_lifetime', field, `${field} must be a positive whole number of seconds`);
  }
  return seconds;
}

const WHERE = 'new ApiJwtIssuer()';
const KNOWN = optionNames<ApiJwtIssuerOptions>()({
  privateKey: 1,
  passphrase: 1,
  lifetimeSeconds: 1,
  clock: 1,
  keyNames: 1,
  extras: 1,
  allowed: 1,
  logger: 1,
  validate: 1,
});

/** Issues APIJwt tokens. One instance per signing key; stateless per call. */
export class ApiJwtIssuer {
  readonly #model: ApiJwtModel;
  // A `#` field: invisible to console.log / util.inspect / JSON.stringify.
  readonly #key: KeyObject;
  readonly #alg: JwsAlgorithm;
  readonly #headerJson: string;
  readonly #lifetimeSeconds: number;
  readonly #clock: () => number;

  /**
   * @throws TypeError `new ApiJwtIssuer(): "<option>" must be …` for a bad lifetime or extra name;
   *   KeyImportError for an unreadable or weak private key.
   */
  constructor(options: ApiJwtIssuerOptions) {
    optionsObject(options, WHERE, false);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.#lifetimeSeconds = positiveInteger(options.lifetimeSeconds, 3600, WHERE, 'lifetimeSeconds');
    this.#model = resolveModel(options, WHERE);
    this.#key = importPrivateKey(options.privateKey, options.passphrase);
    this.#alg = ALG_BY_FAMILY[keyFamily(this.#key)];
    // PyJWT 2.x writes the header with sorted keys.
    this.#headerJson = `{"alg":"${this.#alg}","typ":"JWT"}`;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Issues a token.
   * @throws ApiJwtIssueError for an unknown key name, a missing subject, an unregistered extra, a
   *   value outside its allowed values or of the wrong type, or a non-positive lifetime.
   */
  issue(request: IssueRequest): IssuedApiJwt {
    const keyName = request.keyName ?? 'user';
    const iss = Object.prototype.hasOwnProperty.call(this.#model.keyNames, keyName) ? this.#model.keyNames[keyName] : undefined;
    if (iss === undefined) throw new ApiJwtIssueError('unknown_key', 'keyName', `key "${keyName}" is not an allowed key`);
    if (request.subject === null || request.subject === undefined || request.subject === '') {
      throw new ApiJwtIssueError('subject_missing', 'subject', 'subject is not set');
    }
    const lifetime =
      request.lifetimeSeconds === undefined ? this.#lifetimeSeconds : checkLifetime(request.lifetimeSeconds, 'lifetimeSeconds');
    const expiresAt = Math.floor(this.#clock() / 1000) + lifetime;

    const payload = new Map<string, PyJsonValue>([
      ['iss', iss],
      ['sub', serialise(request.subject, 'subject')],
      ['exp', expiresAt],
    ]);
    for (const [name, spec] of this.#model.extras) {
      if (spec.default !== null) payload.set(name, serialise(spec.default, spec.type));
    }
    for (const [name, raw] of Object.entries(request.extras ?? {})) {
      const spec = this.#model.extras.get(name);
      if (spec === undefined) throw new ApiJwtIssueError('extra_not_registered', name, `"${name}" is not a registered extra`);
      if (raw === null || raw === undefined) continue;
      checkAllowed(name, raw, this.#model.allowed[name], keyName);
      payload.set(name, serialise(checkType(name, raw, spec), spec.type));
    }
    if (request.audience !== undefined) payload.set('aud', request.audience);

    const claims = Object.fromEntries(payload) as Record<string, PyJsonValue>;
    const token = signCompact(this.#alg, this.#key, this.#headerJson, pyJsonDumps(claims));
    return { token, header: { alg: this.#alg, typ: 'JWT' }, claims, expiresAt };
  }
}
