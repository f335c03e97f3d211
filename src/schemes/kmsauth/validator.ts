/**
 * `KmsTokenValidator`: python-kmsauth 0.6.3's validator (same parameters, order of checks and
 * messages), with the decisions of docs/kmsauth.md (D1–D6, D11–D13) and single-flight decryption.
 */
import {
  KmsauthContextError,
  MESSAGES,
  KmsauthValidationError,
  isKmsauthValidationError,
  isKmsUnavailableError,
  type KmsauthValidationCode,
} from './errors.js';
import type { EncryptionContext, KmsClientLike } from './kms-client.js';
import { decodeStrictBase64, parseTime, parseUsername } from './token.js';
import { TokenCache, tokenCacheKey } from './token-cache.js';
import { observeDependency } from '../../diagnostics.js';
import { hasMethods, nonNegative, optionNames, optionsObject, positiveInteger, required } from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';

const WHERE = 'new KmsTokenValidator()';
const KNOWN = optionNames<KmsTokenValidatorOptions>()({
  authKey: 1,
  userAuthKey: 1,
  toAuthContext: 1,
  kms: 1,
  region: 1,
  scopedAuthKeys: 1,
  minimumTokenVersion: 1,
  maximumTokenVersion: 1,
  maxTokenLifetimeSeconds: 1,
  extraContext: 1,
  tokenCacheSize: 1,
  negativeCacheSeconds: 1,
  negativeCacheSize: 1,
  stats: 1,
  clock: 1,
  logger: 1,
  validate: 1,
});

/** statsd-like hooks; python-kmsauth emits `token_version_<v>` and times `kms_decrypt_token`. */
export interface KmsauthStats {
  /** Counts an event, e.g. `token_version_2`. */
  incr(name: string): void;
  /** Records a duration in ms, e.g. `kms_decrypt_token`. */
  timing(name: string, ms: number): void;
}

/** Options of {@link KmsTokenValidator}; python-kmsauth's names in camelCase. */
export interface KmsTokenValidatorOptions extends ObservableOptions {
  /** Keys accepted for service tokens (alias, alias ARN, key id or key ARN); a string means `[s]`; null accepts none. */
  readonly authKey: string | readonly string[] | null;
  /** Keys accepted for user tokens; same rules. */
  readonly userAuthKey: string | readonly string[] | null;
  /** The `to` context value: this service's name (Confidant's `AUTH_CONTEXT`). */
  readonly toAuthContext: string;
  /** The KMS client (an adapted SDK client, the local KMS through the SDK, or a double). */
  readonly kms: KmsClientLike;
  /** Informational only (the region lives in the KMS client). */
  readonly region?: string;
  /** Additional service keys, mapped to their AWS account: `{ key: account }`. */
  readonly scopedAuthKeys?: Readonly<Record<string, string>>;
  /** Lowest accepted token version (1 or 2; default 1). */
  readonly minimumTokenVersion?: number;
  /** Highest accepted token version (1 or 2; default 2). */
  readonly maximumTokenVersion?: number;
  /** Longest accepted `not_after − not_before`, seconds (python-kmsauth's `auth_token_max_lifetime`, in minutes there; default 3600; finite, >= 0). */
  readonly maxTokenLifetimeSeconds?: number;
  /** Context both sides add to every token (e.g. `{ action: 'create' }`). */
  readonly extraContext?: Readonly<Record<string, string>>;
  /** Entries of the token cache (default 4096; an integer >= 1). */
  readonly tokenCacheSize?: number;
  /**
   * Seconds a token KMS refused (cannot decrypt, wrong key, not base64) is refused from memory
   * without another Decrypt (default 60; 0 disables). KMS outages are never cached.
   */
  readonly negativeCacheSeconds?: number;
  /** Entries of that refusal cache (default 4096); the least recently used are dropped first. */
  readonly negativeCacheSize?: number;
  /** Counter and timer hooks. */
  readonly stats?: KmsauthStats;
  /** Epoch ms; injectable for tests. */
  readonly clock?: () => number;
}

