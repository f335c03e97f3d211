/**
 * `authnz apikey create|revoke|list` against a JSON file store (`--store keys.json`), Redis
 * (`--store redis://…`) or PostgreSQL (`--store postgres://…`, table made by `authnz apikey migrate`). The key is printed once by `create`; stores hold only its HMAC digest.
 * The pepper comes from `--pepper-file` or `$AUTHNZ_APIKEY_PEPPER` (never a command-line value,
 * which would end up in shell history).
 */
import { existsSync, readFileSync } from 'node:fs';
import { CliUsageError, JSON_OPTION, type CliArgs, type CliCommand, type CliIo, type CliOption } from '../types.js';
import { ApiKeyManager } from '../../schemes/apikey/manager.js';
import { JsonFileApiKeyStore, type ApiKeyRecord, type ApiKeyStore } from '../../stores/apikey.js';
import { isPostgresUrl, PG_SCHEMA_OPTION } from './apikey-migrate.js';

const STORE_OPTIONS: readonly CliOption[] = [
  {
    name: 'store',
    value: 'FILE|URL',
    required: true,
    help: 'a JSON file (created 0600 by create), redis://HOST:PORT or postgres://USER@HOST/DB',
  },
  { name: 'key-prefix', value: 'P', help: 'key prefix in a Redis store (default authnz:)' },
  PG_SCHEMA_OPTION,
];

/** Opens the store named by `--store`; `close` releases a connection. `mustExist`: a file store that is not there is an error. */
async function openStore(args: CliArgs, mustExist: boolean): Promise<{ store: ApiKeyStore; close: () => Promise<void> }> {
  const where = args.required('store');
  if (/^rediss?:\/\//.test(where)) {
    const { Redis } = await import('ioredis');
    const { RedisApiKeyStore } = await import('../../stores/redis-apikey.js');
    const client = new Redis(where, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
    client.on('error', () => undefined); // reported by the command that fails
    return {
      store: new RedisApiKeyStore(client, { keyPrefix: args.string('key-prefix') ?? 'authnz:', timeoutMs: 2000 }),
      close: async () => {
        client.disconnect();
      },
    };
  }
  if (isPostgresUrl(where)) {
    if (args.string('key-prefix') !== undefined) throw new CliUsageError('--key-prefix needs a redis:// store');
    const { openPostgresApiKeyStore } = await import('../../stores/postgres-apikey.js');
    const schema = args.string('pg-schema');
    return openPostgresApiKeyStore(where, { max: 2, ...(schema === undefined ? {} : { schema }) });
  }
  if (args.string('pg-schema') !== undefined) throw new CliUsageError('--pg-schema needs a postgres:// store');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(where))
    throw new CliUsageError(
      `--store: unsupported store URL ${JSON.stringify(where.replace(/\/\/[^@/]*@/, '//…@'))} (a file path, redis:// or postgres://)`,
    );
  if (args.string('key-prefix') !== undefined) throw new CliUsageError('--key-prefix needs a redis:// store');
  // A missing file would read as an empty store: "no keys" for a typo in the path is a wrong answer.
  if (mustExist && !existsSync(where)) throw new Error(`no key store at ${where}`);
  return { store: new JsonFileApiKeyStore(where), close: async () => undefined };
}

function readPepper(args: CliArgs): Buffer {
  const path = args.string('pepper-file');
  const raw = path !== undefined ? readFileSync(path, 'utf8').trim() : process.env['AUTHNZ_APIKEY_PEPPER'];
  if (raw === undefined || raw === '') throw new CliUsageError('set $AUTHNZ_APIKEY_PEPPER or --pepper-file (at least 32 bytes)');
  return Buffer.from(raw, 'utf8');
}

async function withStore(args: CliArgs, mustExist: boolean, run: (store: ApiKeyStore) => Promise<number>): Promise<number> {
  const { store, close } = await openStore(args, mustExist);
  try {
    return await run(store);
  } finally {
    await close();
  }
}

function describe(record: ApiKeyRecord, now: number): string {
  const state =
    record.revokedAt !== undefined && record.revokedAt <= now
      ? 'revoked'
      : record.expiresAt !== undefined && record.expiresAt <= now
        ? 'expired'
        : 'active';
  const parts = [
    record.id,
    state,
    `subject=${record.owner}`,
    `kind=${record.kind}`,
    `scopes=${record.scopes.join(',') || '-'}`,
    `level=${record.level}`,
  ];
  if (record.name) parts.push(`name=${JSON.stringify(record.name)}`);
  if (record.expiresAt !== undefined) parts.push(`expires=${new Date(record.expiresAt).toISOString()}`);
  if (record.allowedCidrs) parts.push(`cidrs=${record.allowedCidrs.join(',')}`);
  return parts.join('  ');
}

