/**
 * Durable API keys in PostgreSQL. One row per key with the HMAC digest only (never the key), and
 * `created`, `expires`, `revoked`, `last_used` as timestamps. Every `get` reads the row, so a
 * revocation is seen by every instance on its next request once the revoking transaction commits
 * (PostgreSQL's READ COMMITTED: each statement sees what committed before it began). No `pg` import
 * here: give it a `pg.Pool` (or anything with `query`); {@link openPostgresApiKeyStore} loads `pg`.
 * Exported from `authnz-express/postgres`.
 */
import { dependencyUnavailable } from '../errors.js';
import type { ApiKeyRecord, ApiKeyStore } from './apikey.js';
import { noteSharedStore } from './shared.js';
import { nonNegative, optionNames, optionsObject, patternOption, positive, positiveInteger } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';

const WHERE = 'new PostgresApiKeyStore()';
const KNOWN = optionNames<PostgresApiKeyStoreOptions>()({
  schema: 1,
  table: 1,
  lastUsedIntervalMs: 1,
  timeoutMs: 1,
  logger: 1,
  validate: 1,
});

/** The `pg` surface used: a `Pool` or a `Client`. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  /** A `pg.Pool`'s or `pg.Client`'s event emitter: the store listens for `'error'` (see {@link PostgresApiKeyStore}). */
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

// Pools and clients the stores already listen on: one listener each, however many stores share it.
const listened = new WeakSet<object>();
const ignoreError = (): void => undefined;

/**
 * A pool emits `'error'` when an idle connection dies (PostgreSQL killed or restarted), and Node ends
 * the process on an `'error'` event that nobody listens for. The outage itself shows on the next
 * query, which fails and answers 503; the pool replaces the connection once PostgreSQL is back.
 */
function listenForErrors(db: PgQueryable): void {
  if (typeof db.on !== 'function' || listened.has(db)) return;
  listened.add(db);
  db.on('error', ignoreError);
}

/** Where the table lives. */
export interface PostgresTableOptions {
  /** Schema (default `public`; lower-case letters, digits, `_`). */
  readonly schema?: string;
  /** Table (default `authnz_api_keys`; same characters). */
  readonly table?: string;
}

