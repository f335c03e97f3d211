/**
 * Where the keys of `httpSignatureScheme()` come from, in this order: the static `publicKeys`, the
 * static `sharedSecrets` (the only HMAC keys), a pluggable `keyResolver`, a JWK Set. Each key says
 * which algorithms it verifies and whom it names; the signature's `alg` never widens that.
 */
import { KeyObject } from 'node:crypto';
import { importPublicKey, publicKeyOption, type PublicKeyInput } from '../../keys/import.js';
import { dependencyUnavailable } from '../../errors.js';
import { RemoteJwks } from '../../keys/remote-jwks.js';
import { describeValue, enumOption, numberOption, optionError } from '../../lib/options.js';
import type { PrincipalKind } from '../../principal.js';
import type { AuthRequest } from '../../scheme.js';
import {
  algorithmsForKey,
  hmacSecret,
  MIN_HMAC_SECRET_BYTES,
  type SignatureKeyMaterial,
} from '../../protocols/http-signatures/algorithms.js';
import type { HttpMessage } from '../../protocols/http-signatures/message.js';
import {
  HTTP_SIGNATURE_ALGORITHMS,
  type HttpSignatureAlgorithm,
  type SignatureInputEntry,
} from '../../protocols/http-signatures/structured.js';

/** Who a key names and what that caller may do; every field optional. */
export interface HttpSignatureKeyOwner {
  /** The principal's subject (default the `keyid`). */
  readonly subject?: string;
  /** The principal's kind (default the scheme's `defaultKind`, else `service`). */
  readonly kind?: PrincipalKind;
  /** Scopes granted to this caller. */
  readonly scopes?: readonly string[];
  /** Assurance level of this caller (default the scheme's `defaultLevel`). */
  readonly level?: number;
}

/** A public key of `publicKeys`, by `keyid`. */
export interface HttpSignaturePublicKey extends HttpSignatureKeyOwner {
  /** The key: PEM, JWK, DER or a KeyObject (Ed25519, EC P-256/P-384, RSA ≥ 2048 bits). */
  readonly key: PublicKeyInput;
  /**
   * The one algorithm it verifies; default the key type's (an RSA key without it accepts
   * `rsa-pss-sha512` and `rsa-v1_5-sha256`, and then only signatures that name one in `alg`).
   */
  readonly algorithm?: Exclude<HttpSignatureAlgorithm, 'hmac-sha256'>;
}

/** An HMAC secret of `sharedSecrets`, by `keyid`: `hmac-sha256` (RFC 9421 §3.3.3) and nothing else. */
export interface HttpSignatureSharedSecret extends HttpSignatureKeyOwner {
  /** At least 32 random bytes, or a secret KeyObject of them. */
  readonly secret: Uint8Array | KeyObject;
}

/** What a {@link HttpSignatureKeyResolver} is told about the signature whose key it looks up. */
export interface HttpSignatureKeyContext {
  /** The request. */
  readonly request: AuthRequest;
  /** The message as the scheme sees it (trusted target URI, field lines). */
  readonly message: HttpMessage;
  /** The `Signature-Input` entry being verified (label, covered components, parameters). */
  readonly entry: SignatureInputEntry;
}

/** A key a {@link HttpSignatureKeyResolver} found. */
export interface ResolvedHttpSignatureKey extends HttpSignatureKeyOwner {
  /** A public KeyObject (or, for an HMAC key the resolver vouches for, a secret). */
  readonly key: SignatureKeyMaterial;
  /** The algorithms it verifies (default every one its type allows). */
  readonly algorithms?: readonly HttpSignatureAlgorithm[];
  /** Facts added to `principal.details` (e.g. which directory the key came from). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Looks a `keyid` up (e.g. in a database or a key directory); undefined for unknown keys. A
 * rejection with an AuthError is answered as is (e.g. 503 `dependency_unavailable`), anything
 * else as 503.
 */
export type HttpSignatureKeyResolver = (
  keyId: string,
  context: HttpSignatureKeyContext,
) => Promise<ResolvedHttpSignatureKey | undefined> | ResolvedHttpSignatureKey | undefined;

/** A key found by {@link KeySources.resolve}, with where it came from. */
export interface FoundKey extends ResolvedHttpSignatureKey {
  readonly algorithms: readonly HttpSignatureAlgorithm[];
}

/** The key sources of a scheme, checked once when it is built. */
export class KeySources {
  readonly #static = new Map<string, FoundKey>();
  readonly #resolver: HttpSignatureKeyResolver | undefined;
  readonly #jwks: RemoteJwks | undefined;

