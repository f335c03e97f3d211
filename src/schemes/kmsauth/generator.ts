/**
 * `KmsTokenGenerator`: python-kmsauth 0.6.3's generator (skew, lifetime, v1/v2, token reuse until
 * 3 minutes before expiry), with the decisions of docs/kmsauth.md (D7–D10, D15, D16).
 */
import { isDeepStrictEqual } from 'node:util';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KmsauthContextError, isKmsUnavailableError, KmsauthConnectionError, KmsauthGenerationError } from './errors.js';
import { hasMethods, optionNames, optionsObject, positive, required } from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import type { KmsClientLike } from './kms-client.js';
import { TOKEN_SKEW_MINUTES, formatPlaintext, formatTime, formatUsername, parseTime } from './token.js';

/** Options of {@link KmsTokenGenerator}; python-kmsauth's names in camelCase. */
export interface KmsTokenGeneratorOptions extends ObservableOptions {
  /** The key to encrypt with: alias (`alias/x`), key id or ARN. */
  readonly authKey: string;
  /** `{ from, to, user_type? , ...extra }`, sent whole as the encryption context. */
  readonly authContext: Readonly<Record<string, string>>;
  /** The KMS client. */
  readonly kms: KmsClientLike;
  /** 1 or 2 (default 2). */
  readonly tokenVersion?: number;
  /** Seconds from `not_before` to `not_after` (python-kmsauth's `token_lifetime`, in minutes there; default 600; finite, > 0). */
  readonly tokenLifetimeSeconds?: number;
  /** Optional cache file shared by processes (and with Python clients: same JSON layout). */
  readonly tokenCacheFile?: string;
  /** Recorded in the cache file so a file made for another region or endpoint is not reused. */
  readonly region?: string;
  readonly endpoint?: string;
  /** Epoch ms; injectable for tests. */
  readonly clock?: () => number;
}

const WHERE = 'new KmsTokenGenerator()';
const KNOWN = optionNames<KmsTokenGeneratorOptions>()({
  authKey: 1,
  authContext: 1,
  kms: 1,
  tokenVersion: 1,
  tokenLifetimeSeconds: 1,
  tokenCacheFile: 1,
  region: 1,
  endpoint: 1,
  clock: 1,
  logger: 1,
  validate: 1,
});

interface CacheFile {
  token: string;
  not_after: string;
  auth_context: Record<string, string>;
  // Decision D8: extra fields (ignored by Python readers) so a changed key/version/lifetime/region invalidates.
  key?: string;
  version?: number;
  lifetime?: number;
  region?: string | null;
  endpoint?: string | null;
}

/** Creates kmsauth tokens for a caller. */
export class KmsTokenGenerator {
  readonly #options: KmsTokenGeneratorOptions;
  readonly #version: number;
  readonly #lifetimeSeconds: number;
  readonly #clock: () => number;
  readonly #warnings: Warnings;
  #memo: CacheFile | undefined;

  /**
   * @throws KmsauthContextError with python-kmsauth's messages for its own checks (`authContext`,
   *   `tokenVersion`); TypeError `new KmsTokenGenerator(): "<option>" must be …` for the rest.
   */
  constructor(options: KmsTokenGeneratorOptions) {
    optionsObject(options, WHERE, false);
    this.#warnings = new Warnings(WHERE, options);
    this.#warnings.unknownOptions(options, KNOWN);
    required(options.kms, hasMethods('encrypt'), WHERE, 'kms', 'a KMS client with encrypt()');
    const ctx = options.authContext ?? {};
    if (!('from' in ctx)) throw new KmsauthContextError('from missing from auth_context.');
    if (!('to' in ctx)) throw new KmsauthContextError('to missing from auth_context.');
    const version = options.tokenVersion ?? 2;
    // Decision D9: python-kmsauth accepts 0 and negatives and then produces a `None` username.
    if (!Number.isInteger(version) || version < 1 || version > 2) throw new KmsauthContextError('Invalid token_version provided.');
    if (version > 1 && !('user_type' in ctx)) throw new KmsauthContextError('user_type missing from auth_context.');
    // Decision D10: validators never put user_type in a v1 decrypt context, so such tokens never decrypt.
    if (version === 1 && 'user_type' in ctx) {
      throw new KmsauthContextError(
        'user_type must not be in auth_context for token_version 1: validators decrypt v1 tokens with {to, from} only.',
      );
    }
    this.#lifetimeSeconds = positive(options.tokenLifetimeSeconds, 600, WHERE, 'tokenLifetimeSeconds');
    this.#options = { ...options, authContext: { ...ctx } };
    this.#version = version;
    this.#clock = options.clock ?? Date.now;
  }

