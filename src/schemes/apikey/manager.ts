/**
 * Issuing and verifying API keys. Framework-free: the strategy in src/schemes/apikey/scheme.ts only reads
 * the header and calls {@link ApiKeyManager.verify}.
 */
import { randomBytes } from 'node:crypto';
import { AuthError, invalidCredentials } from '../../errors.js';
import type { PrincipalKind } from '../../principal.js';
import type { ApiKeyRecord, ApiKeyStore } from '../../stores/apikey.js';
import { cidrMatcher, validateCidrs } from './cidr.js';
import { apiKeyHasher, digestsEqual, generateApiKey, hashApiKey, isValidPrefix, parseApiKey, type ParsedApiKey } from './format.js';
import {
  configurationError,
  describeValue,
  functionOption,
  hasMethods,
  isNonEmptyString,
  optionError,
  optionNames,
  optionsObject,
  required,
} from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';

const WHERE = 'new ApiKeyManager()';
const KNOWN = optionNames<ApiKeyManagerOptions>()({ store: 1, pepper: 1, prefix: 1, clock: 1, logger: 1, validate: 1 });

/** Options for {@link ApiKeyManager}. */
export interface ApiKeyManagerOptions extends ObservableOptions {
  /** Where records live. */
  readonly store: ApiKeyStore;
  /** Server pepper for the HMAC, at least 32 bytes. Keep it outside the store (env, KMS, file). */
  readonly pepper: Uint8Array | string;
  /** Prefix of newly issued keys (default `ak`). */
  readonly prefix?: string;
  /** Clock, epoch ms. */
  readonly clock?: () => number;
}

/** What to attach to a new key. */
export interface IssueApiKeyOptions {
  /** Subject the key acts for. */
  readonly owner: string;
  /** Principal kind (default `service`). */
  readonly kind?: PrincipalKind;
  /** Scopes granted (default none). */
  readonly scopes?: readonly string[];
  /** Assurance level (default 0). */
  readonly level?: number;
  /** Label. */
  readonly name?: string;
  /** Policy role. */
  readonly role?: string;
  /** Lifetime in seconds from now (default: no expiry). */
  readonly expiresInSeconds?: number;
  /** Not valid before, epoch ms. */
  readonly notBefore?: number;
  /** Client IP ranges the key may be used from (IPv4/IPv6 CIDR). */
  readonly allowedCidrs?: readonly string[];
}

/** A freshly issued key: `key` is shown once and never stored. */
export interface IssuedApiKey {
  /** The full key to hand to the client. Not recoverable later. */
  readonly key: string;
  /** The stored record (digest only). */
  readonly record: ApiKeyRecord;
}

/** A verified key. */
export interface VerifiedApiKey {
  readonly record: ApiKeyRecord;
}

/** Context of one verification. */
export interface VerifyContext {
  /** The client's address, for IP-bound keys. */
  readonly clientIp?: string;
}

// Per stored record (stores that keep records in memory hand out the same object each time):
// the digest decoded from hex and the CIDR matcher are built once, not per request. Each entry
// remembers the text it was built from, so a record changed in place is never answered stale.
const digests = new WeakMap<ApiKeyRecord, { readonly hash: string; readonly bytes: Buffer }>();
const matchers = new WeakMap<readonly string[], { readonly text: string; readonly match: (ip: string) => boolean }>();

function storedDigest(record: ApiKeyRecord): Buffer {
  const hash = record.hash;
  let entry = digests.get(record);
  if (entry === undefined || entry.hash !== hash) {
    entry = { hash, bytes: typeof hash === 'string' && /^(?:[0-9a-f]{2})+$/i.test(hash) ? Buffer.from(hash, 'hex') : Buffer.alloc(0) };
    digests.set(record, entry);
  }
  return entry.bytes;
}

function matcherOf(cidrs: readonly string[]): (ip: string) => boolean {
  const text = cidrs.join('\n');
  let entry = matchers.get(cidrs);
  if (entry === undefined || entry.text !== text) {
    entry = { text, match: cidrMatcher(cidrs) };
    matchers.set(cidrs, entry);
  }
  return entry.match;
}

/** The pepper as bytes; its value (a secret) never appears in the error, only its type. */
function toPepper(pepper: unknown): Uint8Array {
  const bytes = typeof pepper === 'string' ? Buffer.from(pepper, 'utf8') : pepper instanceof Uint8Array ? pepper : undefined;
  if (bytes === undefined || bytes.length < 32) {
    throw optionError(
      WHERE,
      'pepper',
      'a string or Uint8Array of at least 32 bytes',
      bytes === undefined ? describeValue(pepper) : 'fewer than 32 bytes',
    );
  }
  return bytes;
}

/** Issues, verifies, revokes and rotates API keys against a store. */
export class ApiKeyManager {
  // `#` fields: invisible to console.log, util.inspect and JSON.stringify (the pepper is a secret).
  readonly #store: ApiKeyStore;
  readonly #pepper: Uint8Array;
  readonly #digest: (parsed: ParsedApiKey) => Buffer;
  readonly #prefix: string;
  readonly #clock: () => number;
  /** Stands in for the stored digest when the id is unknown, so both paths compare once. */
  readonly #absent = randomBytes(32);

