/**
 * API key stores. A record holds the key's HMAC digest and its attributes, never the key itself.
 * Memory store for single instances and tests; a JSON file store for the CLI; Redis in `authnz-express/redis`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PrincipalKind } from '../principal.js';

/** One issued API key, as stored. */
export interface ApiKeyRecord {
  /** Public key id (also in the presented key). */
  readonly id: string;
  /** Readable prefix of the presented key. */
  readonly prefix: string;
  /** HMAC-SHA256 (server pepper) of the presented key, hex. */
  readonly hash: string;
  /** Who the key acts for: becomes the principal's subject. */
  readonly owner: string;
  /** Principal kind the key yields. */
  readonly kind: PrincipalKind;
  /** Scopes granted. */
  readonly scopes: readonly string[];
  /** Assurance level granted. */
  readonly level: number;
  /** Free label, e.g. "ci deploy key". */
  readonly name?: string;
  /** Role for the access policy, if any. */
  readonly role?: string;
  /** Issue time, epoch ms. */
  readonly createdAt: number;
  /** Not valid before, epoch ms. */
  readonly notBefore?: number;
  /** Expiry, epoch ms. */
  readonly expiresAt?: number;
  /** Revocation time, epoch ms. */
  readonly revokedAt?: number;
  /** Id of the key that replaced this one by rotation. */
  readonly rotatedTo?: string;
  /** Client IP ranges (CIDR) the key may be used from; empty or absent means any. */
  readonly allowedCidrs?: readonly string[];
}

/** Where API key records live. Implementations must never store anything but the record. */
export interface ApiKeyStore {
  /** Inserts or replaces a record. */
  save(record: ApiKeyRecord): Promise<void>;
  /** Reads a record by id. */
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Every record (for listing; not on the request path). */
  list(): Promise<ApiKeyRecord[]>;
  /** Removes a record. */
  delete(id: string): Promise<void>;
  /**
   * Optional: notes that the key was used at `at` (epoch ms), e.g. a `last_used` column. Called
   * without waiting after each successful verification; a failure there never refuses the request.
   */
  markUsed?(id: string, at: number): Promise<void>;
}

function copy(record: ApiKeyRecord): ApiKeyRecord {
  return Object.freeze({
    ...record,
    scopes: Object.freeze([...record.scopes]),
    ...(record.allowedCidrs ? { allowedCidrs: Object.freeze([...record.allowedCidrs]) } : {}),
  });
}

/** In-process store; copies on the way in and out so callers cannot mutate stored records. */
export class MemoryApiKeyStore implements ApiKeyStore {
  readonly #records = new Map<string, ApiKeyRecord>();

  /** @inheritdoc */
  async save(record: ApiKeyRecord): Promise<void> {
    this.#records.set(record.id, copy(record));
  }

  /** @inheritdoc */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.#records.get(id);
  }

  /** @inheritdoc */
  async list(): Promise<ApiKeyRecord[]> {
    return [...this.#records.values()];
  }

  /** @inheritdoc */
  async delete(id: string): Promise<void> {
    this.#records.delete(id);
  }
}

/**
 * A JSON file of records (mode 0600), read on each call and replaced atomically on each write.
 * Meant for the CLI and small single-instance deployments, not for concurrent writers.
 */
export class JsonFileApiKeyStore implements ApiKeyStore {
  /** @param path the JSON file; created on first write. */
  readonly #path: string;

  /** @param path the JSON file (created 0600 on the first write). */
  constructor(path: string) {
    this.#path = path;
  }

  #read(): Record<string, ApiKeyRecord> {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const parsed = JSON.parse(text) as { keys?: Record<string, ApiKeyRecord> };
    return parsed.keys ?? {};
  }

  #write(keys: Record<string, ApiKeyRecord>): void {
    // A random name created with `wx` (O_EXCL: never through a file or link someone else put there),
    // then renamed over the store.
    const tmp = join(dirname(this.#path), `.${basename(this.#path)}.${randomBytes(8).toString('hex')}.tmp`);
    writeFileSync(tmp, JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    try {
      renameSync(tmp, this.#path);
    } catch (error) {
      unlinkSync(tmp); // ours (created above): leave nothing behind
      throw error;
    }
  }

  /** @inheritdoc */
  async save(record: ApiKeyRecord): Promise<void> {
    const keys = this.#read();
    keys[record.id] = record;
    this.#write(keys);
  }

  /** @inheritdoc */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const record = this.#read()[id];
    return record === undefined ? undefined : copy(record);
  }

  /** @inheritdoc */
  async list(): Promise<ApiKeyRecord[]> {
    return Object.values(this.#read()).map(copy);
  }

  /** @inheritdoc */
  async delete(id: string): Promise<void> {
    const keys = this.#read();
    delete keys[id];
    this.#write(keys);
  }
}
