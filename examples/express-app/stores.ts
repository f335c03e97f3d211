/**
 * The example's stores: embedded memory stores by default; Redis (`REDIS_URL`: one URL, or several
 * comma-separated for a Redis Cluster) and PostgreSQL (`DATABASE_URL`) when given, as in
 * docs/deployment.md. Only server.ts reads the environment; tests pass the options directly.
 */
import { Cluster, Redis } from 'ioredis';
import {
  MemoryApiKeyStore,
  MemoryReplayStore,
  memoryLimiterFactory,
  type ApiKeyStore,
  type LimiterFactory,
  type ReplayStore,
} from '../../src/index.js';
import { RedisIntrospectionCache, RedisReplayStore, RedisRevocationList, redisLimiterFactory, redisReady } from '../../src/redis.js';
import { migrateApiKeys, openPostgresApiKeyStore } from '../../src/postgres.js';
import type { IntrospectionCache } from '../../src/protocols/oauth/introspection.js';

/** Where the example keeps shared state. */
export interface ExampleStoreOptions {
  /** `redis://…`, or several comma-separated for a cluster. */
  readonly redisUrl?: string;
  /** `postgres://…` for API keys. */
  readonly databaseUrl?: string;
  /** Prefix of every Redis key (default `example:`). */
  readonly keyPrefix?: string;
  /** PostgreSQL schema of the API key table (default `public`). */
  readonly pgSchema?: string;
  /** Longest wait for Redis at start-up, ms (default 10 000); then start-up fails. */
  readonly readyTimeoutMs?: number;
}

/** The stores the route modules use. */
export interface ExampleStores {
  /** `memory`, or which of `redis` / `postgres` are in use. */
  readonly description: string;
  readonly replayStore: ReplayStore;
  readonly apiKeyStore: ApiKeyStore;
  readonly limiterFactory: LimiterFactory;
  /** Undefined: the introspection scheme's default in-process cache. */
  readonly introspectionCache: IntrospectionCache | undefined;
  /** Undefined: no revocation list (memory mode). */
  readonly revocations: RedisRevocationList | undefined;
  close(): Promise<void>;
}

const memoryByContext = new WeakMap<object, ExampleStores>();

/** The context's stores, or memory stores of its own when it was given none (route tests). */
export function storesOf(ctx: { readonly stores?: ExampleStores }): ExampleStores {
  if (ctx.stores) return ctx.stores;
  let stores = memoryByContext.get(ctx);
  if (!stores) {
    stores = memoryStores(new MemoryApiKeyStore(), 'memory', []);
    memoryByContext.set(ctx, stores);
  }
  return stores;
}

function memoryStores(apiKeyStore: ApiKeyStore, description: string, closers: Array<() => Promise<void>>): ExampleStores {
  return {
    description,
    replayStore: new MemoryReplayStore({ maxEntries: 10_000 }),
    apiKeyStore,
    limiterFactory: memoryLimiterFactory,
    introspectionCache: undefined,
    revocations: undefined,
    close: async () => {
      for (const close of closers) await close();
    },
  };
}

/** Opens the stores named by `options` (memory for what is not named). */
export async function openExampleStores(options: ExampleStoreOptions = {}): Promise<ExampleStores> {
  const closers: Array<() => Promise<void>> = [];
  const prefix = options.keyPrefix ?? 'example:';
  let apiKeyStore: ApiKeyStore = new MemoryApiKeyStore();
  const used: string[] = [];
  if (options.databaseUrl) {
    const pg = await openPostgresApiKeyStore(options.databaseUrl, options.pgSchema === undefined ? {} : { schema: options.pgSchema });
    closers.push(pg.close);
    await migrateApiKeys(pg.db, options.pgSchema === undefined ? {} : { schema: options.pgSchema });
    apiKeyStore = pg.store;
    used.push('postgres');
  }
  if (!options.redisUrl) return memoryStores(apiKeyStore, used.length ? used.join('+') : 'memory', closers);
  const urls = options.redisUrl
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  const client =
    urls.length > 1
      ? new Cluster(urls.map((u) => ({ host: new URL(u).hostname, port: Number(new URL(u).port || 6379) })))
      : new Redis(urls[0] as string, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // requests answer 503 while Redis is away
  closers.push(async () => {
    client.disconnect();
  });
  // The start-up order docs/rate-limits.md asks for: connected first, then serve (server.ts listens
  // only after this). A Redis that never answers fails the start instead of answering with 503s.
  try {
    await redisReady(client, { timeoutMs: options.readyTimeoutMs ?? 10_000 });
  } catch (error) {
    for (const close of closers) await close();
    throw error;
  }
  used.unshift(urls.length > 1 ? 'redis-cluster' : 'redis');
  return {
    description: used.join('+'),
    replayStore: new RedisReplayStore(client, { keyPrefix: `${prefix}nonce:` }),
    apiKeyStore,
    limiterFactory: (config) => redisLimiterFactory(client)({ ...config, keyPrefix: `${prefix}${config.keyPrefix}` }),
    introspectionCache: new RedisIntrospectionCache(client, { keyPrefix: `${prefix}introspection:` }),
    revocations: new RedisRevocationList(client, { keyPrefix: `${prefix}revoked:` }),
    close: async () => {
      for (const close of closers) await close();
    },
  };
}