/** Options for {@link PostgresApiKeyStore}. */
export interface PostgresApiKeyStoreOptions extends PostgresTableOptions, ObservableOptions {
  /** `last_used` is written at most once per key in this many ms per instance (default 60 000; >= 0). */
  readonly lastUsedIntervalMs?: number;
  /** Longest wait for PostgreSQL before answering 503 (default 2000 ms; finite, > 0). */
  readonly timeoutMs?: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function tableName(options: PostgresTableOptions, factory: string): string {
  const expected = 'lower-case letters, digits and _ (at most 63, not starting with a digit)';
  const schema = patternOption(options.schema, 'public', IDENTIFIER, factory, 'schema', expected);
  const table = patternOption(options.table, 'authnz_api_keys', IDENTIFIER, factory, 'table', expected);
  return `"${schema}"."${table}"`;
}

/**
 * The migration that creates the table (idempotent). `migrations/postgres/001_authnz_api_keys.sql`
 * in the package is this text for the default schema and table.
 */
export function apiKeyMigrationSql(options: PostgresTableOptions = {}): string {
  const name = tableName(options, 'apiKeyMigrationSql()');
  const schema = name.split('.')[0] as string;
  return `-- authnz-express API keys, migration 001. Holds HMAC-SHA256 digests of keys, never keys.
CREATE SCHEMA IF NOT EXISTS ${schema};
CREATE TABLE IF NOT EXISTS ${name} (
  id            text PRIMARY KEY,
  prefix        text NOT NULL,
  hash          text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  owner         text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('service', 'user')),
  scopes        text[] NOT NULL DEFAULT '{}',
  level         integer NOT NULL DEFAULT 0,
  name          text,
  role          text,
  created       timestamptz NOT NULL,
  not_before    timestamptz,
  expires       timestamptz,
  revoked       timestamptz,
  last_used     timestamptz,
  rotated_to    text,
  allowed_cidrs text[]
);
`;
}

/** Runs {@link apiKeyMigrationSql} (safe to run again). */
export async function migrateApiKeys(db: PgQueryable, options: PostgresTableOptions = {}): Promise<void> {
  await db.query(apiKeyMigrationSql(options));
}

const COLUMNS = [
  'id',
  'prefix',
  'hash',
  'owner',
  'kind',
  'scopes',
  'level',
  'name',
  'role',
  'created',
  'not_before',
  'expires',
  'revoked',
  'rotated_to',
  'allowed_cidrs',
] as const;
const TIMES = new Set(['created', 'not_before', 'expires', 'revoked']);
// Epoch ms in and out: to_timestamp keeps microseconds, and extract(epoch) gives them back exactly.
const SELECT = COLUMNS.map((c) => (TIMES.has(c) ? `round(extract(epoch from ${c}) * 1000)::bigint AS ${c}` : c)).join(', ');
const VALUES = COLUMNS.map((c, i) => (TIMES.has(c) ? `to_timestamp($${i + 1}::bigint / 1000.0)` : `$${i + 1}`)).join(', ');
const UPDATES = COLUMNS.slice(1)
  .map((c) => `${c} = EXCLUDED.${c}`)
  .join(', ');

function toRow(r: ApiKeyRecord): unknown[] {
  return [
    r.id,
    r.prefix,
    r.hash,
    r.owner,
    r.kind,
    [...r.scopes],
    r.level,
    r.name ?? null,
    r.role ?? null,
    r.createdAt,
    r.notBefore ?? null,
    r.expiresAt ?? null,
    r.revokedAt ?? null,
    r.rotatedTo ?? null,
    r.allowedCidrs ? [...r.allowedCidrs] : null,
  ];
}

function fromRow(row: Record<string, unknown>): ApiKeyRecord {
  const time = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
  const text = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
  const optional = {
    name: text(row['name']),
    role: text(row['role']),
    notBefore: time(row['not_before']),
    expiresAt: time(row['expires']),
    revokedAt: time(row['revoked']),
    rotatedTo: text(row['rotated_to']),
  };
  return Object.freeze({
    id: String(row['id']),
    prefix: String(row['prefix']),
    hash: String(row['hash']),
    owner: String(row['owner']),
    kind: row['kind'] === 'user' ? 'user' : 'service',
    scopes: Object.freeze((row['scopes'] as string[] | null) ?? []),
    level: Number(row['level']),
    createdAt: Number(row['created']),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    ...(Array.isArray(row['allowed_cidrs']) ? { allowedCidrs: Object.freeze([...(row['allowed_cidrs'] as string[])]) } : {}),
  });
}

/**
 * API key records in a PostgreSQL table made by {@link migrateApiKeys}. The store listens for the
 * `'error'` events of the pool (or client) it is given, so a PostgreSQL outage is a 503 per request,
 * never a process ended by an unhandled `'error'` event.
 */
export class PostgresApiKeyStore implements ApiKeyStore {
  readonly #db: PgQueryable;
  readonly #table: string;
  readonly #lastUsedIntervalMs: number;
  readonly #marked = new Map<string, number>();
  readonly #timeoutMs: number;

  /** @throws TypeError `new PostgresApiKeyStore(): "<option>" must be …` for a schema or table name outside `[a-z0-9_]`, or a number out of range. */
  constructor(db: PgQueryable, input: PostgresApiKeyStoreOptions = {}) {
    const options = optionsObject(input, WHERE, true);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    noteSharedStore('PostgreSQL');
    this.#table = tableName(options, WHERE);
    this.#lastUsedIntervalMs = nonNegative(options.lastUsedIntervalMs, 60_000, WHERE, 'lastUsedIntervalMs');
    this.#timeoutMs = positive(options.timeoutMs, 2000, WHERE, 'timeoutMs');
    this.#db = db;
    listenForErrors(db);
  }