  constructor(
    where: string,
    options: {
      readonly publicKeys?: Readonly<Record<string, HttpSignaturePublicKey>> | ReadonlyMap<string, HttpSignaturePublicKey>;
      readonly sharedSecrets?: Readonly<Record<string, HttpSignatureSharedSecret>> | ReadonlyMap<string, HttpSignatureSharedSecret>;
      readonly keyResolver?: HttpSignatureKeyResolver;
      readonly jwksUri?: string | RemoteJwks;
    },
  ) {
    for (const [keyId, entry] of entries(options.publicKeys, where, 'publicKeys')) {
      const option = `publicKeys["${keyId}"]`;
      owner(entry, where, option);
      const key = publicKeyOption(entry.key, where, `${option}.key`);
      const fits = algorithmsForKey(key);
      const algorithm =
        entry.algorithm === undefined
          ? undefined
          : enumOption(
              entry.algorithm,
              HTTP_SIGNATURE_ALGORITHMS.filter((a) => a !== 'hmac-sha256'),
              undefined,
              where,
              `${option}.algorithm`,
            );
      if (algorithm !== undefined && !fits.includes(algorithm))
        throw optionError(
          where,
          `${option}.algorithm`,
          `an algorithm this key type can verify (${fits.map((a) => `"${a}"`).join(', ')})`,
          `"${algorithm}"`,
        );
      this.#static.set(keyId, { ...entry, key, algorithms: algorithm === undefined ? fits : [algorithm] });
    }
    for (const [keyId, entry] of entries(options.sharedSecrets, where, 'sharedSecrets')) {
      const option = `sharedSecrets["${keyId}"]`;
      if (this.#static.has(keyId)) throw optionError(where, option, 'a keyid that is not also in "publicKeys"');
      owner(entry, where, option);
      const secret = entry.secret as unknown;
      const key = ArrayBuffer.isView(secret)
        ? hmacSecret(secret as Uint8Array)
        : typeof secret === 'object' && secret !== null && (secret as KeyObject).type === 'secret'
          ? (secret as KeyObject)
          : undefined;
      if (key === undefined || algorithmsForKey(key).length === 0)
        throw optionError(
          where,
          `${option}.secret`,
          `a Uint8Array or secret KeyObject of at least ${MIN_HMAC_SECRET_BYTES} bytes`,
          describeValue(secret),
        );
      this.#static.set(keyId, { ...entry, key, algorithms: ['hmac-sha256'] });
    }
    if (options.keyResolver !== undefined && typeof options.keyResolver !== 'function')
      throw optionError(where, 'keyResolver', 'a function (keyId, context) => key | undefined', describeValue(options.keyResolver));
    this.#resolver = options.keyResolver;
    const uri = options.jwksUri;
    this.#jwks = uri === undefined ? undefined : uri instanceof RemoteJwks ? uri : new RemoteJwks(uri, {});
  }

  /** True when no source is configured. */
  get empty(): boolean {
    return this.#static.size === 0 && this.#resolver === undefined && this.#jwks === undefined;
  }

  /** The key of `keyId`, from the first source that has it. */
  async resolve(keyId: string, context: HttpSignatureKeyContext): Promise<FoundKey | undefined> {
    const known = this.#static.get(keyId);
    if (known !== undefined) return known;
    if (this.#resolver !== undefined) {
      const found = await this.#resolver(keyId, context);
      if (found !== undefined) return resolvedKey(found);
    }
    if (this.#jwks !== undefined) {
      const key = await this.#jwks.getKey(keyId);
      if (key !== undefined) return { key, algorithms: algorithmsForKey(key) };
    }
    return undefined;
  }
}

/**
 * A resolver's key as verification material. Bytes are an HMAC secret only when the resolver says
 * `algorithms: ['hmac-sha256']`; otherwise bytes or text are read as a public key (PEM, DER, JWK),
 * so a public key handed over as a Buffer (read from a file or a database) is never used as a
 * secret that anyone holding the public key could sign with. A secret KeyObject verifies nothing
 * unless HMAC is named.
 * @throws AuthError 503 `key_lookup_unavailable` for a key that cannot be read.
 */
function resolvedKey(found: ResolvedHttpSignatureKey): FoundKey {
  const hmac = found.algorithms?.length === 1 && found.algorithms[0] === 'hmac-sha256';
  const raw = found.key as unknown;
  if (raw instanceof KeyObject && raw.type === 'secret') return { ...found, algorithms: hmac ? algorithmsForKey(raw) : [] };
  if (hmac) {
    if (!ArrayBuffer.isView(raw))
      throw dependencyUnavailable('key_lookup_unavailable', new TypeError('an HMAC key must be bytes or a secret KeyObject'));
    const key = hmacSecret(raw as Uint8Array);
    return { ...found, key, algorithms: algorithmsForKey(key) };
  }
  let key: KeyObject;
  try {
    key = importPublicKey((ArrayBuffer.isView(raw) && !Buffer.isBuffer(raw) ? Buffer.from(raw as Uint8Array) : raw) as PublicKeyInput);
  } catch (cause) {
    throw dependencyUnavailable('key_lookup_unavailable', cause);
  }
  const fits = algorithmsForKey(key);
  return { ...found, key, algorithms: found.algorithms === undefined ? fits : found.algorithms.filter((a) => fits.includes(a)) };
}

function entries<T>(
  value: Readonly<Record<string, T>> | ReadonlyMap<string, T> | undefined,
  where: string,
  option: string,
): Array<[string, T]> {
  if (value === undefined) return [];
  if (value instanceof Map) return [...(value as ReadonlyMap<string, T>)];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw optionError(where, option, 'a map or object of keyid → key entry', describeValue(value));
  return Object.entries(value as Readonly<Record<string, T>>).map(([k, v]) => {
    if (typeof v !== 'object' || v === null) throw optionError(where, `${option}["${k}"]`, 'an object', describeValue(v));
    return [k, v];
  });
}

function owner(entry: HttpSignatureKeyOwner, where: string, option: string): void {
  if (entry.subject !== undefined && (typeof entry.subject !== 'string' || entry.subject === ''))
    throw optionError(where, `${option}.subject`, 'a non-empty string', describeValue(entry.subject));
  if (entry.kind !== undefined) enumOption(entry.kind, ['service', 'user'], undefined, where, `${option}.kind`);
  if (entry.level !== undefined) numberOption(entry.level, undefined, where, `${option}.level`);
  if (entry.scopes !== undefined && !(Array.isArray(entry.scopes) && entry.scopes.every((s) => typeof s === 'string')))
    throw optionError(where, `${option}.scopes`, 'an array of strings', describeValue(entry.scopes));
}
