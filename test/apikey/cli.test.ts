import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { runCli } from '../../src/cli/main.js';
import { ApiKeyManager, JsonFileApiKeyStore, parseApiKey } from '../../src/index.js';
import { RedisApiKeyStore } from '../../src/redis.js';
import { redisUrl } from '../helpers/services.js';

const REDIS_URL = redisUrl();

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

describe('authnz apikey', () => {
  let dir: string;
  let pepperFile: string;
  const pepper = randomBytes(32).toString('base64url');
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'authnz-cli-apikey-'));
    pepperFile = join(dir, 'pepper');
    writeFileSync(pepperFile, pepper + '\n', { mode: 0o600 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('create | list | revoke against a JSON file store', async () => {
    const store = join(dir, 'keys.json');
    const created = await cli([
      'apikey',
      'create',
      '--store',
      store,
      '--pepper-file',
      pepperFile,
      '--subject',
      'ci',
      '--scope',
      'deploy',
      '--scope',
      'read',
      '--cidr',
      '10.0.0.0/8',
      '--lifetime-seconds',
      '1h',
    ]);
    expect(created.code).toBe(0);
    const key = created.out.split('\n')[0] as string;
    const parsed = parseApiKey(key);
    expect(parsed).toBeDefined();
    const manager = new ApiKeyManager({ store: new JsonFileApiKeyStore(store), pepper: Buffer.from(pepper) });
    await expect(manager.verify(key, { clientIp: '10.1.1.1' })).resolves.toMatchObject({
      record: { owner: 'ci', scopes: ['deploy', 'read'] },
    });
    expect(readFileSync(store, 'utf8')).not.toContain(parsed!.secret);

    const listed = await cli(['apikey', 'list', '--store', store]);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(`${parsed!.id}  active  subject=ci`);
    expect(listed.out).not.toContain(parsed!.secret);
    const json = await cli(['apikey', 'list', '--store', store, '--json']);
    expect(JSON.parse(json.out)[0]).not.toHaveProperty('hash');

    expect((await cli(['apikey', 'revoke', parsed!.id, '--store', store])).code).toBe(0);
    expect((await cli(['apikey', 'list', '--store', store])).out).toContain(`${parsed!.id}  revoked`);
    await expect(manager.verify(key, { clientIp: '10.1.1.1' })).rejects.toMatchObject({ reason: 'revoked' });
    expect((await cli(['apikey', 'revoke', '0000000000000000', '--store', store])).code).toBe(1);
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['apikey', 'create', '--subject', 'x'])).code).toBe(2);
    expect((await cli(['apikey', 'create', '--store', join(dir, 'k2.json'), '--pepper-file', pepperFile])).code).toBe(2);
    const bad = await cli([
      'apikey',
      'create',
      '--store',
      join(dir, 'k3.json'),
      '--pepper-file',
      pepperFile,
      '--subject',
      'x',
      '--kind',
      'robot',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--kind');
  });

  it('create and list against Redis', async () => {
    const prefix = `test:i5:cli:${randomBytes(6).toString('hex')}:`;
    const created = await cli([
      'apikey',
      'create',
      '--store',
      REDIS_URL,
      '--key-prefix',
      prefix,
      '--pepper-file',
      pepperFile,
      '--subject',
      'svc',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const { key, id } = JSON.parse(created.out) as { key: string; id: string };
    const client = new Redis(REDIS_URL);
    try {
      const manager = new ApiKeyManager({ store: new RedisApiKeyStore(client, { keyPrefix: prefix }), pepper: Buffer.from(pepper) });
      await expect(manager.verify(key)).resolves.toMatchObject({ record: { id, owner: 'svc' } });
      const listed = await cli(['apikey', 'list', '--store', REDIS_URL, '--key-prefix', prefix]);
      expect(listed.out).toContain(`${id}  active  subject=svc`);
      const keys = await client.keys(`${prefix}*`);
      const values = await Promise.all(
        keys.map(async (k) => ((await client.type(k)) === 'string' ? client.get(k) : (await client.smembers(k)).join(','))),
      );
      expect(values.join('\n')).not.toContain(parseApiKey(key)!.secret);
      await client.del(...keys);
    } finally {
      client.disconnect();
    }
  });
});
