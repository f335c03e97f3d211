import express from 'express';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { authenticate, AuthnzerverClient, authnzerverScheme, sealAuthnzerverApiKey } from '../../src/index.js';
import { fernetEncrypt, fernetDecrypt, FernetError } from '../../src/schemes/authnzerver/fernet.js';
import { encryptMessage, decryptMessage } from '../../src/schemes/authnzerver/messaging.js';
import { fakeAuthnzerver, SECRET, type Mode, type Fake } from './fake.js';

const here = dirname(fileURLToPath(import.meta.url));
const vectors = JSON.parse(readFileSync(join(here, '../fixtures/authnzerver/vectors.json'), 'utf8')) as {
  spec: { secret: string; token: string; now: number; iv: number[]; src: string };
  envelope: { secret: string; body: string; message: Record<string, unknown> };
};

const FRONTEND = randomBytes(32).toString('base64url') + '=';

describe('Fernet and the envelope', () => {
  it('reproduces the Fernet spec vector and decrypts it', () => {
    const { secret, token, now, iv, src } = vectors.spec;
    expect(fernetEncrypt(secret, src, { clock: () => now * 1000, iv: Uint8Array.from(iv) })).toBe(token);
    expect(fernetDecrypt(secret, token).toString()).toBe(src);
    expect(() => fernetDecrypt(secret, token, { ttlSeconds: 60, clock: () => (now + 61) * 1000 })).toThrow('expired');
  });

  it('decrypts an envelope made by Python (authnzerver messaging.py) and round-trips its own', () => {
    expect(decryptMessage(vectors.envelope.body, vectors.envelope.secret)).toEqual(vectors.envelope.message);
    const body = encryptMessage({ reqid: 5, x: 'é' }, SECRET);
    expect(body).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(body, 'base64').toString('ascii')).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
    expect(decryptMessage(body, SECRET)).toEqual({ reqid: 5, x: 'é' });
  });

  it.each([
    ['wrong key', (t: string) => t, randomBytes(32).toString('base64url')],
    ['flipped byte', (t: string) => { const b = Buffer.from(t, 'base64url'); b[30] = (b[30] as number) ^ 1; return b.toString('base64url'); }, undefined],
    ['truncated', (t: string) => t.slice(0, 40), undefined],
    ['not base64', () => 'not base64!', undefined],
  ])('rejects a token: %s', (_n, mutate, key) => {
    const token = fernetEncrypt(SECRET, 'hello');
    expect(() => fernetDecrypt(key ?? SECRET, mutate(token))).toThrow(FernetError);
  });
});