/** Record fields safe to print: everything but the digest. */
function publicFields(record: ApiKeyRecord): Omit<ApiKeyRecord, 'hash'> {
  const { hash: _hash, ...rest } = record;
  return rest;
}

/** `authnz apikey create`. */
export const apiKeyCreateCommand: CliCommand = {
  path: ['apikey', 'create'],
  summary: 'issue an API key (printed once; the store keeps only its HMAC)',
  description: 'Prints only the key on stdout, so K=$(authnz apikey create …) captures it; its id goes to stderr.',
  options: [
    ...STORE_OPTIONS,
    { name: 'subject', value: 'NAME', required: true, help: "who the key is for (the record's owner)" },
    { name: 'pepper-file', value: 'FILE', help: 'pepper, at least 32 bytes (else $AUTHNZ_APIKEY_PEPPER)' },
    { name: 'scope', value: 'SCOPE', list: true, help: 'scope to grant' },
    { name: 'kind', value: 'service|user', help: 'default service' },
    { name: 'level', value: 'N', help: 'assurance level (default 0)' },
    { name: 'role', value: 'ROLE', help: 'policy role' },
    { name: 'name', value: 'LABEL', help: 'a label for people' },
    { name: 'lifetime-seconds', value: 'N', help: 'lifetime: 3600, 12h, 30d (default: no expiry)' },
    { name: 'cidr', value: 'RANGE', list: true, help: 'allowed client range' },
    { name: 'prefix', value: 'P', help: 'API key prefix (default ak)' },
    JSON_OPTION,
  ],
  examples: ['K=$(authnz apikey create --store keys.json --subject ci --scope deploy --lifetime-seconds 30d --cidr 10.0.0.0/8)'],
  async run(args: CliArgs, io: CliIo): Promise<number> {
    const subject = args.required('subject');
    const kind = args.choice('kind', ['service', 'user'] as const, 'service');
    const level = args.optionalInteger('level');
    const ttl = args.seconds('lifetime-seconds');
    const role = args.string('role');
    const name = args.string('name');
    const pepper = readPepper(args);
    return withStore(args, false, async (store) => {
      const manager = new ApiKeyManager({ store, pepper, prefix: args.string('prefix') ?? 'ak' });
      const { key, record } = await manager.issue({
        owner: subject,
        kind,
        scopes: args.list('scope'),
        ...(level === undefined ? {} : { level }),
        ...(ttl === undefined ? {} : { expiresInSeconds: ttl }),
        ...(role === undefined ? {} : { role }),
        ...(name === undefined ? {} : { name }),
        allowedCidrs: args.list('cidr'),
      });
      if (args.flag('json')) io.out(JSON.stringify({ key, ...publicFields(record) }, null, 2) + '\n');
      else {
        io.out(`${key}\n`);
        io.err(`id ${record.id}: store this key now; it cannot be shown again.\n`);
      }
      return 0;
    });
  },
};

/** `authnz apikey revoke <id>`. */
export const apiKeyRevokeCommand: CliCommand = {
  path: ['apikey', 'revoke'],
  summary: 'revoke an API key by id',
  positionals: [{ name: 'id', help: 'the key id (the part after the prefix, before the dot)' }],
  options: [...STORE_OPTIONS, JSON_OPTION],
  async run(args: CliArgs, io: CliIo): Promise<number> {
    const id = args.positionals[0] as string;
    return withStore(args, true, async (store) => {
      const record = await store.get(id);
      if (!record) throw new Error(`no key with id ${id}`);
      const revoked = { ...record, revokedAt: Date.now() };
      await store.save(revoked);
      io.out(args.flag('json') ? JSON.stringify(publicFields(revoked), null, 2) + '\n' : `revoked ${id}\n`);
      return 0;
    });
  },
};

/** `authnz apikey list`. */
export const apiKeyListCommand: CliCommand = {
  path: ['apikey', 'list'],
  summary: 'list API keys (ids and attributes, never secrets)',
  options: [...STORE_OPTIONS, { name: 'subject', value: 'NAME', help: 'only the keys of this subject' }, JSON_OPTION],
  async run(args: CliArgs, io: CliIo): Promise<number> {
    const subject = args.string('subject');
    return withStore(args, true, async (store) => {
      const records = (await store.list())
        .filter((r) => subject === undefined || r.owner === subject)
        .sort((a, b) => a.createdAt - b.createdAt);
      if (args.flag('json')) io.out(JSON.stringify(records.map(publicFields), null, 2) + '\n');
      else if (records.length === 0) io.err('no keys\n');
      else io.out(records.map((r) => describe(r, Date.now())).join('\n') + '\n');
      return 0;
    });
  },
};
