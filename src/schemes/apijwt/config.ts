import { optionError } from '../../lib/options.js';

/**
 * APIJwt's configuration model, shared by issuer and verifier: key names → `iss`, typed extras
 * with defaults, and allowed values (lists, `PER_KEY` maps, or dictionaries of allowed keys).
 */

/** How an extra is written into and read back from the token (api_jwt stores every value as text). */
export type ExtraType = 'float' | 'int' | 'string' | 'list' | 'json';

/** A value an extra may hold before serialisation. `bigint` is a Python int where that matters. */
export type ExtraValue = string | number | bigint | boolean | readonly string[] | { readonly [key: string]: unknown };

/** An extra: its type and default (`null` = leave it out of the token unless given). */
export interface ExtraSpec {
  readonly type: ExtraType;
  readonly default: ExtraValue | null;
}

/** Allowed values of one extra: a list, a per-key map of lists, or a dictionary whose keys are allowed. */
export type AllowedValues =
  | readonly (string | number | bigint | boolean)[]
  | { readonly PER_KEY: Readonly<Record<string, readonly (string | number | bigint)[]>> }
  | Readonly<Record<string, unknown>>;

/** Configuration shared by issuer and verifier. Every field has api_jwt's default. */
export interface ApiJwtModelOptions {
  /** Key name → `iss` value (api_jwt's `keys`). Default `{ user: 'auth_user', admin: 'auth_admin' }`. */
  readonly keyNames?: Readonly<Record<string, string>>;
  /** Extras added to or replacing the defaults (`level`, `factor`, `target`, `dnt`, `scopes`). */
  readonly extras?: Readonly<Record<string, ExtraSpec>>;
  /** Allowed values per extra, replacing the defaults for the extras named; `null` lifts the restriction. */
  readonly allowed?: Readonly<Record<string, AllowedValues | null>>;
}

/** api_jwt's default extras, in its registration order. */
export const DEFAULT_EXTRAS: Readonly<Record<string, ExtraSpec>> = Object.freeze({
  level: { type: 'float', default: 0 },
  factor: { type: 'string', default: '' },
  target: { type: 'string', default: '' },
  dnt: { type: 'int', default: 0 },
  scopes: { type: 'list', default: [] },
});

/** api_jwt's default key names. */
export const DEFAULT_KEY_NAMES: Readonly<Record<string, string>> = Object.freeze({ user: 'auth_user', admin: 'auth_admin' });

/** api_jwt's default allowed values. */
export const DEFAULT_ALLOWED: Readonly<Record<string, AllowedValues>> = Object.freeze({
  level: [0, 1, 2, 3, 4],
  dnt: [0, 1, 2, 3],
  scopes: { PER_KEY: { user: ['user:all'], admin: ['admin:all'] } },
});

/** The resolved model. */
export interface ApiJwtModel {
  readonly keyNames: Readonly<Record<string, string>>;
  readonly extras: ReadonlyMap<string, ExtraSpec>;
  readonly allowed: Readonly<Record<string, AllowedValues | null>>;
}

/** Resolves options against api_jwt's defaults; extras keep registration order (defaults first). */
export function resolveModel(options: ApiJwtModelOptions, where: string): ApiJwtModel {
  const extras = new Map<string, ExtraSpec>(Object.entries(DEFAULT_EXTRAS));
  for (const [name, spec] of Object.entries(options.extras ?? {})) {
    if (name === 'iss' || name === 'sub' || name === 'exp' || name === '__proto__' || name === 'constructor') {
      throw optionError(where, `extras.${name}`, 'left out: iss, sub and exp are not extras');
    }
    extras.set(name, spec);
  }
  return {
    keyNames: { ...(options.keyNames ?? DEFAULT_KEY_NAMES) },
    extras,
    allowed: { ...DEFAULT_ALLOWED, ...(options.allowed ?? {}) },
  };
}

/** Python equality for allow-lists: 3 == 3.0, True == 1, strings never equal numbers. */
export function pyEquals(a: unknown, b: unknown): boolean {
  const num = (v: unknown): number | undefined =>
    typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? (v ? 1 : 0) : undefined;
  const na = num(a);
  const nb = num(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  return typeof a === 'string' && a === b;
}

/** True when `allowed` is a `{ PER_KEY: { keyName: values } }` map. */
export function isPerKey(
  allowed: AllowedValues,
): allowed is { readonly PER_KEY: Readonly<Record<string, readonly (string | number | bigint)[]>> } {
  return !Array.isArray(allowed) && typeof allowed === 'object' && Object.prototype.hasOwnProperty.call(allowed, 'PER_KEY');
}

/**
 * The allowed values of an extra for a key name: a list, `'keys'` for a dictionary whose keys are the
 * allowed values, `'no_key'` when a `PER_KEY` map has no entry for the key name (or there is none),
 * undefined when the extra is unrestricted.
 */
export function allowedFor(
  allowed: AllowedValues | null | undefined,
  keyName: string | undefined,
): readonly unknown[] | 'keys' | 'no_key' | undefined {
  if (allowed === undefined || allowed === null) return undefined;
  if (Array.isArray(allowed)) return allowed as readonly unknown[];
  if (isPerKey(allowed)) {
    if (keyName === undefined || !Object.prototype.hasOwnProperty.call(allowed.PER_KEY, keyName)) return 'no_key';
    return allowed.PER_KEY[keyName] ?? 'no_key';
  }
  return 'keys';
}
