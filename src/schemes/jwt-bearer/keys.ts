/**
 * Where one issuer's verification keys come from: static keys, a JWKS URL, or the `jwks_uri` of the
 * issuer's discovery document (OpenID Connect discovery / RFC 8414), found once and then cached.
 * The JWKS itself is a {@link RemoteJwks}: unknown `kid` → one rate-limited refresh, endpoint down →
 * cached keys keep working and unknown keys get 503.
 */
import type { KeyObject } from 'node:crypto';
import { dependencyUnavailable, isAuthError, misconfigured, type AuthError } from '../../errors.js';
import { isKeyEntry, publicKeyOption, type PublicKeyInput } from '../../keys/import.js';
import { RemoteJwks, type RemoteJwksOptions } from '../../keys/remote-jwks.js';
import { MetadataSource } from '../../protocols/oauth/discovery.js';
import { isOAuthClientError } from '../../protocols/oauth/errors.js';
import { Warnings } from '../../lib/warnings.js';
import { forFactory, sharedSecretRefused } from '../../lib/options.js';
import type { HttpOptions } from '../../protocols/oauth/http.js';

/** A static verification key, optionally named by `kid`. */
export interface StaticKey {
  readonly key: PublicKeyInput;
  /** When set, only tokens whose header names this `kid` use the key. */
  readonly kid?: string;
}

/** How to find one issuer's keys (exactly one source is used: `publicKeys`, then `jwksUri`, then discovery). */
export interface IssuerKeyOptions {
  /** Static public keys (PEM, JWK, KeyObject, or `{ key, kid }`); never a shared secret. */
  readonly publicKeys?: readonly (PublicKeyInput | StaticKey)[];
  /** The issuer's JWK Set URL (https); when absent (and no `publicKeys`), discovered from the issuer's metadata. */
  readonly jwksUri?: string;
  /** Fetch, cache and cooldown settings of the JWKS. */
  readonly jwks?: RemoteJwksOptions;
  /** Transport for discovery (timeout, headers, fetch). */
  readonly discovery?: HttpOptions;
}

/** Resolves the key for a token header. */
export interface IssuerKeys {
  /**
   * The keys to try for this `kid` and the token's `alg` (static keys without a `kid` match every
   * token; a JWKS entry whose own `alg` differs is not returned; a token without `kid` gets the JWKS's
   * one key that fits `alg`, or none when the set holds several).
   * @throws AuthError `dependency_unavailable` (503) when discovery or the JWKS cannot answer.
   */
  keysFor(kid: string | undefined, alg: string): Promise<readonly KeyObject[]>;
  /** Key sets that change (a JWKS): see `RemoteJwks.revalidate`. Static keys have none. */
  revalidate?(): Promise<void> | undefined;
  /** Key sets that change (a JWKS): see `RemoteJwks.onKeysRemoved`. Static keys have none. */
  onKeysRemoved?(listener: (kids: readonly string[]) => void): void;
}

/** Key text or bytes that are neither PEM, JWK JSON nor DER: what a shared HMAC secret looks like. */
function looksLikeSecret(input: PublicKeyInput): boolean {
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) return false;
  const text = (typeof input === 'string' ? input : input.toString('latin1')).trim();
  return !text.includes('-----BEGIN') && !text.startsWith('{') && !(Buffer.isBuffer(input) && input[0] === 0x30);
}

/** A static key option, imported now: a shared secret is refused as such, other failures as unreadable keys. */
function staticKey(input: PublicKeyInput, where: string, option: string): KeyObject {
  try {
    return publicKeyOption(input, where, option);
  } catch (error) {
    if (looksLikeSecret(input) && !/file path/.test((error as Error).message)) throw sharedSecretRefused(where, option);
    throw error;
  }
}

class StaticKeys implements IssuerKeys {
  readonly #byKid = new Map<string, KeyObject>();
  readonly #anyKid: KeyObject[] = [];
  constructor(keys: readonly (PublicKeyInput | StaticKey)[], where: string, at: string) {
    for (const [i, entry] of keys.entries()) {
      const { key, kid } = isKeyEntry<StaticKey>(entry) ? entry : { key: entry, kid: undefined };
      const imported = staticKey(key, where, `${at}publicKeys[${i}]`);
      if (kid === undefined) this.#anyKid.push(imported);
      else this.#byKid.set(kid, imported);
    }
  }
  async keysFor(kid: string | undefined): Promise<readonly KeyObject[]> {
    const named = kid === undefined ? undefined : this.#byKid.get(kid);
    return named ? [named, ...this.#anyKid] : this.#anyKid;
  }
}

/** How long a failed discovery answers 503 before the issuer is asked again, ms. */
const DISCOVERY_RETRY_MS = 5000;

class JwksKeys implements IssuerKeys {
  #pending: Promise<RemoteJwks> | undefined;
  readonly #discover: (() => Promise<RemoteJwks>) | undefined;
  readonly #clock: () => number;
  #found: RemoteJwks | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;
  // The last failure when it was a configuration error, answered again until discovery is retried.
  #misconfigured: AuthError | undefined;
  readonly #removedListeners: Array<(kids: readonly string[]) => void> = [];

