/**
 * What is built once per stored record (decoded digest, CIDR matcher, principal) must never answer
 * for a record that has changed: stores that hand out mutable objects get fresh answers.
 */
import express from 'express';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import {
  authenticate,
  ApiKeyManager,
  MemoryApiKeyStore,
  apiKeyScheme,
  hashApiKey,
  parseApiKey,
  type ApiKeyRecord,
  type ApiKeyStore,
} from '../../src/index.js';

const PEPPER = randomBytes(32);

/** A store that returns the very object it holds, and lets the test change it in place. */
class InPlaceStore implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord & Record<string, unknown>>();
  async save(record: ApiKeyRecord): Promise<void> {
    this.records.set(record.id, {
      ...record,
      scopes: [...record.scopes],
      ...(record.allowedCidrs ? { allowedCidrs: [...record.allowedCidrs] } : {}),
    });
  }
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.records.get(id);
  }
  async list(): Promise<ApiKeyRecord[]> {
    return [...this.records.values()];
  }
  async delete(id: string): Promise<void> {
    this.records.delete(id);
  }
}

function app(manager: ApiKeyManager) {
  const a = express();
  a.set('trust proxy', true);
  a.get('/who', authenticate([apiKeyScheme({ manager })]), (req, res) => {
    res.json(req.principal);
  });
  return a;
}

describe('per-record memo of the API key path', () => {
  it('a hash replaced in place: the old key is refused at once, the new one accepted', async () => {
    const store = new InPlaceStore();
    const manager = new ApiKeyManager({ store, pepper: PEPPER });
    const first = await manager.issue({ owner: 'o' });
    await expect(manager.verify(first.key)).resolves.toMatchObject({ record: { owner: 'o' } });
    const record = store.records.get(first.record.id)!;
    const replacement = `${parseApiKey(first.key)!.prefix}_${record.id}.${'B'.repeat(43)}`;
    (record as Record<string, unknown>)['hash'] = hashApiKey(PEPPER, parseApiKey(replacement)!);
    await expect(manager.verify(first.key)).rejects.toMatchObject({ reason: 'invalid' });
    await expect(manager.verify(replacement)).resolves.toMatchObject({ record: { id: record.id } });
    (record as Record<string, unknown>)['hash'] = 'not hex';
    await expect(manager.verify(replacement)).rejects.toMatchObject({ reason: 'invalid' });
  });

  it('allowed ranges changed in place apply to the next request', async () => {
    const store = new InPlaceStore();
    const manager = new ApiKeyManager({ store, pepper: PEPPER });
    const { key, record } = await manager.issue({ owner: 'o', allowedCidrs: ['203.0.113.0/24'] });
    const held = store.records.get(record.id)!;
    const from = (ip: string) => request(app(manager)).get('/who').set('X-API-Key', key).set('X-Forwarded-For', ip);
    expect((await from('203.0.113.9')).status).toBe(200);
    expect((await from('198.51.100.1')).status).toBe(401);
    (held.allowedCidrs as string[]).splice(0, 1, '198.51.100.0/24');
    expect((await from('198.51.100.1')).status).toBe(200);
    expect((await from('203.0.113.9')).status).toBe(401);
  });

  it('a mutable record: the principal follows its scopes; a frozen one (memory store) is built once', async () => {
    const store = new InPlaceStore();
    const manager = new ApiKeyManager({ store, pepper: PEPPER });
    const { key, record } = await manager.issue({ owner: 'o', scopes: ['a'] });
    expect((await request(app(manager)).get('/who').set('X-API-Key', key)).body.scopes).toEqual(['a']);
    (store.records.get(record.id)!.scopes as string[]).push('b');
    expect((await request(app(manager)).get('/who').set('X-API-Key', key)).body.scopes).toEqual(['a', 'b']);

    const memory = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER });
    const issued = await memory.issue({ owner: 'p', scopes: ['a'] });
    const seen: unknown[] = [];
    const a = express();
    a.get('/who', authenticate([apiKeyScheme({ manager: memory })]), (req, res) => {
      seen.push(req.principal);
      res.end();
    });
    await request(a).get('/who').set('X-API-Key', issued.key);
    await request(a).get('/who').set('X-API-Key', issued.key);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(Object.isFrozen(seen[0])).toBe(true);
    await memory.revoke(issued.record.id);
    expect((await request(a).get('/who').set('X-API-Key', issued.key)).status).toBe(401);
  });
});
