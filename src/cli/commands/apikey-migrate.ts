/**
 * `authnz apikey migrate --store postgres://…`: creates the API key table (the SQL of
 * `migrations/postgres/001_authnz_api_keys.sql`, idempotent), or prints that SQL with `--print`.
 */
import { CliUsageError, JSON_OPTION, type CliArgs, type CliCommand, type CliIo, type CliOption } from '../types.js';

/** `--pg-schema`, shared with the other `apikey` commands. */
export const PG_SCHEMA_OPTION: CliOption = {
  name: 'pg-schema',
  value: 'SCHEMA',
  help: 'schema of the table in a PostgreSQL store (default public)',
};

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(where: string): boolean {
  return /^postgres(ql)?:\/\//i.test(where);
}

/** `authnz apikey migrate`. */
export const apiKeyMigrateCommand: CliCommand = {
  path: ['apikey', 'migrate'],
  summary: 'create the API key table in PostgreSQL (safe to run again)',
  description:
    'Runs migration 001 (table authnz_api_keys: digests only, created/expires/revoked/last_used). With --print, writes the SQL instead of running it.',
  options: [
    { name: 'store', value: 'URL', help: 'postgres://USER@HOST:PORT/DB (not needed with --print)' },
    PG_SCHEMA_OPTION,
    { name: 'print', help: 'print the SQL on stdout instead of running it' },
    JSON_OPTION,
  ],
  examples: [
    'authnz apikey migrate --store postgres://app@db.internal/app --pg-schema auth',
    'authnz apikey migrate --print > 001_authnz_api_keys.sql',
  ],
  async run(args: CliArgs, io: CliIo): Promise<number> {
    const { apiKeyMigrationSql, migrateApiKeys, openPostgresApiKeyStore } = await import('../../stores/postgres-apikey.js');
    const schema = args.string('pg-schema');
    const where = schema === undefined ? {} : { schema };
    if (args.flag('print')) {
      io.out(apiKeyMigrationSql(where));
      return 0;
    }
    const url = args.string('store');
    if (url === undefined || !isPostgresUrl(url)) throw new CliUsageError('--store postgres://… is required (or --print)');
    const { db, close } = await openPostgresApiKeyStore(url, { max: 1, ...where });
    try {
      await migrateApiKeys(db, where);
    } finally {
      await close();
    }
    const table = `${schema ?? 'public'}.authnz_api_keys`;
    if (args.flag('json')) io.out(JSON.stringify({ migrated: table, migration: '001' }) + '\n');
    else io.err(`migrated: ${table}\n`);
    return 0;
  },
};
