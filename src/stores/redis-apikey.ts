/**
 * Redis API key store: one string per record (`<prefix>apikey:<id>` → JSON) with the key's expiry as
 * its TTL, plus a set of ids for listing. All access goes through `redisCommand` (503 on outage).
 */
import type { ApiKeyRecord, ApiKeyStore } from './apikey.js';
import {
  redisCommand,
  redisReady,
  type RedisClientLike,
  type RedisCommand,
  type RedisReadyOptions,
  type RedisStoreOptions,
} from './redis-command.js';
import { functionOption, optionNames, optionsObject, positive, stringOption } from '../lib/options.js';
import { Warnings } from '../lib/warnings.js';

const WHERE = 'new RedisApiKeyStore()';
const KNOWN = optionNames<RedisApiKeyStoreOptions>()({ keyPrefix: 1, timeoutMs: 1, clock: 1, logger: 1, validate: 1 });

/** Options for {@link RedisApiKeyStore} (key prefix default `authnz:`). */
export interface RedisApiKeyStoreOptions extends RedisStoreOptions {
  /** Clock, epoch ms (for TTLs). */
  readonly clock?: () => number;
}

/** Stores API key records in Redis. */
export class RedisApiKeyStore implements ApiKeyStore {
  readonly #command: RedisCommand;
  readonly #prefix: string;
  readonly #clock: () => number;
  readonly #client: RedisClientLike;

  /**
   * @param client an ioredis or node-redis client.
   * @throws TypeError `new RedisApiKeyStore(): "<option>" must be …` for options out of range.
   */
  constructor(client: RedisClientLike, input: RedisApiKeyStoreOptions = {}) {
    const options = optionsObject(input, WHERE, true);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.#client = client;
    this.#command = redisCommand(client, { timeoutMs: positive(options.timeoutMs, 250, WHERE, 'timeoutMs') });
    this.#prefix = stringOption(options.keyPrefix, 'authnz:', WHERE, 'keyPrefix');
    this.#clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
  }

  /** Resolves once the client is connected and Redis answers; see {@link redisReady}. */
  ready(options?: RedisReadyOptions): Promise<void> {
    return redisReady(this.#client, options);
  }

  #recordKey(id: string): string {
    return `${this.#prefix}apikey:${id}`;
  }

  get #indexKey(): string {
    return `${this.#prefix}apikeys`;
  }

  /** @inheritdoc */
  async save(record: ApiKeyRecord): Promise<void> {
    const args = ['SET', this.#recordKey(record.id), JSON.stringify(record)];
    if (record.expiresAt !== undefined) {
      // Keep expired records a day so `list` and audits can still show them; verification checks expiry itself.
      const ttlMs = Math.max(1000, record.expiresAt - this.#clock() + 86_400_000);
      args.push('PX', String(ttlMs));
    }
    await this.#command(args);
    await this.#command(['SADD', this.#indexKey, record.id]);
  }

  /** @inheritdoc */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const reply = await this.#command(['GET', this.#recordKey(id)]);
    if (reply === null || reply === undefined) return undefined;
    return JSON.parse(String(reply)) as ApiKeyRecord;
  }

  /** @inheritdoc */
  async list(): Promise<ApiKeyRecord[]> {
    const ids = (await this.#command(['SMEMBERS', this.#indexKey])) as unknown[];
    const out: ApiKeyRecord[] = [];
    for (const id of ids) {
      const record = await this.get(String(id));
      if (record) out.push(record);
      else await this.#command(['SREM', this.#indexKey, String(id)]);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** @inheritdoc */
  async delete(id: string): Promise<void> {
    await this.#command(['DEL', this.#recordKey(id)]);
    await this.#command(['SREM', this.#indexKey, id]);
  }
}
