/**
 * `authnz apikey migrate --store postgres://…`: creates the API key table (the SQL of
 * `migrations/postgres/001_authnz_api_keys.sql`, idempotent), or prints that SQL with `--print`.
 */
import { CliUsageError, type CliArgs, type CliCommand, type CliIo, type CliOption } from '../types.js';

/** `--pg-schema`, shared with the other `apikey` commands. */
export const PG_SCHEMA_OPTION: CliOption = { name: 'pg-schema', value: 'SCHEMA', help: 'schema of the table in a PostgreSQL store (default public)' };

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(where: string): boolean {
  return /^postgres(ql)?:\/\//i.test(where);
}

/** `authnz apikey migrate`. */
export const apiKeyMigrateCommand: CliCommand = {
  path: ['apikey', 'migrate'],
  summary: 'create the API key table in PostgreSQL (safe to run again)',
  description: 'Runs migration 001 (table authnz_api_keys: digests only, created/expires/revoked/last_used). With --print, writes the SQL instead of running it.',
  options: [
    { name: 'store', value: 'URL', help: 'postgres://USER@HOST:PORT/DB (not needed with --print)' },
    PG_SCHEMA_OPTION,
    { name: 'print', help: 'print the SQL on stdout instead of running it' },
  ],
  examples: ['authnz apikey migrate --store postgres://app@db.internal/app --pg-schema auth', 'authnz apikey migrate --print > 001_authnz_api_keys.sql'],
  async run(args: CliArgs, io: CliIo): Promise<number> {
    const { apiKeyMigrationSql, migrateApiKeys, openPostgresApiKeyStore } = await import('../../stores/postgres-apikey.js');
    const schema = args.string('pg-schema');
    const table = schema === undefined ? {} : { schema };
    if (args.flag('print')) {
      io.out(apiKeyMigrationSql(table));
      return 0;
    }
    const where = args.string('store');
    if (where === undefined || !isPostgresUrl(where)) throw new CliUsageError('--store postgres://… is required (or --print)');
    const { db, close } = await openPostgresApiKeyStore(where, { max: 1, ...table });
    try {
      await migrateApiKeys(db, table);
    } finally {
      await close();
    }
    io.err(`migrated: ${schema ?? 'public'}.authnz_api_keys\n`);
    return 0;
  },
};