/** What a valid token yields (python-kmsauth's `{payload, key_alias}` plus facts the principal needs). */
export interface KmsTokenValidation {
  /** The decrypted payload: `{ not_before, not_after }`. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** The configured key string that matched (alias, key id or ARN), or null. */
  readonly keyAlias: string | null;
  /** The ARN of the key that decrypted the token. */
  readonly keyArn: string;
  /** Parsed username. */
  readonly version: number;
  readonly userType: string;
  readonly from: string;
  /** Account of a scoped key, when the matching key is in `scopedAuthKeys`. */
  readonly account: string | undefined;
  /** Validity window, epoch ms. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Per-call context of {@link KmsTokenValidator.decryptToken}. */
export interface DecryptTokenContext {
  /** Called right before a KMS call (no cache could answer); may throw to refuse, e.g. a pre-auth budget. */
  readonly beforeUpstream?: () => void;
}

// Refusals that depend on the token alone: the same token gets the same answer until it is replaced.
const CACHED_REFUSALS: ReadonlySet<KmsauthValidationCode> = new Set(['decrypt', 'wrong_key', 'token_encoding']);

interface Decrypted {
  readonly payload: Readonly<Record<string, unknown>>;
  readonly keyAlias: string | null;
  readonly keyArn: string;
}

const STANDARD_CONTEXT_KEYS = new Set(['from', 'to', 'user_type']);
// Decision D3: a key ARN in any partition is its own ARN; alias ARNs and the rest go to DescribeKey.
const KEY_ARN = /^arn:[a-z0-9-]+:kms:[^:]*:[^:]*:key\/.+$/;

function keyList(value: unknown): readonly string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...(value as string[])];
  throw new KmsauthContextError('auth_key and user_auth_key must be a string, list, or None');
}

function checkVersion(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 2) throw new KmsauthContextError(`Invalid ${name} provided.`);
  return value;
}

/** KMS outages are `kms_unavailable`; any other rejection (e.g. InvalidCiphertext) is an answer. */
function kmsReason(error: unknown): string | null {
  return isKmsUnavailableError(error) ? 'kms_unavailable' : null;
}

function isCachedRefusal(error: unknown): error is KmsauthValidationError {
  return isKmsauthValidationError(error) && CACHED_REFUSALS.has(error.code);
}

/** Validates kmsauth tokens. One instance per service; its caches are per instance. */
export class KmsTokenValidator {
  readonly #authKeys: readonly string[];
  readonly #userAuthKeys: readonly string[];
  readonly #scopedAuthKeys: Readonly<Record<string, string>>;
  /** The `to` context value this validator expects. */
  readonly toAuthContext: string;
  readonly #minimumTokenVersion: number;
  readonly #maximumTokenVersion: number;
  readonly #maxTokenLifetimeSeconds: number;
  readonly #extraContext: Readonly<Record<string, string>>;
  readonly #kms: KmsClientLike;
  readonly #stats: KmsauthStats | undefined;
  readonly #clock: () => number;
  readonly #warnings: Warnings;
  readonly #cache: TokenCache<KmsTokenValidation, Decrypted>;
  /** Configured key string → key ARN, in resolution order (python-kmsauth's KEY_METADATA). */
  readonly #keyMetadata = new Map<string, string>();

