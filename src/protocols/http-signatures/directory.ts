/**
 * HTTP Message Signatures key directories (draft-meunier-http-message-signatures-directory, as used
 * by Web Bot Auth): the JWK Set an operator serves at
 * `https://<origin>/.well-known/http-message-signatures-directory`, keyed by RFC 7638 thumbprints.
 * The origin comes from the request being verified, so every fetch goes through the SSRF-guarded
 * fetcher; answers are cached by the cache headers within a floor and a ceiling, served stale for a
 * bounded time while the directory is down, and a refusal is remembered for `negativeCacheSeconds`
 * so that a client cannot make us fetch once per request.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { AuthError, dependencyUnavailable, type KnownReason } from '../../errors.js';
import { jwkThumbprint } from '../../keys/thumbprint.js';
import { observeDependency } from '../../diagnostics.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import {
  booleanOption,
  factoryOf,
  functionOption,
  listOption,
  nonNegative,
  optionError,
  optionNames,
  positive,
  positiveInteger,
} from '../../lib/options.js';
import {
  fetchDirectory,
  isDirectoryFetchError,
  systemLookup,
  type DirectoryAnswer,
  type DirectoryFetchOptions,
  type DirectoryLookup,
} from './directory-fetch.js';
import { HTTP_SIGNATURE_ALGORITHMS, type HttpSignatureAlgorithm } from './structured.js';

/** The well-known path of a key directory. */
export const DIRECTORY_PATH = '/.well-known/http-message-signatures-directory';
/** The media type a key directory is served with. */
export const DIRECTORY_MEDIA_TYPE = 'application/http-message-signatures-directory+json';
/** The `tag` of the signatures a directory signs its own answer with. */
export const DIRECTORY_TAG = 'http-message-signatures-directory';

