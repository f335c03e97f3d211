/**
 * The API key stores of src/stores/apikey.ts: the in-memory store (frozen copies in and out) and the
 * JSON file store (digests only, mode 0600, atomic replacement through a temporary file of its own).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyManager, JsonFileApiKeyStore, MemoryApiKeyStore, parseApiKey, type ApiKeyRecord } from '../../src/index.js';

const PEPPER = randomBytes(32);

/** A record as a manager would store it, with `fields` over the defaults. */
function record(fields: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: randomBytes(8).toString('hex'),
    prefix: 'ak',
    hash: randomBytes(32).toString('hex'),
    owner: 'svc',
    kind: 'service',
    scopes: ['read'],
    level: 1,
    createdAt: 1_700_000_000_000,
    ...fields,
  };
}

/** A fresh folder for one test, removed after it. */
async function inTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'authnz-apikey-store-'));
  try {
    await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('MemoryApiKeyStore', () => {
  it('saves, gets, lists and deletes by id; a save with the same id replaces the record', async () => {
    const store = new MemoryApiKeyStore();
    const a = record({ owner: 'a' });
    const b = record({ owner: 'b' });
    await store.save(a);
    await store.save(b);
    expect(await store.get(a.id)).toEqual(a);
    expect((await store.list()).map((r) => r.owner).sort()).toEqual(['a', 'b']);
    await store.save({ ...a, revokedAt: 5 });
    expect((await store.get(a.id))?.revokedAt).toBe(5);
    expect(await store.list()).toHaveLength(2);
    await store.delete(a.id);
    expect(await store.get(a.id)).toBeUndefined();
    expect((await store.list()).map((r) => r.id)).toEqual([b.id]);
  });

  it('keeps a frozen copy: changing the saved object or its arrays afterwards changes nothing stored', async () => {
    const store = new MemoryApiKeyStore();
    const scopes = ['read'];
    const allowedCidrs = ['10.0.0.0/8'];
    const saved = { ...record({ scopes, allowedCidrs }) };
    await store.save(saved);
    scopes.push('admin');
    allowedCidrs.push('0.0.0.0/0');
    (saved as { owner: string }).owner = 'someone-else';
    const stored = (await store.get(saved.id)) as ApiKeyRecord;
    expect(stored).toMatchObject({ owner: 'svc', scopes: ['read'], allowedCidrs: ['10.0.0.0/8'] });
    expect(Object.isFrozen(stored)).toBe(true);
    expect(Object.isFrozen(stored.scopes)).toBe(true);
    expect(Object.isFrozen(stored.allowedCidrs)).toBe(true);
    expect(() => (stored.scopes as string[]).push('admin')).toThrow(TypeError);
  });
});

describe('JsonFileApiKeyStore', () => {
  it('reads an absent file as empty and creates it on the first write; records survive a new store on the same path', async () => {
    await inTempDir(async (dir) => {
      const path = join(dir, 'keys.json');
      const store = new JsonFileApiKeyStore(path);
      expect(await store.list()).toEqual([]);
      expect(await store.get('0123456789abcdef')).toBeUndefined();
      expect(existsSync(path)).toBe(false);
      const a = record({ allowedCidrs: ['192.0.2.0/24'] });
      await store.save(a);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ keys: { [a.id]: a } });
      const again = new JsonFileApiKeyStore(path);
      expect(await again.get(a.id)).toEqual(a);
      await again.delete(a.id);
      expect(await store.list()).toEqual([]);
      expect(readdirSync(dir)).toEqual(['keys.json']);
    });
  });

  it('hands out frozen copies, and refuses to read a file that is not JSON', async () => {
    await inTempDir(async (dir) => {
      const path = join(dir, 'keys.json');
      const store = new JsonFileApiKeyStore(path);
      const a = record();
      await store.save(a);
      const [listed] = await store.list();
      expect(Object.isFrozen(listed)).toBe(true);
      expect(Object.isFrozen(listed?.scopes)).toBe(true);
      writeFileSync(path, 'not json');
      await expect(store.get(a.id)).rejects.toThrow(SyntaxError);
    });
  });

  it('JSON file store keeps only digests, mode 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authnz-apikey-'));
    try {
      const path = join(dir, 'keys.json');
      const manager = new ApiKeyManager({ store: new JsonFileApiKeyStore(path), pepper: PEPPER });
      const { key, record } = await manager.issue({ owner: 'o', scopes: ['a'] });
      await expect(manager.verify(key)).resolves.toMatchObject({ record: { id: record.id } });
      const text = readFileSync(path, 'utf8');
      expect(text).toContain(record.hash);
      expect(text).not.toContain(parseApiKey(key)!.secret);
      const { statSync } = await import('node:fs');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      await manager.revoke(record.id);
      await expect(manager.verify(key)).rejects.toMatchObject({ reason: 'revoked' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('JsonFileApiKeyStore: the temporary file it writes through', () => {
  it('never writes through a name another local user could create first (a symlink at <path>.<pid>.tmp stays untouched)', async () => {
    const { symlinkSync, writeFileSync, readdirSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'authnz-apikey-tmp-'));
    try {
      const path = join(dir, 'keys.json');
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'not yours\n');
      // What a hostile user in a shared folder can do for the old predictable name.
      symlinkSync(victim, `${path}.${process.pid}.tmp`);
      const manager = new ApiKeyManager({ store: new JsonFileApiKeyStore(path), pepper: PEPPER });
      const { key, record } = await manager.issue({ owner: 'o' });
      expect(readFileSync(victim, 'utf8')).toBe('not yours\n');
      await expect(manager.verify(key)).resolves.toMatchObject({ record: { id: record.id } });
      // Only the store, the planted link and the victim remain: no temporary file left behind.
      expect(readdirSync(dir).sort()).toEqual(['keys.json', `keys.json.${process.pid}.tmp`, 'victim.txt'].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
