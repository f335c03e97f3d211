/**
 * `authnz apikey create|revoke|list` against a JSON file store (`--store keys.json`) or Redis
 * (`--redis redis://…`). The key is printed once by `create`; stores hold only its HMAC digest.
 * The pepper comes from `--pepper-file` or `$AUTHNZ_APIKEY_PEPPER` (never a command-line value,
 * which would end up in shell history).
 */
import { readFileSync } from 'node:fs';
import { CliUsageError, parseArgs, type CliCommand, type CliIo } from '../types.js';
import { ApiKeyManager } from '../../schemes/apikey/manager.js';
import { JsonFileApiKeyStore, type ApiKeyRecord, type ApiKeyStore } from '../../stores/apikey.js';

const STORE_USAGE = [
  '  --store <file.json>        JSON file store (created 0600), or',
  '  --redis <redis://…>        Redis store;  --redis-prefix <p> (default authnz:)',
];

function one(options: Map<string, string[]>, name: string): string | undefined {
  const values = options.get(name);
  if (values !== undefined && values.length > 1) throw new CliUsageError(`--${name} given more than once`);
  return values?.[0];
}

/** Opens the store named by the options; `close` releases a Redis connection. */
async function openStore(options: Map<string, string[]>): Promise<{ store: ApiKeyStore; close: () => Promise<void> }> {
  const file = one(options, 'store');
  const url = one(options, 'redis');
  if ((file === undefined) === (url === undefined)) throw new CliUsageError('give exactly one of --store <file> or --redis <url>');
  if (file !== undefined) return { store: new JsonFileApiKeyStore(file), close: async () => undefined };
  const { Redis } = await import('ioredis');
  const { RedisApiKeyStore } = await import('../../stores/redis-apikey.js');
  const client = new Redis(url as string, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  client.on('error', () => undefined); // reported by the command that fails
  return {
    store: new RedisApiKeyStore(client, { keyPrefix: one(options, 'redis-prefix') ?? 'authnz:', timeoutMs: 2000 }),
    close: async () => {
      client.disconnect();
    },
  };
}

function readPepper(options: Map<string, string[]>): Buffer {
  const path = one(options, 'pepper-file');
  const raw = path !== undefined ? readFileSync(path, 'utf8').trim() : process.env['AUTHNZ_APIKEY_PEPPER'];
  if (raw === undefined || raw === '') throw new CliUsageError('set $AUTHNZ_APIKEY_PEPPER or --pepper-file (at least 32 bytes)');
  return Buffer.from(raw, 'utf8');
}

async function withStore(args: readonly string[], run: (options: Map<string, string[]>, positionals: string[], store: ApiKeyStore) => Promise<number>): Promise<number> {
  const { options, positionals } = parseArgs(args, ['json']);
  const { store, close } = await openStore(options);
  try {
    return await run(options, positionals, store);
  } finally {
    await close();
  }
}

function describe(record: ApiKeyRecord, now: number): string {
  const state = record.revokedAt !== undefined && record.revokedAt <= now ? 'revoked' : record.expiresAt !== undefined && record.expiresAt <= now ? 'expired' : 'active';
  const parts = [record.id, state, `owner=${record.owner}`, `kind=${record.kind}`, `scopes=${record.scopes.join(',') || '-'}`, `level=${record.level}`];
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
  usage: [
    'usage: authnz apikey create --owner <subject> (--store <file> | --redis <url>) [options]',
    ...STORE_USAGE,
    '  --pepper-file <path>       pepper (else $AUTHNZ_APIKEY_PEPPER), at least 32 bytes',
    '  --scope <scope>            repeatable',
    '  --kind <service|user>      default service',
    '  --level <n>                default 0',
    '  --role <role>              policy role',
    '  --name <label>',
    '  --expires-in <seconds>',
    '  --cidr <range>             allowed client range, repeatable',
    '  --prefix <p>               key prefix (default ak)',
    '  --json                     print JSON',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    return withStore(args, async (options, positionals, store) => {
      if (positionals.length > 0) throw new CliUsageError(`unexpected argument ${positionals[0]}`);
      const owner = one(options, 'owner');
      if (!owner) throw new CliUsageError('--owner is required');
      const kind = one(options, 'kind') ?? 'service';
      if (kind !== 'service' && kind !== 'user') throw new CliUsageError('--kind must be service or user');
      const num = (name: string): number | undefined => {
        const v = one(options, name);
        if (v === undefined) return undefined;
        if (!/^\d+$/.test(v)) throw new CliUsageError(`--${name} must be a whole number`);
        return Number(v);
      };
      const manager = new ApiKeyManager({ store, pepper: readPepper(options), prefix: one(options, 'prefix') ?? 'ak' });
      const level = num('level');
      const expiresIn = num('expires-in');
      const role = one(options, 'role');
      const name = one(options, 'name');
      const { key, record } = await manager.issue({
        owner,
        kind,
        scopes: options.get('scope') ?? [],
        ...(level === undefined ? {} : { level }),
        ...(expiresIn === undefined ? {} : { expiresInSeconds: expiresIn }),
        ...(role === undefined ? {} : { role }),
        ...(name === undefined ? {} : { name }),
        allowedCidrs: options.get('cidr') ?? [],
      });
      if (options.has('json')) io.out(JSON.stringify({ key, ...publicFields(record) }, null, 2) + '\n');
      else io.out(`${key}\n\nid ${record.id}: store this key now; it cannot be shown again.\n`);
      return 0;
    });
  },
};

/** `authnz apikey revoke <id>`. */
export const apiKeyRevokeCommand: CliCommand = {
  path: ['apikey', 'revoke'],
  summary: 'revoke an API key by id',
  usage: ['usage: authnz apikey revoke <id> (--store <file> | --redis <url>)', ...STORE_USAGE].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    return withStore(args, async (_options, positionals, store) => {
      const id = positionals[0];
      if (id === undefined || positionals.length > 1) throw new CliUsageError('give exactly one key id');
      const record = await store.get(id);
      if (!record) {
        io.err(`authnz apikey revoke: no key with id ${id}\n`);
        return 1;
      }
      await store.save({ ...record, revokedAt: Date.now() });
      io.out(`revoked ${id}\n`);
      return 0;
    });
  },
};

/** `authnz apikey list`. */
export const apiKeyListCommand: CliCommand = {
  path: ['apikey', 'list'],
  summary: 'list API keys (ids and attributes, never secrets)',
  usage: ['usage: authnz apikey list (--store <file> | --redis <url>) [--owner <subject>] [--json]', ...STORE_USAGE].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    return withStore(args, async (options, _positionals, store) => {
      const owner = one(options, 'owner');
      const records = (await store.list()).filter((r) => owner === undefined || r.owner === owner).sort((a, b) => a.createdAt - b.createdAt);
      if (options.has('json')) io.out(JSON.stringify(records.map(publicFields), null, 2) + '\n');
      else {
        const now = Date.now();
        io.out(records.length === 0 ? 'no keys\n' : records.map((r) => describe(r, now)).join('\n') + '\n');
      }
      return 0;
    });
  },
};
