/**
 * Checks of static configuration, run when a scheme or middleware is built, with one message shape:
 * `<factory>(): "<option>" must be <what is accepted> (got <what was given>)`.
 *
 * Numbers and enum values are echoed (`got NaN`, `got "RS999"`); strings, keys and secrets never
 * are: for those the message names only the type that arrived (`got a string`). Every error is a
 * `TypeError`, as jose's option checks are.
 */
import { createRequire } from 'node:module';
import { isSecureUrl } from './net.js';

/** Rules for a numeric option. */
export interface NumberRule {
  /** Smallest accepted value (inclusive unless `above`). */
  readonly min?: number;
  /** The value must be strictly greater than `min`. */
  readonly above?: boolean;
  /** Largest accepted value (inclusive). */
  readonly max?: number;
  /** Only integers. */
  readonly integer?: boolean;
}

/** How a value that must not be echoed is described: its type only. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'a Buffer';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'object':
      return 'an object';
    case 'function':
      return 'a function';
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    default:
      return `a ${typeof value}`;
  }
}

/** What was given, safe to print: numbers (and bigints) verbatim, anything else by type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return typeOf(value);
}

/**
 * The one shape of option errors.
 * @param where the factory, e.g. `apiJwtScheme()`
 * @param option the option path, e.g. `clockToleranceSeconds` or `jwks.timeoutMs`
 * @param expected what is accepted, e.g. `a finite number >= 0`
 * @param got what arrived, already made safe (see {@link describeValue}); omitted when not useful
 */
export function optionError(where: string, option: string, expected: string, got?: string): TypeError {
  return new TypeError(`${where}: "${option}" must be ${expected}${got === undefined ? '' : ` (got ${got})`}`);
}

function expectation(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a finite number';
  if (rule.min !== undefined && rule.max !== undefined) return `${kind} from ${rule.min} to ${rule.max}`;
  if (rule.min !== undefined) return `${kind} ${rule.above ? '>' : '>='} ${rule.min}`;
  if (rule.max !== undefined) return `${kind} <= ${rule.max}`;
  return kind;
}

/**
 * A numeric option: `undefined` gives `fallback` (or is refused when `fallback` is undefined: a
 * required option); anything else must be a number obeying `rule`.
 * NaN and ±Infinity are always refused (`Number(process.env.UNSET)` is NaN, and NaN disables every
 * comparison it takes part in).
 * @throws TypeError in the one message shape.
 */
export function numberOption(value: unknown, fallback: number | undefined, where: string, option: string, rule: NumberRule = {}): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || (rule.above ? value > rule.min : value >= rule.min)) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw optionError(where, option, expectation(rule), describeValue(value));
  return value;
}

/** A duration or tolerance in seconds or milliseconds: finite, >= 0. */
export function nonNegative(value: unknown, fallback: number | undefined, where: string, option: string): number {
  return numberOption(value, fallback, where, option, { min: 0 });
}

/** A deadline or window: finite, > 0. */
export function positive(value: unknown, fallback: number | undefined, where: string, option: string): number {
  return numberOption(value, fallback, where, option, { min: 0, above: true });
}

/** A count or size: an integer >= 1. */
export function positiveInteger(value: unknown, fallback: number | undefined, where: string, option: string): number {
  return numberOption(value, fallback, where, option, { integer: true, min: 1 });
}

/** One value out of a fixed list; the given value is echoed only when it is a short plain word. */
export function enumOption<T extends string>(
  value: unknown,
  allowed: readonly T[],
  fallback: T | undefined,
  where: string,
  option: string,
): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const got = typeof value === 'string' && /^[\w.:/-]{1,32}$/.test(value) ? `"${value}"` : describeValue(value);
  throw optionError(where, option, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, got);
}