/** Options of {@link KeyDirectoryResolver}. */
export interface KeyDirectoryOptions extends ObservableOptions {
  /** Directory origins that may be fetched (`https://bot.example`); default: any public https origin. */
  readonly origins?: readonly string[];
  /** One deadline over DNS, connect and body of a fetch, in ms (default 2000). */
  readonly timeoutMs?: number;
  /** Largest accepted directory, in bytes (default 65 536). */
  readonly maxBytes?: number;
  /** Most keys a directory may hold (default 32); a larger one is refused whole. */
  readonly maxKeys?: number;
  /** Longest a directory is used before it is fetched again, whatever its cache headers say, in seconds (default 86 400). */
  readonly cacheSeconds?: number;
  /** Shortest a directory is used before it is fetched again, whatever its cache headers say, in seconds (default 60). */
  readonly minCacheSeconds?: number;
  /** How long past its lifetime a directory still serves while it cannot be fetched, in seconds (default 3600). */
  readonly staleSeconds?: number;
  /** How long a refused or failed fetch is remembered before the origin is fetched again, in seconds (default 30). */
  readonly negativeCacheSeconds?: number;
  /** Most origins cached at once (default 1000); the oldest is dropped first. */
  readonly maxEntries?: number;
  /**
   * Most directories fetched at once (default 16). Each new `Signature-Agent` origin costs one
   * outbound fetch; past this many in flight, a request naming yet another origin gets 503
   * (`directory_unavailable`, `Retry-After: 1`) instead of one more, so a flood of made-up agents
   * cannot turn this service into a fetcher for them. Cached directories are not affected.
   */
  readonly maxConcurrentFetches?: number;
  /** Use only keys that signed the directory's answer (tag `http-message-signatures-directory`, covering `@authority;req`); default true. */
  readonly requireSignature?: boolean;
  /** Fetch from private, loopback, link-local and unique-local addresses too (default false: refused). */
  readonly allowPrivateAddresses?: boolean;
  /** PEM certificates trusted besides Node's root certificates, for a directory behind a private CA. */
  readonly extraCa?: string | readonly string[];
  /** The resolver (default: the system's); every address it returns must be public. */
  readonly lookup?: DirectoryLookup;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

/** A key of a directory, found by its thumbprint. */
export interface KeyDirectoryEntry {
  /** The RFC 7638 SHA-256 thumbprint, base64url: the `keyid` requests name it by. */
  readonly thumbprint: string;
  readonly key: KeyObject;
  /** The RFC 9421 algorithm the JWK restricts the key to, if it names one. */
  readonly alg: HttpSignatureAlgorithm | undefined;
}

/** The usable keys of one directory. */
export interface KeyDirectoryContents {
  /** The directory's origin (`https://bot.example`), the operator's identifier. */
  readonly origin: string;
  /** The URL that was fetched. */
  readonly url: string;
  readonly keys: ReadonlyMap<string, KeyDirectoryEntry>;
}

/**
 * Checks the directory's own signatures and returns the thumbprints of the keys that signed the
 * answer; keys that did not are not used. Given the answer, the authority that was requested and
 * the keys the body lists.
 */
export type DirectorySignatureCheck = (
  answer: DirectoryAnswer,
  authority: string,
  keys: ReadonlyMap<string, KeyDirectoryEntry>,
  now: number,
) => Promise<ReadonlySet<string>>;

interface Entry {
  readonly keys: KeyDirectoryContents | undefined;
  /** Until when the keys are used without a fetch (epoch ms). */
  readonly freshUntil: number;
  /** The refusal of the last fetch, remembered until `retryAt`. */
  readonly refusal: AuthError | undefined;
  readonly retryAt: number;
}

/** The refusal of a directory: 401 with the reason and a detail that names the origin, never its contents. */
function refused(reason: KnownReason, detail: string, cause?: unknown): AuthError {
  return new AuthError('token_invalid', { reason, detail, cause });
}

/**
 * The origin a `Signature-Agent` member names, in its ASCII serialization, or undefined for anything
 * that is not an https origin (a path, a query, user info, another scheme, a host with a trailing
 * dot). A lone `/` path is accepted.
 */
export function directoryOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  if (url.pathname !== '/' || !/^https:\/\/[^/?#]+\/?$/i.test(value)) return undefined;
  // A trailing dot names the same host under another origin: a second cache entry and a second
  // principal for one operator (so a block by subject could be stepped around).
  if (url.hostname.endsWith('.')) return undefined;
  return url.origin;
}

/** Seconds the answer says it may be cached: `Cache-Control: max-age`, else `Expires` − `Date`; `no-store`/`no-cache` are 0. */
export function answerLifetimeSeconds(headers: DirectoryAnswer['headers'], now: number): number | undefined {
  const control = headers['cache-control'];
  if (control !== undefined) {
    const directives = control
      .toLowerCase()
      .split(',')
      .map((d) => d.trim());
    if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0;
    for (const directive of directives) {
      const match = /^max-age=(\d+)$/.exec(directive);
      if (match !== null) return Number(match[1]);
    }
  }
  const expires = headers.expires;
  if (expires !== undefined) {
    const at = Date.parse(expires);
    if (Number.isNaN(at)) return 0;
    const date = headers.date === undefined ? Number.NaN : Date.parse(headers.date);
    return Math.max(0, Math.floor((at - (Number.isNaN(date) ? now : date)) / 1000));
  }
  return undefined;
}

const SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set(HTTP_SIGNATURE_ALGORITHMS.filter((a) => a !== 'hmac-sha256'));

/**
 * The keys of a directory body, by thumbprint. A JWK with a `kid` that is not its thumbprint, a
 * private member, or an `alg` outside RFC 9421's registry makes the whole directory invalid;
 * entries of an unsupported key type are skipped; keys outside their `nbf`/`exp`, and keys whose
 * `use` or `key_ops` say they are not for verifying, are left out.
 */
function parseKeys(body: Buffer, maxKeys: number, now: number): Map<string, KeyDirectoryEntry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw refused('directory_invalid', 'The key directory is not JSON.', cause);
  }
  const list = typeof parsed === 'object' && parsed !== null ? (parsed as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) throw refused('directory_invalid', 'The key directory is not a JWK Set.');
  if (list.length > maxKeys) throw refused('directory_too_large', `The key directory lists more than ${maxKeys} keys.`);
  const keys = new Map<string, KeyDirectoryEntry>();
  for (const jwk of list as unknown[]) {
    if (typeof jwk !== 'object' || jwk === null) throw refused('directory_invalid', 'The key directory has an entry that is not a JWK.');
    const {
      kid,
      d,
      alg,
      nbf,
      exp,
      use,
      key_ops: ops,
    } = jwk as {
      kid?: unknown;
      d?: unknown;
      alg?: unknown;
      nbf?: unknown;
      exp?: unknown;
      use?: unknown;
      key_ops?: unknown;
    };
    if (d !== undefined) throw refused('directory_invalid', 'The key directory publishes a private key.');
    if (alg !== undefined && !(typeof alg === 'string' && SIGNATURE_ALGORITHMS.has(alg)))
      throw refused('directory_invalid', 'The key directory names an algorithm outside RFC 9421.');
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      continue;
    }
    if (key.asymmetricKeyType !== 'ed25519' && key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'rsa') continue;
    const thumbprint = jwkThumbprint(key);
    // The draft makes `kid` the thumbprint; a different one is a directory that labels keys wrongly.
    if (kid !== undefined && kid !== thumbprint)
      throw refused('directory_invalid', 'The key directory has a key whose kid is not its JWK thumbprint.');
    if ((typeof nbf === 'number' && nbf * 1000 > now) || (typeof exp === 'number' && exp * 1000 <= now)) continue;
    // RFC 7517 §4.2, §4.3: a key marked for another use (encryption) does not verify signatures.
    if (use !== undefined && use !== 'sig') continue;
    if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) continue;
    keys.set(thumbprint, { thumbprint, key, alg: alg as HttpSignatureAlgorithm | undefined });
  }
  return keys;
}