  constructor(issuer: string, options: IssuerKeyOptions, clock: () => number, where: string) {
    this.#clock = clock;
    if (options.jwksUri !== undefined) {
      this.#found = this.#watched(new RemoteJwks(options.jwksUri, forFactory({ clock, ...options.jwks }, where)));
      return;
    }
    const metadata = new MetadataSource(issuer, { ...options.discovery, clock });
    const warnings = new Warnings(where, options.jwks);
    this.#discover = async () => {
      let uri: string;
      try {
        uri = await metadata.endpoint('jwks_uri');
      } catch (cause) {
        // Discovery names another issuer: a mistake in `issuer` (or at the server) that retrying
        // will not mend, so 500 and a logged error rather than 503 with Retry-After.
        if (isOAuthClientError(cause) && cause.code === 'configuration') {
          warnings.configurationError(
            'discovery_issuer_mismatch',
            `${cause.message}; tokens of this issuer get 500 until "issuer" matches`,
            { issuer },
            issuer,
          );
          throw misconfigured('discovery_issuer_mismatch', cause);
        }
        // The issuer's metadata cannot be read: nothing can be verified now (fail closed, 503).
        throw dependencyUnavailable('discovery_unavailable', cause);
      }
      return this.#watched(new RemoteJwks(uri, forFactory({ clock, ...options.jwks }, where)));
    };
  }

  /** Forwards the set's removals to the listeners registered here (the set may be discovered later). */
  #watched(jwks: RemoteJwks): RemoteJwks {
    jwks.onKeysRemoved((kids) => {
      for (const listener of this.#removedListeners) listener(kids);
    });
    return jwks;
  }

  revalidate(): Promise<void> | undefined {
    return this.#found?.revalidate();
  }

  onKeysRemoved(listener: (kids: readonly string[]) => void): void {
    this.#removedListeners.push(listener);
  }

  async keysFor(kid: string | undefined, alg: string): Promise<readonly KeyObject[]> {
    const jwks = this.#found ?? (await this.#discovered());
    // Without a kid, the set's one key for this algorithm (RFC 7515 §4.1.4, OpenID Connect Core §10.1).
    const key = kid === undefined ? await jwks.getOnlyKey(alg) : await jwks.getKey(kid, alg);
    return key ? [key] : [];
  }

  /**
   * One discovery shared by concurrent requests. After a failure, requests get 503 at once for
   * {@link DISCOVERY_RETRY_MS} instead of each asking the issuer again.
   */
  async #discovered(): Promise<RemoteJwks> {
    const since = this.#clock() - this.#failedAt;
    if (this.#pending === undefined && since < DISCOVERY_RETRY_MS) {
      if (this.#misconfigured !== undefined) throw this.#misconfigured;
      throw dependencyUnavailable('discovery_unavailable', undefined, Math.max(1, Math.ceil((DISCOVERY_RETRY_MS - since) / 1000)));
    }
    this.#pending ??= (this.#discover as () => Promise<RemoteJwks>)().then(
      (found) => {
        this.#pending = undefined;
        this.#found = found;
        return found;
      },
      (error: unknown) => {
        this.#pending = undefined;
        this.#failedAt = this.#clock();
        this.#misconfigured = isAuthError(error) && error.code === 'configuration_error' ? error : undefined;
        throw error;
      },
    );
    return this.#pending;
  }
}

/**
 * Builds the key source of one issuer; `at` prefixes its option names (`issuers[1].`).
 * @throws TypeError for an unreadable, private or weak static key, and for a shared secret.
 */
export function issuerKeys(issuer: string, options: IssuerKeyOptions, clock: () => number, where: string, at = ''): IssuerKeys {
  if (options.publicKeys !== undefined && options.publicKeys.length > 0) return new StaticKeys(options.publicKeys, where, at);
  return new JwksKeys(issuer, options, clock, where);
}