  /** @throws TypeError `new ApiKeyManager(): "<option>" must be …` for a missing store, a short pepper or a bad prefix. */
  constructor(options: ApiKeyManagerOptions) {
    optionsObject(options, WHERE, false);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.#store = required(
      options.store,
      hasMethods<ApiKeyStore>('get', 'save', 'list'),
      WHERE,
      'store',
      'an ApiKeyStore (get, save, list)',
    );
    this.#pepper = toPepper(options.pepper);
    this.#digest = apiKeyHasher(this.#pepper);
    this.#prefix = options.prefix ?? 'ak';
    this.#clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
    if (typeof this.#prefix !== 'string' || !isValidPrefix(this.#prefix)) {
      throw optionError(
        WHERE,
        'prefix',
        'a letter followed by up to 31 letters or digits',
        typeof this.#prefix === 'string' ? `"${this.#prefix.slice(0, 40)}"` : describeValue(this.#prefix),
      );
    }
  }

  /** Issues a key. The returned `key` is the only copy of the secret. */
  async issue(options: IssueApiKeyOptions): Promise<IssuedApiKey> {
    if (!isNonEmptyString(options.owner))
      throw optionError('ApiKeyManager.issue()', 'owner', 'a non-empty string', describeValue(options.owner));
    const now = this.#clock();
    const generated = generateApiKey(this.#prefix);
    const record: ApiKeyRecord = {
      id: generated.id,
      prefix: generated.prefix,
      hash: hashApiKey(this.#pepper, generated),
      owner: options.owner,
      kind: options.kind ?? 'service',
      scopes: [...(options.scopes ?? [])],
      level: options.level ?? 0,
      createdAt: now,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.role === undefined ? {} : { role: options.role }),
      ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
      ...(options.expiresInSeconds === undefined ? {} : { expiresAt: now + options.expiresInSeconds * 1000 }),
      ...(options.allowedCidrs && options.allowedCidrs.length > 0 ? { allowedCidrs: [...validateCidrs(options.allowedCidrs)] } : {}),
    };
    await this.#store.save(record);
    return { key: generated.key, record };
  }

  /**
   * Verifies a presented key. Throws 401 `token_invalid` (reasons `format`; `invalid` for an unknown
   * id and a wrong secret alike; `revoked`, `not_yet_valid`, `ip_not_allowed`) or `token_expired`;
   * store outages surface as 503.
   */
  async verify(presented: string, context: VerifyContext = {}): Promise<VerifiedApiKey> {
    const parsed = parseApiKey(presented);
    if (!parsed) throw invalidCredentials('format', 'The API key is not in the expected format.');
    const record = await this.#store.get(parsed.id);
    // Unknown id, wrong secret, other prefix: the same work (one HMAC, one constant-time compare) and
    // one answer, so the public id is no oracle for which keys exist.
    const digest = this.#digest(parsed);
    const stored = record === undefined ? this.#absent : storedDigest(record);
    const matches = digestsEqual(digest, stored); // a malformed stored hash decodes to no bytes: never equal
    if (!record || !matches || record.prefix !== parsed.prefix) throw invalidCredentials('invalid', 'The API key is not valid.');
    const now = this.#clock();
    if (record.revokedAt !== undefined && record.revokedAt <= now) throw invalidCredentials('revoked', 'The API key has been revoked.');
    if (record.expiresAt !== undefined && record.expiresAt <= now) {
      throw new AuthError('token_expired', { reason: 'expired', detail: 'The API key has expired.' });
    }
    if (record.notBefore !== undefined && record.notBefore > now)
      throw invalidCredentials('not_yet_valid', 'The API key is not valid yet.');
    if (record.allowedCidrs && record.allowedCidrs.length > 0) {
      const ip = context.clientIp;
      if (ip === undefined || !matcherOf(record.allowedCidrs)(ip)) {
        throw invalidCredentials('ip_not_allowed', 'The API key may not be used from this address.');
      }
    }
    // Bookkeeping, not a check: not awaited, and its failure does not refuse a valid key.
    if (this.#store.markUsed) void this.#store.markUsed(record.id, now).catch(() => undefined);
    return { record };
  }

  /** Revokes a key by id, effective now (or at `at`). Returns false when the id is unknown. */
  async revoke(id: string, at?: number): Promise<boolean> {
    const record = await this.#store.get(id);
    if (!record) return false;
    await this.#store.save({ ...record, revokedAt: at ?? this.#clock() });
    return true;
  }

  /**
   * Rotates a key: issues a new key with the same attributes and revokes the old one after
   * `graceSeconds` (default 0, i.e. immediately), so clients can switch without downtime.
   */
  async rotate(id: string, graceSeconds = 0): Promise<IssuedApiKey> {
    const old = await this.#store.get(id);
    if (!old) throw configurationError('ApiKeyManager.rotate()', `unknown API key id ${id}`);
    if (old.revokedAt !== undefined && old.revokedAt <= this.#clock())
      throw configurationError('ApiKeyManager.rotate()', `API key ${id} is revoked`);
    const now = this.#clock();
    const issued = await this.issue({
      owner: old.owner,
      kind: old.kind,
      scopes: old.scopes,
      level: old.level,
      ...(old.name === undefined ? {} : { name: old.name }),
      ...(old.role === undefined ? {} : { role: old.role }),
      ...(old.expiresAt === undefined ? {} : { expiresInSeconds: Math.max(1, Math.ceil((old.expiresAt - now) / 1000)) }),
      ...(old.allowedCidrs === undefined ? {} : { allowedCidrs: old.allowedCidrs }),
    });
    await this.#store.save({ ...old, revokedAt: now + graceSeconds * 1000, rotatedTo: issued.record.id });
    return issued;
  }

  /** Lists records (digests only), optionally of one owner. */
  async list(owner?: string): Promise<ApiKeyRecord[]> {
    const all = await this.#store.list();
    return owner === undefined ? all : all.filter((r) => r.owner === owner);
  }
}