  /**
   * @throws KmsauthContextError with python-kmsauth's messages for its own checks (key lists,
   *   versions, `toAuthContext`); TypeError `new KmsTokenValidator(): "<option>" must be …` for a
   *   missing `kms` client and numeric options that are not finite and in range.
   */
  constructor(options: KmsTokenValidatorOptions) {
    optionsObject(options, WHERE, false);
    this.#warnings = new Warnings(WHERE, options);
    this.#warnings.unknownOptions(options, KNOWN);
    this.#kms = required(
      options.kms,
      hasMethods<KmsClientLike>('decrypt', 'describeKey'),
      WHERE,
      'kms',
      'a KMS client with decrypt() and describeKey() (kmsClientFromSdk() or createKmsClient() from authnz-express/kms)',
    );
    this.#authKeys = keyList(options.authKey);
    this.#userAuthKeys = keyList(options.userAuthKey);
    this.#scopedAuthKeys = { ...(options.scopedAuthKeys ?? {}) };
    if (typeof options.toAuthContext !== 'string') throw new KmsauthContextError('to_auth_context must be a string.');
    this.toAuthContext = options.toAuthContext;
    this.#minimumTokenVersion = checkVersion(options.minimumTokenVersion ?? 1, 'minimum_token_version');
    this.#maximumTokenVersion = checkVersion(options.maximumTokenVersion ?? 2, 'maximum_token_version');
    if (this.#minimumTokenVersion > this.#maximumTokenVersion) {
      // Verbatim, typo included, so logs match the Python services'.
      throw new KmsauthContextError('minimum_token_version can not be greater than self.minimum_token_version');
    }
    this.#maxTokenLifetimeSeconds = nonNegative(options.maxTokenLifetimeSeconds, 3600, WHERE, 'maxTokenLifetimeSeconds');
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.extraContext ?? {})) {
      // python-kmsauth's warning text, so logs match the Python services'.
      if (STANDARD_CONTEXT_KEYS.has(k))
        this.#warnings.warn('kmsauth_extra_context_ignored', `${k} in extra_context will be ignored.`, { key: k }, k);
      else extra[k] = v;
    }
    this.#extraContext = extra;
    this.#stats = options.stats;
    this.#clock = options.clock ?? Date.now;
    this.#cache = new TokenCache(
      positiveInteger(options.tokenCacheSize, 4096, WHERE, 'tokenCacheSize'),
      positiveInteger(options.negativeCacheSize, 4096, WHERE, 'negativeCacheSize'),
      nonNegative(options.negativeCacheSeconds, 60, WHERE, 'negativeCacheSeconds') * 1000,
      this.#clock,
    );
  }

  /** python-kmsauth's `extract_username_field`: `from`, `user_type` or `version`; other fields → undefined. */
  extractUsernameField(username: string, field: string): string | number | undefined {
    const parsed = parseUsername(username);
    if (field === 'from') return parsed.from;
    if (field === 'user_type') return parsed.userType;
    if (field === 'version') return parsed.version;
    return undefined;
  }

  /**
   * python-kmsauth's `decrypt_token(username, token)`.
   * @throws KmsauthValidationError with the original message and a stable `code`.
   */
  async decryptToken(username: string, token: string, context: DecryptTokenContext = {}): Promise<KmsTokenValidation> {
    // Decision D2: the key covers everything the answer depends on (see tokenCacheKey).
    const cacheKey =
      typeof username === 'string' && typeof token === 'string' ? tokenCacheKey(this.toAuthContext, username, token) : undefined;
    const cached = cacheKey === undefined ? undefined : this.#cache.answer(cacheKey);
    if (cached !== undefined) {
      // Every check but the time window depends only on the credential and this validator's
      // options, and it passed when the answer was cached.
      this.#stats?.incr(`token_version_${cached.version}`);
      this.#checkWindow(cached.notBefore, cached.notAfter);
      return cached;
    }
    const { version, userType, from } = parseUsername(username);
    if (version < this.#minimumTokenVersion || version > this.#maximumTokenVersion) {
      throw new KmsauthValidationError(MESSAGES.version, 'version');
    }
    this.#stats?.incr(`token_version_${version}`);
    if (typeof token !== 'string') throw new KmsauthValidationError(MESSAGES.generic, 'token_not_string');
    // Decision D13: refuse unknown user types before spending a KMS call (same message).
    if (userType !== 'service' && userType !== 'user') throw new KmsauthValidationError(MESSAGES.userType, 'user_type');
    const key = cacheKey as string; // both are strings past the checks above
    this.#cache.throwIfRefused(key);
    // Same key as the answers, so a refusal for one username never answers for another.
    const decrypted = await this.#cache.shared(
      key,
      () => {
        context.beforeUpstream?.();
        return this.#decrypt(token, version, userType, from);
      },
      isCachedRefusal,
    );
    const result = this.#checkTimes(decrypted, version, userType, from);
    this.#cache.remember(key, result);
    return result;
  }

  #checkTimes(decrypted: Decrypted, version: number, userType: string, from: string): KmsTokenValidation {
    const payload = decrypted.payload;
    const notBefore = parseTime(payload.not_before);
    const notAfter = parseTime(payload.not_after);
    if (notBefore === undefined || notAfter === undefined) throw new KmsauthValidationError(MESSAGES.validity, 'validity');
    // Decision D1: the full signed span, not Python's `.seconds` (which wraps at one day).
    const span = (notAfter - notBefore) / 1000;
    if (span < 0 || span > this.#maxTokenLifetimeSeconds) throw new KmsauthValidationError(MESSAGES.lifetime, 'lifetime_too_long');
    this.#checkWindow(notBefore, notAfter);
    const account = decrypted.keyAlias === null ? undefined : this.#scopedAuthKeys[decrypted.keyAlias];
    // Frozen: cache hits hand this same object to every request that presents the token.
    return Object.freeze({ ...decrypted, version, userType, from, account, notBefore, notAfter });
  }

  #checkWindow(notBefore: number, notAfter: number): void {
    const now = this.#clock();
    // Both bounds inclusive (Confidant #85: negate the whole expression, not half of it).
    if (now < notBefore || now > notAfter) {
      throw new KmsauthValidationError(MESSAGES.window, now > notAfter ? 'expired' : 'not_yet_valid');
    }
  }

  async #decrypt(token: string, version: number, userType: string, from: string): Promise<Decrypted> {
    try {
      const blob = decodeStrictBase64(token);
      if (blob === undefined) throw new KmsauthValidationError(MESSAGES.general, 'token_encoding');
      const context: Record<string, string> = { ...this.#extraContext, to: this.toAuthContext, from };
      if (version > 1) context.user_type = userType;
      const started = performance.now();
      let response: Awaited<ReturnType<KmsClientLike['decrypt']>>;
      try {
        response = await observeDependency(
          'kms',
          'Decrypt',
          undefined,
          () => this.#kms.decrypt({ CiphertextBlob: blob, EncryptionContext: context as EncryptionContext }),
          kmsReason,
        );
      } finally {
        this.#stats?.timing('kms_decrypt_token', performance.now() - started);
      }
      const keyArn = response.KeyId;
      if (typeof keyArn !== 'string' || response.Plaintext === undefined) throw new Error('Decrypt answer without KeyId or Plaintext');
      const candidates = userType === 'service' ? [...this.#authKeys, ...Object.keys(this.#scopedAuthKeys)] : this.#userAuthKeys;
      if (!(await this.#matchKey(candidates, keyArn))) throw new KmsauthValidationError(MESSAGES.wrongKey, 'wrong_key');
      const payload: unknown = JSON.parse(Buffer.from(response.Plaintext).toString('utf8'));
      const record = payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {};
      let keyAlias: string | null = null;
      for (const [configured, arn] of this.#keyMetadata) {
        if (arn === keyArn) {
          keyAlias = configured;
          break;
        }
      }
      return { payload: Object.freeze({ ...record }), keyAlias, keyArn };
    } catch (error) {
      if (isKmsauthValidationError(error)) throw error;
      if (isKmsUnavailableError(error)) {
        this.#warnings.dependencyFailed('kms', 'kms_unavailable', 'KMS did not answer Decrypt; kmsauth requests get 503', error);
        throw new KmsauthValidationError(MESSAGES.connection, 'kms_unavailable', { cause: error });
      }
      throw new KmsauthValidationError(MESSAGES.general, 'decrypt', { cause: error });
    }
  }

  /**
   * Lazily resolves configured keys, in order, until one has the decrypting key's ARN.
   * Decision D4: a key that cannot be resolved is skipped (and retried next time); if KMS could not
   * be reached for any of them and none matched, the outcome is "unavailable", not "wrong key".
   */
  async #matchKey(candidates: readonly string[], keyArn: string): Promise<boolean> {
    let unavailable: unknown;
    for (const configured of candidates) {
      let arn = this.#keyMetadata.get(configured);
      if (arn === undefined) {
        if (KEY_ARN.test(configured)) arn = configured;
        else {
          try {
            arn = (await observeDependency('kms', 'DescribeKey', undefined, () => this.#kms.describeKey({ KeyId: configured }), kmsReason))
              .KeyMetadata?.Arn;
          } catch (error) {
            if (isKmsUnavailableError(error)) {
              unavailable = error;
              this.#warnings.dependencyFailed('kms', 'kms_unavailable', 'KMS did not answer DescribeKey; kmsauth requests get 503', error);
            } else
              this.#warnings.warn(
                'kmsauth_key_unresolved',
                `kmsauth: key ${configured} could not be resolved; skipped.`,
                { key: configured },
                configured,
              );
            continue;
          }
          if (arn === undefined) continue;
        }
        this.#keyMetadata.set(configured, arn);
      }
      if (arn === keyArn) return true;
    }
    if (unavailable !== undefined) throw unavailable;
    return false;
  }
}