describe('authnzerver bridge (in-process server)', () => {
  let fake: Fake;
  beforeAll(async () => { fake = await fakeAuthnzerver(); });
  afterAll(async () => { await fake.close(); });
  beforeEach(() => { fake.mode = 'ok'; fake.received.length = 0; });

  const appFor = (extra: Partial<Parameters<typeof authnzerverScheme>[0]> = {}) => {
    const client = new AuthnzerverClient({ url: fake.url, secret: SECRET, timeoutMs: 300 });
    const a = express();
    a.set('trust proxy', true);
    a.get('/me', authenticate([authnzerverScheme({ client, apiKeySecret: FRONTEND, cacheSeconds: 0, ...extra })]), (req, res) => { res.json(req.principal); });
    return a;
  };
  const sealed = (dict: Record<string, unknown>) => sealAuthnzerverApiKey(JSON.stringify(dict), FRONTEND);

  it('verifies a session cookie with session-exists, sending client_ipaddr and a unique reqid', async () => {
    const app = appFor();
    const res = await request(app).get('/me').set('Cookie', 'x=1; authnzerver_session=sess-good').set('X-Forwarded-For', '203.0.113.7');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ subject: '4', kind: 'user', scheme: 'authnzerver', details: { role: 'authenticated', email: 'a@example.org', via: 'session' } });
    await request(app).get('/me').set('Cookie', 'authnzerver_session=sess-good');
    expect(fake.received[0]).toMatchObject({ request: 'session-exists', client_ipaddr: '203.0.113.7', body: { session_token: 'sess-good', client_ipaddr: '203.0.113.7' } });
    expect(fake.received[0]?.['reqid']).not.toEqual(fake.received[1]?.['reqid']);
  });

  it('401 for an unknown session, without echoing the token', async () => {
    const res = await request(appFor()).get('/me').set('Cookie', 'authnzerver_session=sess-secret-unknown');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'token_invalid', reason: 'session_unknown' });
    expect(res.text + JSON.stringify(res.headers)).not.toContain('sess-secret-unknown');
  });

  it('verifies a sealed API key with apikey-verify-nosession and checks aud and ipa locally', async () => {
    const dict = { tkn: 'tkn-good', uid: 4, rol: 'staff', aud: 'reports', ipa: '198.51.100.4', iss: 'authnzerver' };
    const ok = await request(appFor({ audience: 'reports', bindIp: true })).get('/me').set('Authorization', `AuthnzApiKey ${sealed(dict)}`).set('X-Forwarded-For', '198.51.100.4');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ subject: '4', details: { role: 'staff', via: 'apikey', target: 'reports' } });
    expect(fake.received[0]).toMatchObject({ request: 'apikey-verify-nosession', body: { user_id: 4, user_role: 'staff', apikey_dict: dict } });
    const aud = await request(appFor({ audience: 'billing' })).get('/me').set('Authorization', `AuthnzApiKey ${sealed(dict)}`);
    expect(aud.body.reason).toBe('audience_invalid');
    const ip = await request(appFor({ bindIp: true })).get('/me').set('Authorization', `AuthnzApiKey ${sealed(dict)}`).set('X-Forwarded-For', '198.51.100.5');
    expect(ip.body.reason).toBe('ip_not_allowed');
    const bad = await request(appFor()).get('/me').set('Authorization', `AuthnzApiKey ${sealed({ ...dict, tkn: 'tkn-stolen' })}`);
    expect(bad.status).toBe(401);
    expect(bad.body.reason).toBe('apikey_rejected');
    expect(bad.text).not.toContain('tkn-stolen');
    const forged = await request(appFor()).get('/me').set('Authorization', `AuthnzApiKey ${fernetEncrypt(randomBytes(32), JSON.stringify(dict))}`);
    expect(forged.body.reason).toBe('format');
  });

  it.each<[Mode, string]>([
    ['wrong-reqid', 'authnzerver_reqid_mismatch'],
    ['garbage', 'authnzerver_bad_reply'],
    ['status500', 'authnzerver_status_500'],
  ])('503 when the server answers with %s', async (mode, reason) => {
    fake.mode = mode;
    const res = await request(appFor()).get('/me').set('Cookie', 'authnzerver_session=sess-good');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body).toMatchObject({ code: 'dependency_unavailable', reason });
  });

  it('503 within 2 s when the server is slow, and when it is down', async () => {
    fake.mode = 'slow';
    const started = Date.now();
    const res = await request(appFor()).get('/me').set('Cookie', 'authnzerver_session=sess-good');
    expect(res.status).toBe(503);
    expect(res.body.reason).toBe('authnzerver_timeout');
    expect(Date.now() - started).toBeLessThan(2000);
    const down = new AuthnzerverClient({ url: 'http://127.0.0.1:1', secret: SECRET, timeoutMs: 500 });
    await expect(down.request('session-exists', { session_token: 'x' }, '127.0.0.1')).rejects.toMatchObject({ status: 503, reason: 'authnzerver_unreachable' });
  });

  it('a wrong shared secret gets 401 from the server, which the client reports as 503', async () => {
    const client = new AuthnzerverClient({ url: fake.url, secret: randomBytes(32).toString('base64url'), timeoutMs: 500 });
    await expect(client.request('session-exists', { session_token: 'x' }, '127.0.0.1')).rejects.toMatchObject({ status: 503, reason: 'authnzerver_status_401' });
  });

  it('caches results briefly, keyed by token and IP', async () => {
    const app = appFor({ cacheSeconds: 60 });
    for (let i = 0; i < 3; i++) expect((await request(app).get('/me').set('Cookie', 'authnzerver_session=sess-good')).status).toBe(200);
    expect(fake.received).toHaveLength(1);
  });

  it('refuses non-loopback plain http and bad keys at construction', () => {
    expect(() => new AuthnzerverClient({ url: 'http://auth.example.org', secret: SECRET })).toThrow(/https or loopback/);
    expect(() => new AuthnzerverClient({ url: 'https://auth.example.org', secret: 'short' })).toThrow(/32 bytes/);
  });

  it('ignores requests without its credentials', async () => {
    const res = await request(appFor()).get('/me');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('credentials_missing');
    expect(res.headers['www-authenticate']).toBe('AuthnzApiKey');
    expect(fake.received).toHaveLength(0);
  });
});