/** The options argument itself: a plain object (an absent one is `{}` only where every option is optional). */
export function optionsObject<T extends object>(value: T | undefined, where: string, optional: boolean): T {
  if (value === undefined && optional) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: options must be an object (got ${describeValue(value)})`);
  }
  return value;
}

/** A required option that must pass `test`; `expected` says what it should be. */
export function required<T>(value: unknown, test: (v: unknown) => v is T, where: string, option: string, expected: string): T {
  if (!test(value)) throw optionError(where, option, expected, describeValue(value));
  return value;
}

/** A non-empty string option (its value is never echoed). */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** An object with the named methods (duck typing across entry points and realms). */
export function hasMethods<T extends object = object>(...names: string[]): (value: unknown) => value is T {
  return (value: unknown): value is T =>
    typeof value === 'object' && value !== null && names.every((n) => typeof (value as Record<string, unknown>)[n] === 'function');
}

/** Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known name closest to `name`, when it is close enough to be a likely typo or a prefix. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d =
      candidate.toLowerCase().startsWith(name.toLowerCase()) || name.toLowerCase().startsWith(candidate.toLowerCase())
        ? 1
        : distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * The key names of an options interface, checked by the compiler: listing a name that is not an
 * option, or leaving one out, is a type error. `optionNames<Foo>()({ a: 1, b: 1 })`.
 */
export function optionNames<T>(): (names: Record<keyof T, 1>) => readonly string[] {
  return (names) => Object.keys(names);
}

const requireFromHere = createRequire(import.meta.url);

/**
 * Refuses at start-up when an optional peer dependency that the configuration needs is not
 * installed (instead of failing every request later with a 503).
 * @throws TypeError naming the package and how to install it.
 */
export function requirePeer(name: string, where: string, why: string, resolve: (id: string) => string = requireFromHere.resolve): void {
  try {
    resolve(name);
  } catch {
    throw new TypeError(`${where}: ${why} needs the optional package "${name}", which is not installed (npm install ${name})`);
  }
}

/* General checks: strings, functions, URLs, lists, exclusive options, factory names, shared secrets. */

/**
 * A configuration mistake that is not one option's value (two options that contradict each other,
 * a method argument that names nothing known), in the same `<where>: …` shape.
 * @param cause the underlying error, kept on the TypeError for logs (never rendered).
 */
export function configurationError(where: string, message: string, cause?: unknown): TypeError {
  return new TypeError(`${where}: ${message}`, cause === undefined ? undefined : { cause });
}

/** A string option: `undefined` gives `fallback`; anything else must be a string (never echoed). */
export function stringOption(value: unknown, fallback: string, where: string, option: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw optionError(where, option, 'a string', describeValue(value));
  return value;
}

/** An optional function option (`what` describes its signature, e.g. `a function (req) => string`). */
export function functionOption<T extends (...args: never[]) => unknown>(
  value: unknown,
  where: string,
  option: string,
  what: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw optionError(where, option, what, describeValue(value));
  return value as T;
}

/** An optional boolean option. */
export function booleanOption(value: unknown, fallback: boolean, where: string, option: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw optionError(where, option, 'true or false', describeValue(value));
  return value;
}

/** At least one of `names` must be given (`"endpoint" or "issuer" is required`). */
export function requireOneOf(options: object, names: readonly string[], where: string, why = ''): void {
  const record = options as Record<string, unknown>;
  if (names.some((n) => record[n] !== undefined && record[n] !== '')) return;
  throw configurationError(where, `${names.map((n) => `"${n}"`).join(' or ')} is required${why === '' ? '' : ` ${why}`}`);
}

/**
 * A string option matching `pattern` (e.g. an SQL identifier); `expected` says what it accepts. The
 * given value is echoed only when it is a short plain word.
 */
export function patternOption(value: unknown, fallback: string, pattern: RegExp, where: string, option: string, expected: string): string {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && pattern.test(value)) return value;
  const got = typeof value === 'string' && /^[\w.:/-]{1,32}$/.test(value) ? `"${value}"` : describeValue(value);
  throw optionError(where, option, expected, got);
}

/**
 * An option that is a URL the library fetches or compares with what a server publishes: absolute,
 * `https:` (plain `http:` only to a loopback host, for tests and local development). The URL is
 * never echoed (it may carry credentials in its user info or query).
 * @returns the URL as given.
 * @throws TypeError `<where>: "<option>" must be an absolute https URL (http only for loopback) (got …)`.
 */
export function httpsUrlOption(value: unknown, where: string, option: string): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !isSecureUrl(parsed.href)) {
    const got =
      parsed === undefined
        ? typeof value === 'string'
          ? 'a string that is not an absolute URL'
          : describeValue(value)
        : `a ${parsed.protocol.slice(0, -1)} URL`;
    throw optionError(where, option, 'an absolute https URL (http only for loopback)', got);
  }
  return value as string;
}

/** {@link optionError} keeping the error that explains it (e.g. why a key could not be read) as `cause`. */
export function optionErrorWithCause(where: string, option: string, expected: string, cause: unknown): TypeError {
  const error = optionError(where, option, expected);
  return Object.defineProperty(error, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
}

/** Two options that exclude each other, or one of several that is required. */
export function exclusiveOptions(where: string, given: Readonly<Record<string, unknown>>, rule: 'one' | 'at-most-one'): void {
  const names = Object.keys(given);
  const present = names.filter((name) => given[name] !== undefined);
  if (present.length > 1)
    throw new TypeError(`${where}: give ${names.map((n) => `"${n}"`).join(' or ')}, not ${present.length === 2 ? 'both' : 'several'}`);
  if (rule === 'one' && present.length === 0) throw new TypeError(`${where}: one of ${names.map((n) => `"${n}"`).join(', ')} is required`);
}

/** A list option: a non-empty array whose every entry passes `test` (entries are not echoed). */
export function listOption<T>(value: unknown, test: (v: unknown) => v is T, where: string, option: string, expected: string): readonly T[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v: unknown) => test(v))) {
    throw optionError(
      where,
      option,
      expected,
      Array.isArray(value) ? (value.length === 0 ? 'an empty array' : 'an array with another entry') : describeValue(value),
    );
  }
  return value as T[];
}

/** The refusal of an HMAC shared secret where only public keys verify. */
export const SHARED_SECRETS_REFUSED =
  "shared secrets (HS256/384/512) are not supported: verify with the issuer's public key (jwksUri or publicKeys)";

/**
 * Refuses a shared secret given where a public key is expected (`secret`, `secretOrKey`, an
 * `HS256` algorithm, or key text that is no public key).
 * @throws TypeError `<where>: "<option>": shared secrets (HS256/384/512) are not supported: …`.
 */
export function sharedSecretRefused(where: string, option: string): TypeError {
  return new TypeError(`${where}: "${option}": ${SHARED_SECRETS_REFUSED}`);
}

const FACTORY = Symbol.for('authnz-express.factory');

/**
 * The options with the name of the factory building from them, for a class built by a factory:
 * its option errors then name the factory the application called (`apiJwtScheme()`), not the class.
 */
export function forFactory<T extends object>(options: T, where: string): T {
  return Object.defineProperty({ ...options }, FACTORY, { value: where, enumerable: false });
}

/** The factory that built from `options` (see {@link forFactory}), else `fallback`. */
export function factoryOf(options: object | undefined, fallback: string): string {
  const where = options === undefined ? undefined : (options as { [FACTORY]?: unknown })[FACTORY];
  return typeof where === 'string' ? where : fallback;
}
