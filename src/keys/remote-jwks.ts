/**
 * A remote JWK Set as a key source, selected by `kid` (or, for a token without one, the set's only
 * key that fits its algorithm): cached, re-fetched once on an unknown `kid`
 * (at most once per cooldown, so unknown kids cannot force a download per request), and still
 * serving cached keys while the endpoint is down. Shared by every scheme that trusts a JWKS URL.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { observeDependency } from '../diagnostics.js';
import { dependencyUnavailable } from '../errors.js';
import { factoryOf, httpsUrlOption, nonNegative, positive, positiveInteger } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';
import { algorithmsForKey } from '../jwt/compact.js';
import { keyFamily } from './import.js';
import { readCappedText } from '../lib/net.js';

/** Options for {@link RemoteJwks}. */
export interface RemoteJwksOptions extends ObservableOptions {
  /** Longest wait for the endpoint, in ms (default 2000; finite, > 0). */
  readonly timeoutMs?: number;
  /** How long a fetched set is used before it is fetched again, in seconds (default 300, as PyJWT; finite, >= 0). */
  readonly cacheSeconds?: number;
  /** Least time between two fetches caused by unknown kids or failures, in ms (default 30 000; finite, >= 0). */
  readonly cooldownMs?: number;
  /** The fetch implementation (default the global `fetch`). */
  readonly fetch?: typeof fetch;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
  /** Largest accepted response body, in bytes (default 1 MiB; an integer >= 1). */
  readonly maxBytes?: number;
}

/** A verification key of a set, with the algorithm its JWK is restricted to, if any. */
interface JwkEntry {
  readonly key: KeyObject;
  readonly alg: string | undefined;
}

/** The usable keys of a set: by `kid`, and every one (those without a `kid` too) in set order. */
interface KeySet {
  readonly byKid: Map<string, JwkEntry>;
  readonly all: readonly JwkEntry[];
}

/** True when `entry` can verify `alg`: its JWK names no other algorithm and its key type allows it. */
function fits(entry: JwkEntry, alg: string): boolean {
  return (entry.alg === undefined || entry.alg === alg) && (algorithmsForKey(entry.key) as readonly string[]).includes(alg);
}

/**
 * Verification keys of a JWK Set. RFC 7517 §4.2/§4.3: an entry whose `use` is not `sig` or whose
 * `key_ops` do not include `verify` is for something else (encryption) and is left out; a malformed
 * `alg` or `key_ops` leaves the entry out too, and a repeated `kid` keeps the first entry. Entries
 * that cannot be read are reported through `skipped` (kid and why, never the key).
 */
