import { jest } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { authenticate, requireScopes } from '../../src/index.js';
import { ApiKeyManager, MemoryApiKeyStore, apiKeyScheme, parseApiKey, cidrMatcher, validateCidrs } from '../../src/index.js';

const PEPPER = randomBytes(32);

function appFor(manager: ApiKeyManager, header?: string | false) {
  const a = express();
  a.set('trust proxy', true);
  const logs: string[] = [];
  a.get(
    '/who',
    authenticate([apiKeyScheme({ manager, ...(header === undefined ? {} : { header }) })]),
    requireScopes('reports:read'),
    (req, res) => {
      logs.push(JSON.stringify(req.principal));
      res.json(req.principal);
    },
  );
  return { app: a, logs };
}

describe('API key format', () => {
  it('has a readable prefix, an id and a 256-bit secret, and parses back', async () => {
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER, prefix: 'acme' });
    const { key, record } = await manager.issue({ owner: 'svc-a' });
    expect(key).toMatch(/^acme_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    const parsed = parseApiKey(key);
    expect(parsed?.id).toBe(record.id);
    expect(Buffer.from(parsed?.secret ?? '', 'base64url')).toHaveLength(32);
    expect(parseApiKey(key + 'x')).toBeUndefined();
    expect(parseApiKey('acme_zz.' + 'a'.repeat(43))).toBeUndefined();
  });

  it('rejects a short pepper and a bad prefix at construction', () => {
    expect(() => new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: 'short' })).toThrow(/32 bytes/);
    expect(() => new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER, prefix: 'a_b' })).toThrow(/prefix/);
  });
});

describe('CIDR binding', () => {
  it.each([
    [['10.0.0.0/8'], '10.1.2.3', true],
    [['10.0.0.0/8'], '11.1.2.3', false],
    [['10.0.0.0/8'], '::ffff:10.9.9.9', true],
    [['2001:db8::/32'], '2001:db8:1::5', true],
    [['2001:db8::/32'], '2001:db9::5', false],
    [['192.0.2.7'], '192.0.2.7', true],
    [['192.0.2.7'], '192.0.2.8', false],
    [['10.0.0.0/8'], 'not-an-ip', false],
  ])('%j matches %s: %s', (cidrs, ip, expected) => {
    expect(cidrMatcher(cidrs)(ip)).toBe(expected);
  });
  it('names the invalid range', () => {
    expect(() => validateCidrs(['10.0.0.0/8', '10.0.0.0/33'])).toThrow('10.0.0.0/33');
    expect(() => validateCidrs(['nope/8'])).toThrow('nope/8');
  });
});