  /** One query under the deadline: an error or a late answer is a 503 `AuthError`, never a pass. */
  #query(text: string, values?: unknown[]): Promise<Array<Record<string, unknown>>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(dependencyUnavailable('postgres_timeout')), this.#timeoutMs);
      this.#db.query(text, values).then(
        (result) => {
          clearTimeout(timer);
          resolve(result.rows);
        },
        (cause: unknown) => {
          clearTimeout(timer);
          reject(dependencyUnavailable('postgres_error', cause));
        },
      );
    });
  }

  /** @inheritdoc */
  async save(record: ApiKeyRecord): Promise<void> {
    await this.#query(
      `INSERT INTO ${this.#table} (${COLUMNS.join(', ')}) VALUES (${VALUES}) ON CONFLICT (id) DO UPDATE SET ${UPDATES}`,
      toRow(record),
    );
  }

  /** @inheritdoc */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.#query(`SELECT ${SELECT} FROM ${this.#table} WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  /** @inheritdoc */
  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.#query(`SELECT ${SELECT} FROM ${this.#table} ORDER BY created, id`);
    return rows.map(fromRow);
  }

  /** @inheritdoc */
  async delete(id: string): Promise<void> {
    await this.#query(`DELETE FROM ${this.#table} WHERE id = $1`, [id]);
  }

  /** Sets `last_used`, at most once per `lastUsedIntervalMs` per key and instance. */
  async markUsed(id: string, at: number): Promise<void> {
    const last = this.#marked.get(id);
    if (last !== undefined && at - last < this.#lastUsedIntervalMs) return;
    if (this.#marked.size >= 10_000) this.#marked.clear(); // bounded: forgetting only costs a write
    this.#marked.set(id, at);
    await this.#query(
      `UPDATE ${this.#table} SET last_used = to_timestamp($2::bigint / 1000.0) WHERE id = $1 AND (last_used IS NULL OR last_used < to_timestamp($2::bigint / 1000.0))`,
      [id, at],
    );
  }

  /** When the key was last used (epoch ms), for operations and tests; undefined if never. */
  async lastUsed(id: string): Promise<number | undefined> {
    const rows = await this.#query(`SELECT round(extract(epoch from last_used) * 1000)::bigint AS t FROM ${this.#table} WHERE id = $1`, [
      id,
    ]);
    const t = rows[0]?.['t'];
    return t === null || t === undefined ? undefined : Number(t);
  }
}

/** A store and its pool, opened from a `postgres://` URL; `close` ends the pool. */
export interface OpenedPostgresStore {
  readonly store: PostgresApiKeyStore;
  readonly db: PgQueryable;
  close(): Promise<void>;
}

interface PgModule {
  Pool: new (config: {
    connectionString: string;
    max?: number;
    connectionTimeoutMillis?: number;
  }) => PgQueryable & { end(): Promise<void> };
}

/** Loads `pg` (an optional peer, only here) and opens a pool and a store on `url`. */
export async function openPostgresApiKeyStore(
  url: string,
  options: PostgresApiKeyStoreOptions & { readonly max?: number } = {},
): Promise<OpenedPostgresStore> {
  const mod = (await import('pg')) as unknown as PgModule & { default?: PgModule };
  const Pool = mod.Pool ?? mod.default?.Pool;
  const { max, ...storeOptions } = optionsObject(options, 'openPostgresApiKeyStore()', true);
  // `max` is pg's own pool option, passed to pg unchanged.
  const pool = new Pool({
    connectionString: url,
    max: positiveInteger(max, 10, 'openPostgresApiKeyStore()', 'max'),
    connectionTimeoutMillis: 5000,
  });
  return { store: new PostgresApiKeyStore(pool, storeOptions), db: pool, close: () => pool.end() };
}
