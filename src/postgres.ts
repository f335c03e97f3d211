/**
 * `authnz-express/postgres`: durable API keys in PostgreSQL. The only entry point that loads `pg`
 * (an optional peer), and only in {@link openPostgresApiKeyStore}.
 */
export { PostgresApiKeyStore, apiKeyMigrationSql, migrateApiKeys, openPostgresApiKeyStore } from './stores/postgres-apikey.js';
export type { PgQueryable, PostgresApiKeyStoreOptions, PostgresTableOptions, OpenedPostgresStore } from './stores/postgres-apikey.js';