const KNOWN = optionNames<KeyDirectoryOptions>()({
  origins: 1,
  timeoutMs: 1,
  maxBytes: 1,
  maxKeys: 1,
  cacheSeconds: 1,
  minCacheSeconds: 1,
  staleSeconds: 1,
  negativeCacheSeconds: 1,
  maxEntries: 1,
  maxConcurrentFetches: 1,
  requireSignature: 1,
  allowPrivateAddresses: 1,
  extraCa: 1,
  lookup: 1,
  clock: 1,
  logger: 1,
  validate: 1,
});

/**
 * Fetches and caches key directories by origin.
 * @example const directories = new KeyDirectoryResolver({ origins: ['https://bot.example'] }); await directories.getKey('https://bot.example', keyid)
 */
export class KeyDirectoryResolver {
  readonly #fetch: DirectoryFetchOptions;
  readonly #origins: ReadonlySet<string> | undefined;
  readonly #maxKeys: number;
  readonly #ceilingMs: number;
  readonly #floorMs: number;
  readonly #staleMs: number;
  readonly #negativeMs: number;
  readonly #maxEntries: number;
  readonly #maxConcurrentFetches: number;
  readonly #clock: () => number;
  readonly #checkSignature: DirectorySignatureCheck | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<Entry>>();

  /**
   * @param options limits, cache bounds, the allow-list and the transport options.
   * @param checkSignature checks the directory's own signatures (required unless `requireSignature: false`).
   * @throws TypeError for options out of range, and for an allow-list entry that is not an https origin.
   */
  constructor(options: KeyDirectoryOptions = {}, checkSignature?: DirectorySignatureCheck) {
    const where = factoryOf(options, 'new KeyDirectoryResolver()');
    new Warnings(where, options).unknownOptions(options, KNOWN);
    const extraCa = options.extraCa === undefined ? [] : typeof options.extraCa === 'string' ? [options.extraCa] : options.extraCa;
    this.#fetch = {
      timeoutMs: positive(options.timeoutMs, 2000, where, 'timeoutMs'),
      maxBytes: positiveInteger(options.maxBytes, 64 * 1024, where, 'maxBytes'),
      allowPrivateAddresses: booleanOption(options.allowPrivateAddresses, false, where, 'allowPrivateAddresses'),
      extraCa:
        extraCa.length === 0
          ? []
          : listOption(
              extraCa,
              (v): v is string => typeof v === 'string' && v.includes('-----BEGIN CERTIFICATE-----'),
              where,
              'extraCa',
              'PEM certificates',
            ),
      lookup:
        functionOption<DirectoryLookup>(options.lookup, where, 'lookup', 'a function (hostname) => Promise<addresses>') ?? systemLookup,
    };
    if (options.origins !== undefined) {
      const origins = listOption(
        options.origins,
        (v): v is string => typeof v === 'string' && directoryOrigin(v) !== undefined,
        where,
        'origins',
        'a list of https origins',
      );
      this.#origins = new Set(origins.map((o) => directoryOrigin(o) as string));
    }
    this.#maxKeys = positiveInteger(options.maxKeys, 32, where, 'maxKeys');
    this.#ceilingMs = nonNegative(options.cacheSeconds, 86_400, where, 'cacheSeconds') * 1000;
    this.#floorMs = nonNegative(options.minCacheSeconds, 60, where, 'minCacheSeconds') * 1000;
    if (this.#floorMs > this.#ceilingMs)
      throw optionError(where, 'minCacheSeconds', 'at most "cacheSeconds"', String(this.#floorMs / 1000));
    this.#staleMs = nonNegative(options.staleSeconds, 3600, where, 'staleSeconds') * 1000;
    this.#negativeMs = nonNegative(options.negativeCacheSeconds, 30, where, 'negativeCacheSeconds') * 1000;
    this.#maxEntries = positiveInteger(options.maxEntries, 1000, where, 'maxEntries');
    this.#maxConcurrentFetches = positiveInteger(options.maxConcurrentFetches, 16, where, 'maxConcurrentFetches');
    this.#clock = functionOption<() => number>(options.clock, where, 'clock', 'a function () => epoch ms') ?? Date.now;
    const requireSignature = booleanOption(options.requireSignature, true, where, 'requireSignature');
    if (requireSignature && checkSignature === undefined)
      throw optionError(where, 'requireSignature', 'false when no signature check is given');
    this.#checkSignature = requireSignature ? checkSignature : undefined;
  }

  /**
   * The key `keyid` of the directory at `origin` (a `Signature-Agent` value), or undefined when the
   * directory (fresh, or fetched once more for an unknown keyid after `negativeCacheSeconds`) has none.
   * @throws AuthError 401 when the origin is not allowed or its directory is refused; 503
   *   (`directory_unavailable`) when it cannot be fetched and nothing cached may serve.
   */
  async getKey(
    origin: string,
    keyid: string,
  ): Promise<{ readonly directory: KeyDirectoryContents; readonly key: KeyDirectoryEntry } | undefined> {
    const keys = await this.resolve(origin);
    let key = keys.keys.get(keyid);
    if (key === undefined && this.#mayRefetch(keys.origin)) {
      // An unknown keyid may be a key published since the last fetch; at most one fetch per negativeCacheSeconds.
      const again = await this.resolve(keys.origin, true);
      key = again.keys.get(keyid);
      if (key !== undefined) return { directory: again, key };
    }
    return key === undefined ? undefined : { directory: keys, key };
  }

  /**
   * The usable keys of the directory at `origin`.
   * @throws AuthError as {@link getKey}.
   */
  async resolve(value: string, force = false): Promise<KeyDirectoryContents> {
    const origin = directoryOrigin(value);
    if (origin === undefined) throw refused('directory_not_allowed', 'The Signature-Agent does not name an https origin.');
    if (this.#origins !== undefined && !this.#origins.has(origin))
      throw refused('directory_not_allowed', 'The Signature-Agent names a directory that is not on the allow-list.');
    const now = this.#clock();
    const entry = this.#entries.get(origin);
    if (entry !== undefined && !force) {
      if (entry.keys !== undefined && now < entry.freshUntil) return entry.keys;
      if (now < entry.retryAt) {
        if (entry.keys !== undefined && now < entry.freshUntil + this.#staleMs) return entry.keys;
        if (entry.refusal !== undefined) throw entry.refusal;
      }
    }
    let pending = this.#pending.get(origin);
    if (pending === undefined) {
      // Not remembered against the origin: it is this service that is busy, not the directory.
      if (this.#pending.size >= this.#maxConcurrentFetches)
        throw dependencyUnavailable('directory_unavailable', new Error('too many key directory fetches in flight'), 1);
      pending = this.#refresh(origin, entry).finally(() => this.#pending.delete(origin));
      this.#pending.set(origin, pending);
    }
    const next = await pending;
    if (next.keys !== undefined && (next.refusal === undefined || this.#clock() < next.freshUntil + this.#staleMs)) return next.keys;
    throw next.refusal as AuthError;
  }

  #mayRefetch(origin: string): boolean {
    const entry = this.#entries.get(origin);
    return entry !== undefined && this.#clock() >= entry.retryAt && !this.#pending.has(origin);
  }

  async #refresh(origin: string, previous: Entry | undefined): Promise<Entry> {
    const started = this.#clock();
    let entry: Entry;
    try {
      // Observed as a dependency (diagnostics channel), like every outbound call of the library.
      const keys = await observeDependency(
        'key_directory',
        'GET',
        new URL(DIRECTORY_PATH, origin).href,
        () => this.#download(origin, started),
        (error) => (error instanceof AuthError ? (error.reason ?? error.code) : 'directory_unavailable'),
      );
      entry = { keys: keys.keys, freshUntil: this.#clock() + keys.lifetimeMs, refusal: undefined, retryAt: started + this.#negativeMs };
    } catch (error) {
      const refusal = error instanceof AuthError ? error : dependencyUnavailable('directory_unavailable', error);
      // An outage keeps what was cached (a directory that fails to resolve is not evidence); a refusal
      // of a directory that did answer replaces it.
      const keep = refusal.code === 'dependency_unavailable' ? previous?.keys : undefined;
      entry = { keys: keep, freshUntil: previous?.freshUntil ?? 0, refusal, retryAt: this.#clock() + this.#negativeMs };
    }
    this.#entries.delete(origin);
    this.#entries.set(origin, entry);
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    return entry;
  }

  async #download(origin: string, now: number): Promise<{ keys: KeyDirectoryContents; lifetimeMs: number }> {
    const url = new URL(DIRECTORY_PATH, origin);
    let answer: DirectoryAnswer;
    try {
      answer = await fetchDirectory(url, DIRECTORY_MEDIA_TYPE, this.#fetch);
    } catch (error) {
      if (!isDirectoryFetchError(error)) throw error;
      switch (error.code) {
        case 'directory_redirect':
          throw refused('directory_redirect', 'The key directory answered with a redirect, which is not followed.', error);
        case 'directory_private_address':
          throw refused('directory_private_address', 'The key directory is at a private address.', error);
        case 'directory_too_large':
          throw refused('directory_too_large', 'The key directory is larger than allowed.', error);
        case 'directory_not_https':
          throw refused('directory_not_allowed', 'The key directory is not served over https.', error);
        case 'directory_status':
          if ((error.status ?? 500) < 500) throw refused('directory_invalid', 'The key directory answered with an error status.', error);
          throw dependencyUnavailable('directory_unavailable', error);
        default:
          throw dependencyUnavailable('directory_unavailable', error);
      }
    }
    const type = (answer.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== DIRECTORY_MEDIA_TYPE) throw refused('directory_invalid', `The key directory is not served as ${DIRECTORY_MEDIA_TYPE}.`);
    let keys = parseKeys(answer.body, this.#maxKeys, now);
    if (this.#checkSignature !== undefined) {
      const signed = await this.#checkSignature(answer, url.host, keys, now);
      keys = new Map([...keys].filter(([thumbprint]) => signed.has(thumbprint)));
      if (keys.size === 0) throw refused('directory_signature_invalid', 'No key of the key directory signed its answer.');
    }
    const told = answerLifetimeSeconds(answer.headers, now);
    const lifetimeMs = Math.min(this.#ceilingMs, Math.max(this.#floorMs, told === undefined ? 300_000 : told * 1000));
    return { keys: { origin, url: url.href, keys }, lifetimeMs };
  }
}