function keysFromSet(body: unknown, skipped: (kid: string, why: string) => void): KeySet {
  const byKid = new Map<string, JwkEntry>();
  const all: JwkEntry[] = [];
  const list = typeof body === 'object' && body !== null ? (body as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) throw new Error('not a JWK Set');
  for (const jwk of list as unknown[]) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const { kid, use, d, alg, key_ops: ops } = jwk as { kid?: unknown; use?: unknown; d?: unknown; alg?: unknown; key_ops?: unknown };
    if (
      (kid !== undefined && typeof kid !== 'string') ||
      (use !== undefined && use !== 'sig') ||
      d !== undefined ||
      (kid !== undefined && byKid.has(kid))
    )
      continue;
    if ((alg !== undefined && typeof alg !== 'string') || (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify')))) continue;
    try {
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      keyFamily(key);
      const entry = { key, alg };
      if (kid !== undefined) byKid.set(kid, entry);
      all.push(entry);
    } catch (error) {
      // An unreadable or unsupported entry is skipped, as PyJWT's client does; the rest still count.
      skipped(kid ?? '', error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'key_unreadable');
    }
  }
  return { byKid, all };
}

/** The key of `kid`; without a `kid`, the one key of the set that fits `alg` (none when several do). */
function select(set: KeySet, kid: string | undefined, alg: string | undefined): JwkEntry | undefined {
  if (kid !== undefined) return set.byKid.get(kid);
  if (alg === undefined) return undefined;
  let found: JwkEntry | undefined;
  for (const entry of set.all) {
    if (!fits(entry, alg)) continue;
    if (found !== undefined) return undefined;
    found = entry;
  }
  return found;
}

/**
 * A remote JWKS endpoint as a key source.
 * @example const jwks = new RemoteJwks('https://peer.example/.well-known/jwks.json'); await jwks.getKey(kid)
 */
export class RemoteJwks {
  /** The endpoint. */
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #fetch: typeof fetch;
  readonly #clock: () => number;
  readonly #maxBytes: number;
  #keys: KeySet | undefined;
  #fetchedAt = 0;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #pending: Promise<KeySet> | undefined;
  readonly #warnings: Warnings;
  readonly #removedListeners: Array<(kids: readonly string[]) => void> = [];

  /**
   * @param url the JWK Set URL
   * @param options timeouts, cache lifetime, cooldown, size limit
   * @throws TypeError for a URL that is not HTTPS (plain HTTP is allowed for loopback only) and for
   *   numeric options that are not finite and in range (`cacheSeconds: NaN` would fetch on every lookup).
   */
  constructor(url: string, options: RemoteJwksOptions = {}) {
    const where = factoryOf(options, 'new RemoteJwks()');
    // Built by a scheme factory, these are the options under its `jwks`.
    const at = where === 'new RemoteJwks()' ? '' : 'jwks.';
    this.url = new URL(httpsUrlOption(url, where, 'jwksUri')).href;
    this.#timeoutMs = positive(options.timeoutMs, 2000, where, `${at}timeoutMs`);
    this.#maxAgeMs = nonNegative(options.cacheSeconds, 300, where, `${at}cacheSeconds`) * 1000;
    this.#cooldownMs = nonNegative(options.cooldownMs, 30_000, where, `${at}cooldownMs`);
    this.#fetch = options.fetch ?? fetch;
    this.#clock = options.clock ?? Date.now;
    this.#maxBytes = positiveInteger(options.maxBytes, 1024 * 1024, where, `${at}maxBytes`);
    this.#warnings = new Warnings(where, options);
  }

  /**
   * The key with this `kid`, or undefined when the (fresh) set has none or `kid` is undefined. With
   * `alg`, a JWK that names another algorithm is not returned (RFC 7517 §4.4, RFC 8725 §3.1: a key is
   * used with one algorithm; PyJWT's client ignores the JWK's `alg`).
   * @throws AuthError `dependency_unavailable` (503) when the set must be fetched and cannot be.
   */
  async getKey(kid: string | undefined, alg?: string): Promise<KeyObject | undefined> {
    if (kid === undefined) return undefined;
    const entry = await this.#lookup(kid, undefined);
    if (entry === undefined || (alg !== undefined && entry.alg !== undefined && entry.alg !== alg)) return undefined;
    return entry.key;
  }

  /**
   * Calls `listener` after each download with the kids whose key left the set or changed under the
   * same kid, so that caches of tokens those keys verified can drop them (a key removed from the set
   * is the response to its compromise). The empty kid stands for tokens that named none: it is listed
   * whenever any key left.
   */
  onKeysRemoved(listener: (kids: readonly string[]) => void): void {
    this.#removedListeners.push(listener);
  }

  /**
   * Starts a download when the set is older than `cacheSeconds` (not within the cooldown after a
   * failure), for callers that answer from their own cache and would otherwise never look the set up
   * again; the promise settles when that download has (a failure keeps the cached set, as lookups
   * do). Undefined when the set is fresh, not fetched yet, or may not be fetched now.
   */
  revalidate(): Promise<void> | undefined {
    const now = this.#clock();
    if (this.#keys === undefined || now - this.#fetchedAt < this.#maxAgeMs) return undefined;
    if (this.#pending === undefined && now - this.#lastAttempt < this.#cooldownMs && this.#fetchedAt < this.#lastAttempt) return undefined;
    return this.#refresh().then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * For a token without `kid` (RFC 7515 §4.1.4 makes it optional; OpenID Connect Core §10.1 asks for
   * it only when a set holds several keys): the set's one key that can verify `alg` (its JWK names
   * no other algorithm and its type allows `alg`), with or without a `kid` of its own. Undefined
   * when the set holds no such key or several: the token cannot say which one it means.
   * @throws AuthError `dependency_unavailable` (503) when the set must be fetched and cannot be.
   */
  async getOnlyKey(alg: string): Promise<KeyObject | undefined> {
    return (await this.#lookup(undefined, alg))?.key;
  }

  async #lookup(kid: string | undefined, alg: string | undefined): Promise<JwkEntry | undefined> {
    const now = this.#clock();
    const cached = this.#keys;
    const fresh = cached !== undefined && now - this.#fetchedAt < this.#maxAgeMs;
    if (fresh) {
      const key = select(cached, kid, alg);
      if (key) return key;
      // Unknown kid (or no single key for a token without one): one re-fetch (the peer may have
      // rotated), rate-limited by the cooldown.
      if (now - this.#lastAttempt < this.#cooldownMs) return undefined;
    } else if (cached !== undefined && now - this.#lastAttempt < this.#cooldownMs && this.#fetchedAt < this.#lastAttempt) {
      // Stale set and the last attempt failed recently: keep serving what we have without hammering.
      return select(cached, kid, alg);
    } else if (cached === undefined && now - this.#lastAttempt < this.#cooldownMs && this.#pending === undefined) {
      throw dependencyUnavailable(
        'jwks_unavailable',
        undefined,
        Math.max(1, Math.ceil((this.#cooldownMs - (now - this.#lastAttempt)) / 1000)),
      );
    }
    try {
      return select(await this.#refresh(), kid, alg);
    } catch (cause) {
      // Endpoint down: a cached key still verifies (the peer's keys did not change because we cannot see them).
      const stale = cached === undefined ? undefined : select(cached, kid, alg);
      if (stale) return stale;
      this.#warnings.dependencyFailed(
        'jwks',
        'jwks_unavailable',
        `the JWK Set at ${this.url} could not be fetched; requests that need it get 503`,
        cause,
      );
      throw dependencyUnavailable('jwks_unavailable', cause);
    }
  }

  /** One fetch shared by concurrent callers. */
  #refresh(): Promise<KeySet> {
    this.#pending ??= observeDependency(
      'jwks',
      'GET',
      this.url,
      () => this.#download(),
      () => 'jwks_unavailable',
    ).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #download(): Promise<KeySet> {
    this.#lastAttempt = this.#clock();
    const response = await this.#fetch(this.url, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (!response.ok) throw new Error(`JWKS endpoint answered ${response.status}`);
    // Stops reading once past the cap, instead of buffering the whole answer first.
    const text = await readCappedText(response, this.#maxBytes);
    const keys = keysFromSet(JSON.parse(text) as unknown, (kid, why) =>
      this.#warnings.warn(
        'jwks_entry_skipped',
        `the JWK Set at ${this.url} has an entry that cannot be used (kid "${kid}": ${why}); it is skipped`,
        { url: this.url, kid, why },
        kid,
      ),
    );
    const before = this.#keys;
    this.#keys = keys;
    this.#fetchedAt = this.#clock();
    if (before !== undefined && this.#removedListeners.length > 0) {
      const removed = [...before.byKid].filter(([kid, old]) => !(keys.byKid.get(kid)?.key.equals(old.key) ?? false)).map(([kid]) => kid);
      // A token without a kid was verified by whichever single key fitted: any key leaving the set may
      // have been that one, so such tokens are named by the empty kid.
      if (before.all.some((old) => !keys.all.some((entry) => entry.key.equals(old.key)))) removed.push('');
      if (removed.length > 0) for (const listener of this.#removedListeners) listener(removed);
    }
    return keys;
  }
}
