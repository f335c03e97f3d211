/**
 * A schema of its own on the test PostgreSQL for a suite of the PostgreSQL API key store: migrated
 * before the first test, dropped after the last, with every pool the suite opened closed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ApiKeyManager } from '../../src/index.js';
import { migrateApiKeys, PostgresApiKeyStore } from '../../src/postgres.js';
import { databaseUrl } from './services.js';

/** What {@link apiKeyDatabase} gives a suite. */
export interface ApiKeyDatabase {
  /** The schema name (`<prefix>_<random>`). */
  readonly schema: string;
  /** The pools opened so far; the first is the one the schema was migrated through. */
  readonly pools: readonly pg.Pool[];
  /** A new pool (default: the test database, 10 connections), closed after the suite. */
  pool(url?: string, max?: number): pg.Pool;
  /** One app instance: its own pool, store and manager on the schema. */
  instance(): { store: PostgresApiKeyStore; manager: ApiKeyManager };
}

/** Registers the schema's set-up and tear-down in the calling suite; `pepper` is the managers'. */
export function apiKeyDatabase(prefix: string, pepper: string): ApiKeyDatabase {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  const pools: pg.Pool[] = [];
  const pool = (url = databaseUrl(), max = 10): pg.Pool => {
    const p = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
    p.on('error', () => undefined);
    pools.push(p);
    return p;
  };
  const instance = (): { store: PostgresApiKeyStore; manager: ApiKeyManager } => {
    const store = new PostgresApiKeyStore(pool(), { schema });
    return { store, manager: new ApiKeyManager({ store, pepper }) };
  };
  beforeAll(async () => {
    await migrateApiKeys(pool(), { schema });
  });
  afterAll(async () => {
    await pools[0]?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await Promise.all(pools.map((p) => p.end()));
  });
  return { schema, pools, pool, instance };
}