describe('ApiKeyManager + scheme (memory store)', () => {
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;

  it('authenticates with X-API-Key and Authorization: ApiKey, yielding the principal', async () => {
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER, clock });
    const { key, record } = await manager.issue({
      owner: 'reporter',
      kind: 'user',
      scopes: ['reports:read'],
      level: 2,
      role: 'authenticated',
    });
    const { app } = appFor(manager);
    const a = await request(app).get('/who').set('X-API-Key', key);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      subject: 'reporter',
      kind: 'user',
      scheme: 'apikey',
      scopes: ['reports:read'],
      level: 2,
      details: { keyId: record.id, role: 'authenticated' },
    });
    const b = await request(app).get('/who').set('Authorization', `ApiKey ${key}`);
    expect(b.status).toBe(200);
  });

  it('uses a configured header, and can refuse the header entirely', async () => {
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER });
    const { key } = await manager.issue({ owner: 'o', scopes: ['reports:read'] });
    expect((await request(appFor(manager, 'X-Acme-Key').app).get('/who').set('X-Acme-Key', key)).status).toBe(200);
    expect((await request(appFor(manager, 'X-Acme-Key').app).get('/who').set('X-API-Key', key)).status).toBe(401);
    const res = await request(appFor(manager, false).app).get('/who').set('X-API-Key', key);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('credentials_missing');
    expect(res.headers['www-authenticate']).toBe('ApiKey');
  });

  it('rejects wrong secrets, unknown ids, junk, and both header and Authorization', async () => {
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER });
    const { key } = await manager.issue({ owner: 'o', scopes: ['reports:read'] });
    const parsed = parseApiKey(key)!;
    const flipped = `${parsed.prefix}_${parsed.id}.${(parsed.secret[0] === 'A' ? 'B' : 'A') + parsed.secret.slice(1)}`;
    const { app } = appFor(manager);
    const wrong = await request(app).get('/who').set('X-API-Key', flipped);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'token_invalid', reason: 'invalid' });
    const unknown = await request(app).get('/who').set('X-API-Key', `ak_0123456789abcdef.${parsed.secret}`);
    expect(unknown.body.reason).toBe('invalid');
    const junk = await request(app).get('/who').set('X-API-Key', 'hello');
    expect(junk.body.reason).toBe('format');
    const both = await request(app).get('/who').set('X-API-Key', key).set('Authorization', `ApiKey ${key}`);
    expect(both.status).toBe(400);
    // A key issued under another pepper does not verify here.
    const other = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32) });
    const otherKey = (await other.issue({ owner: 'o' })).key;
    await expect(manager.verify(otherKey)).rejects.toMatchObject({ reason: 'invalid' });
  });

  it('enforces expiry, not-before and revocation', async () => {
    now = Date.UTC(2026, 0, 1);
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER, clock });
    const exp = await manager.issue({ owner: 'o', expiresInSeconds: 60 });
    await expect(manager.verify(exp.key)).resolves.toMatchObject({ record: { id: exp.record.id, owner: 'o', expiresAt: now + 60_000 } });
    now += 60_000;
    await expect(manager.verify(exp.key)).rejects.toMatchObject({ code: 'token_expired', status: 401 });
    const nbf = await manager.issue({ owner: 'o', notBefore: now + 10_000 });
    await expect(manager.verify(nbf.key)).rejects.toMatchObject({ reason: 'not_yet_valid' });
    now += 10_000;
    await expect(manager.verify(nbf.key)).resolves.toMatchObject({ record: { id: nbf.record.id, owner: 'o', notBefore: now } });
    expect(await manager.revoke(nbf.record.id)).toBe(true);
    await expect(manager.verify(nbf.key)).rejects.toMatchObject({ reason: 'revoked' });
    expect(await manager.revoke('0000000000000000')).toBe(false);
  });

  it('rotates: the new key works, the old one stops after the grace period', async () => {
    now = Date.UTC(2026, 0, 1);
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER, clock });
    const old = await manager.issue({ owner: 'o', scopes: ['x'], expiresInSeconds: 3600 });
    const fresh = await manager.rotate(old.record.id, 30);
    expect(fresh.key).not.toBe(old.key);
    expect(fresh.record).toMatchObject({ owner: 'o', scopes: ['x'], expiresAt: now + 3600_000 });
    await expect(manager.verify(old.key)).resolves.toMatchObject({ record: { id: old.record.id, owner: 'o', scopes: ['x'] } });
    now += 30_000;
    await expect(manager.verify(old.key)).rejects.toMatchObject({ reason: 'revoked' });
    await expect(manager.verify(fresh.key)).resolves.toMatchObject({ record: { id: fresh.record.id, owner: 'o', scopes: ['x'] } });
    expect((await manager.list('o')).find((r) => r.id === old.record.id)?.rotatedTo).toBe(fresh.record.id);
  });

  it('binds keys to client IP ranges', async () => {
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER });
    const { key } = await manager.issue({ owner: 'o', scopes: ['reports:read'], allowedCidrs: ['203.0.113.0/24', '2001:db8::/32'] });
    const { app } = appFor(manager);
    expect((await request(app).get('/who').set('X-API-Key', key).set('X-Forwarded-For', '203.0.113.9')).status).toBe(200);
    expect((await request(app).get('/who').set('X-API-Key', key).set('X-Forwarded-For', '2001:db8::1')).status).toBe(200);
    const denied = await request(app).get('/who').set('X-API-Key', key).set('X-Forwarded-For', '198.51.100.1');
    expect(denied.status).toBe(401);
    expect(denied.body.reason).toBe('ip_not_allowed');
    await expect(manager.issue({ owner: 'o', allowedCidrs: ['300.0.0.0/8'] })).rejects.toThrow('300.0.0.0/8');
  });

  it('never puts the key or its secret in the store, an error body or a log line', async () => {
    const store = new MemoryApiKeyStore();
    const manager = new ApiKeyManager({ store, pepper: PEPPER });
    const { key } = await manager.issue({ owner: 'o', scopes: ['reports:read'] });
    const secret = parseApiKey(key)!.secret;
    const lines: string[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...a: unknown[]) => {
        lines.push(a.map(String).join(' '));
      }),
    );
    try {
      const { app, logs } = appFor(manager);
      await request(app).get('/who').set('X-API-Key', key);
      const bad = await request(app)
        .get('/who')
        .set('X-API-Key', key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'));
      const badNoScope = await request(appFor(new ApiKeyManager({ store, pepper: PEPPER })).app)
        .get('/who')
        .set('Authorization', `ApiKey ${key}x`);
      const dump =
        JSON.stringify(await store.list()) +
        logs.join('\n') +
        lines.join('\n') +
        bad.text +
        JSON.stringify(bad.headers) +
        badNoScope.text +
        JSON.stringify(badNoScope.headers);
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice(0, 20));
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });
});