  /** `from` for v1, `2/<user_type>/<from>` for v2. */
  getUsername(): string {
    const ctx = this.#options.authContext;
    return formatUsername(this.#version, ctx.from as string, ctx.user_type);
  }

  /** A token valid now, reused from memory or the cache file until 3 minutes before it expires. Always a string (D15). */
  async getToken(): Promise<string> {
    const now = Math.floor(this.#clock() / 1000) * 1000;
    const fresh = (entry: CacheFile | undefined): entry is CacheFile => {
      if (!entry || typeof entry.token !== 'string') return false;
      const notAfter = parseTime(entry.not_after);
      if (notAfter === undefined || this.#clock() > notAfter - TOKEN_SKEW_MINUTES * 60_000) return false;
      const want = this.#cacheEntry('', '');
      return (
        isDeepStrictEqual(entry.auth_context, want.auth_context) &&
        entry.key === want.key &&
        entry.version === want.version &&
        entry.lifetime === want.lifetime &&
        entry.region === want.region &&
        entry.endpoint === want.endpoint
      );
    };
    if (fresh(this.#memo)) return this.#memo.token;
    const file = this.#options.tokenCacheFile;
    if (file) {
      const cached = await this.#readCacheFile(file);
      if (fresh(cached)) {
        this.#memo = cached;
        return cached.token;
      }
    }
    const notBefore = now - TOKEN_SKEW_MINUTES * 60_000;
    const notAfter = now + this.#lifetimeSeconds * 1000 - TOKEN_SKEW_MINUTES * 60_000;
    let blob: Uint8Array | undefined;
    try {
      blob = (
        await this.#options.kms.encrypt({
          KeyId: this.#options.authKey,
          Plaintext: new Uint8Array(Buffer.from(formatPlaintext(notBefore, notAfter), 'utf8')),
          EncryptionContext: this.#options.authContext,
        })
      ).CiphertextBlob;
    } catch (error) {
      if (isKmsUnavailableError(error)) throw new KmsauthConnectionError(undefined, { cause: error });
      throw new KmsauthGenerationError(undefined, { cause: error });
    }
    if (!blob) throw new KmsauthGenerationError('KMS returned no ciphertext.');
    const entry = this.#cacheEntry(Buffer.from(blob).toString('base64'), formatTime(notAfter));
    this.#memo = entry;
    if (file) await this.#writeCacheFile(file, entry);
    return entry.token;
  }

  /** Headers as Confidant's docs show them: `X-Auth-From` and `X-Auth-Token`. */
  async getHeaders(): Promise<{ 'X-Auth-From': string; 'X-Auth-Token': string }> {
    return { 'X-Auth-From': this.getUsername(), 'X-Auth-Token': await this.getToken() };
  }

  /** The `Authorization: Basic base64(username:token)` value the Python and Ruby clients send. */
  async getBasicAuthorization(): Promise<string> {
    return `Basic ${Buffer.from(`${this.getUsername()}:${await this.getToken()}`, 'utf8').toString('base64')}`;
  }

  #cacheEntry(token: string, notAfter: string): CacheFile {
    return {
      token,
      not_after: notAfter,
      auth_context: { ...this.#options.authContext },
      key: this.#options.authKey,
      version: this.#version,
      // Minutes, as python-kmsauth's token_lifetime (a field its readers ignore).
      lifetime: this.#lifetimeSeconds / 60,
      region: this.#options.region ?? null,
      endpoint: this.#options.endpoint ?? null,
    };
  }

  async #readCacheFile(file: string): Promise<CacheFile | undefined> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    } catch {
      return undefined; // As in python-kmsauth: an unreadable cache only disables the cache for this call.
    }
  }

  /** Decision D7: directory 0700, file 0600, written to a temporary file and renamed (atomic). */
  async #writeCacheFile(file: string, entry: CacheFile): Promise<void> {
    const dir = dirname(file);
    const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, JSON.stringify(entry), { mode: 0o600, flag: 'wx' });
      await rename(tmp, file);
    } catch (error) {
      this.#warnings.dependencyFailed(
        'token_cache_file',
        'token_cache_file_unwritable',
        `kmsauth: could not write the token cache file: ${(error as Error).message}`,
      );
    }
  }
}
