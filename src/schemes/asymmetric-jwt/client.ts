/**
 * The caller's side of asymmetric_jwt_auth: sign `{username, time, nonce}` with the caller's own
 * private key. Output is byte-identical to the Python 1.x client (or 0.x with `compat: '0.x'`).
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importPrivateKey, keyFamily, type PrivateKeyInput } from '../../keys/import.js';
import { signCompact, type JwsAlgorithm } from '../../jwt/compact.js';
import { keyFingerprint, pyObject } from './format.js';
import { configurationError, describeValue, isNonEmptyString, optionError, required } from '../../lib/options.js';

const WHERE = 'createAuthHeader()';

/** Options for {@link createToken} and {@link createAuthHeader}. */
export interface CreateAuthHeaderOptions {
  /** The caller's username on the API. */
  readonly username: string;
  /** The private key (PEM: PKCS#8, encrypted PKCS#8, PKCS#1, SEC1; JWK; KeyObject). */
  readonly privateKey?: PrivateKeyInput;
  /** Or a file holding the private key PEM. */
  readonly keyFile?: string;
  /** Passphrase of an encrypted key. */
  readonly passphrase?: string;
  /** `1.x` (default): kid, integer time, 11-character nonce. `0.x`: RSA only, no kid, float time and nonce. */
  readonly compat?: '1.x' | '0.x';
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
  /** Exact `time` claim, seconds (tests and vectors); default from the clock. */
  readonly time?: number;
  /** Exact `nonce` claim (tests and vectors); default random. */
  readonly nonce?: string | number;
  /** The API's audience: adds an `aud` claim, for servers configured with `audience`. */
  readonly audience?: string;
}

/** Loads the signing key from `privateKey` or `keyFile`. */
export function loadSigningKey(options: Pick<CreateAuthHeaderOptions, 'privateKey' | 'keyFile' | 'passphrase'>): KeyObject {
  if (options.privateKey !== undefined) return importPrivateKey(options.privateKey, options.passphrase);
  if (options.keyFile !== undefined) return importPrivateKey(readFileSync(options.keyFile), options.passphrase);
  throw configurationError(WHERE, 'one of "privateKey", "keyFile" is required');
}

function algorithmFor(key: KeyObject, compat: '1.x' | '0.x'): JwsAlgorithm {
  const family = keyFamily(key);
  if (family === 'rsa') return 'RS512';
  if (compat === '0.x')
    throw optionError(WHERE, 'privateKey', 'an RSA key with compat "0.x" (0.x servers accept RSA keys only)', 'another key type');
  return family === 'ed25519' ? 'EdDSA' : family === 'ec-p384' ? 'ES384' : 'ES256';
}

/**
 * Python's `random.random()`: 53 random bits as a float in (0, 1). Zero is drawn again, since servers
 * refuse a zero nonce. (Reading 7 bytes with `readUIntBE` threw: it reads at most 6.)
 */
function pyRandom(): number {
  for (;;) {
    const value = Number(randomBytes(8).readBigUInt64BE() >> 11n) / 2 ** 53;
    if (value !== 0) return value;
  }
}

function audienceClaim(audience: string | undefined): Array<[string, string]> {
  if (audience === undefined) return [];
  if (!isNonEmptyString(audience)) throw optionError(WHERE, 'audience', 'a non-empty string', describeValue(audience));
  return [['aud', audience]];
}

/** Signs a bare token (no `JWT ` prefix) with an already loaded key. */
export function signToken(key: KeyObject, options: Omit<CreateAuthHeaderOptions, 'privateKey' | 'keyFile' | 'passphrase'>): string {
  required(options.username, isNonEmptyString, WHERE, 'username', 'a non-empty string');
  const compat = options.compat ?? '1.x';
  const alg = algorithmFor(key, compat);
  const nowSeconds = (options.clock ?? Date.now)() / 1000;
  if (compat === '0.x') {
    // Python 0.x: time.time() and random.random(), both floats; header keys in PyJWT 1.7's order.
    const time = options.time ?? nowSeconds;
    const nonce = options.nonce ?? pyRandom();
    const header = pyObject([
      ['typ', 'JWT'],
      ['alg', alg],
    ]);
    const payload = pyObject([
      ['username', options.username],
      ['time', Number.isInteger(time) ? time : { float: time }],
      ['nonce', typeof nonce === 'string' ? nonce : { float: nonce }],
      ...audienceClaim(options.audience),
    ]);
    return signCompact(alg, key, header, payload);
  }
  const time = options.time ?? Math.floor(nowSeconds);
  // 8 random bytes, base64url: 11 characters, as Python 1.x.
  const nonce = options.nonce ?? randomBytes(8).toString('base64url');
  const header = pyObject([
    ['alg', alg],
    ['kid', keyFingerprint(key)],
    ['typ', 'JWT'],
  ]);
  const payload = pyObject([['username', options.username], ['time', time], ['nonce', nonce], ...audienceClaim(options.audience)]);
  return signCompact(alg, key, header, payload);
}

/** Creates a signed token (no `JWT ` prefix). */
export function createToken(options: CreateAuthHeaderOptions): string {
  return signToken(loadSigningKey(options), options);
}

/**
 * Creates an `Authorization` header value, `JWT <token>`, as Python's
 * `Token(username).create_auth_header(private_key)` does. Each call makes a fresh nonce: use one
 * header per request.
 * @example fetch(url, { headers: { Authorization: createAuthHeader({ username: 'svc', keyFile: 'id.pem' }) } })
 */
export function createAuthHeader(options: CreateAuthHeaderOptions): string {
  return `JWT ${createToken(options)}`;
}

/** Options for {@link createJwtFetch}. */
export type CreateJwtFetchOptions = Omit<CreateAuthHeaderOptions, 'time' | 'nonce'> & {
  /** The fetch to wrap (default the global `fetch`). */
  readonly fetch?: typeof fetch;
};

/**
 * A `fetch` that adds a fresh `Authorization: JWT …` header to every request. The key is loaded once.
 * @example const api = createJwtFetch({ username: 'svc', keyFile: 'id.pem' }); await api('https://api/x')
 */
export function createJwtFetch(options: CreateJwtFetchOptions): typeof fetch {
  const key = loadSigningKey(options);
  const inner = options.fetch ?? fetch;
  const signOptions = { username: options.username, compat: options.compat, clock: options.clock, audience: options.audience };
  return (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set('authorization', `JWT ${signToken(key, signOptions)}`);
    return inner(input, { ...init, headers });
  };
}
