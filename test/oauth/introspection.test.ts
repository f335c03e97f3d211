import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { authenticate, isAuthError, requireScopes } from '../../src/index.js';
import { introspectionScheme } from '../../src/schemes/introspection/scheme.js';
import { Introspector, MemoryIntrospectionCache, TokenClient, type IntrospectionCacheEntry } from '../../src/protocols/oauth/index.js';
import { startProvider, SECRETS, type TestProvider } from '../helpers/oauth-provider.js';

let as: TestProvider;

beforeAll(async () => {
  as = await startProvider();
});
afterAll(async () => {
  await as.close();
});

const rsAuth = () => ({ method: 'client_secret_basic' as const, clientId: 'rs', clientSecret: SECRETS.rs });
const svc = () =>
  new TokenClient({
    issuer: as.issuer,
    clientAuth: { method: 'client_secret_basic', clientId: 'svc', clientSecret: SECRETS.svc },
    cache: false,
  });

async function clientToken(scopes = ['read']): Promise<string> {
  return (await svc().grantClient({ scopes })).accessToken;
}

async function revoke(token: string): Promise<void> {
  const res = await fetch(`${as.issuer}/token/revocation`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`svc:${encodeURIComponent(SECRETS.svc).replace(/%20/g, '+')}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(res.status).toBe(200);
}

function appWith(options: Partial<Parameters<typeof introspectionScheme>[0]> = {}) {
  const app = express();
  const scheme = introspectionScheme({ issuer: as.issuer, clientAuth: rsAuth(), ...options });
  app.get('/who', authenticate([scheme]), (req, res) => {
    res.json(req.principal);
  });
  app.get('/write', authenticate([scheme]), requireScopes('write'), (_req, res) => {
    res.send('ok');
  });
  return app;
}

const hits = () => as.hits.get('/token/introspection') ?? 0;

describe('introspection strategy against oidc-provider', () => {
  it('maps an active client_credentials token to a service principal', async () => {
    const token = await clientToken(['read']);
    const res = await request(appWith()).get('/who').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ subject: 'svc', kind: 'service', scheme: 'introspection', scopes: ['read'] });
    expect(res.body.details).toMatchObject({ clientId: 'svc', issuer: as.issuer });
    expect(typeof res.body.details.expiresAt).toBe('number');
    expect(JSON.stringify(res.body)).not.toContain(token);
  });

  it('guards see the introspected scopes', async () => {
    const app = appWith();
    const readOnly = await clientToken(['read']);
    const both = await clientToken(['read', 'write']);
    expect((await request(app).get('/write').set('Authorization', `Bearer ${readOnly}`)).status).toBe(403);
    expect((await request(app).get('/write').set('Authorization', `Bearer ${both}`)).status).toBe(200);
  });

  it('401 token_invalid/inactive for an unknown token, with a Bearer challenge', async () => {
    const res = await request(appWith()).get('/who').set('Authorization', 'Bearer not-a-real-token');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'token_invalid', reason: 'inactive' });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });

  it('no Bearer header: not this scheme (401 credentials_missing with a Bearer challenge)', async () => {
    const res = await request(appWith()).get('/who');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('credentials_missing');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('400 for Bearer credentials that are not b64token syntax', async () => {
    const res = await request(appWith()).get('/who').set('Authorization', 'Bearer a,b');
    expect(res.status).toBe(400);
    // One header rule for every scheme (src/scheme.ts): a token68 followed by a comma is a list.
    expect(res.body.reason).toBe('authorization_list');
  });

  it('works with client_secret_post and private_key_jwt client authentication', async () => {
    const token = await clientToken(['read']);
    const post = new Introspector({
      issuer: as.issuer,
      clientAuth: { method: 'client_secret_post', clientId: 'rs-post', clientSecret: SECRETS.rs },
      cache: false,
    });
    expect((await post.verify(token)).clientId).toBe('svc');
    const pk = new Introspector({
      issuer: as.issuer,
      clientAuth: { method: 'private_key_jwt', clientId: 'svc-pk', privateKey: as.clientKey },
      cache: false,
    });
    expect((await pk.verify(token)).scopes).toEqual(['read']);
    // twice: each call signs a fresh assertion (oidc-provider rejects a replayed jti)
    expect((await pk.verify(token)).scopes).toEqual(['read']);
  });

  it('a wrong client secret at the introspection endpoint is a 503 (the token state is unknown), never a pass', async () => {
    const token = await clientToken(['read']);
    const res = await request(appWith({ clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'wrong' } }))
      .get('/who')
      .set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('dependency_unavailable');
  });

  it('caches positive answers: a second request does not call the server', async () => {
    const app = appWith({ cacheSeconds: 60 });
    const token = await clientToken(['read']);
    await request(app).get('/who').set('Authorization', `Bearer ${token}`).expect(200);
    const before = hits();
    await request(app).get('/who').set('Authorization', `Bearer ${token}`).expect(200);
    expect(hits()).toBe(before);
  });

  it('a revoked token is rejected once its cached entry expires', async () => {
    let now = Date.now();
    const app = appWith({ cacheSeconds: 2, clock: () => now });
    const token = await clientToken(['read']);
    await request(app).get('/who').set('Authorization', `Bearer ${token}`).expect(200);
    await revoke(token);
    // Still inside the cache window: the cached positive answer is served (documented trade-off).
    await request(app).get('/who').set('Authorization', `Bearer ${token}`).expect(200);
    now += 2500;
    const res = await request(app).get('/who').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('inactive');
  });

  it('negative answers are cached briefly, and not at all with negativeCacheSeconds 0', async () => {
    let now = Date.now();
    const cached = new Introspector({ issuer: as.issuer, clientAuth: rsAuth(), negativeCacheSeconds: 5, clock: () => now });
    const before = hits();
    await expect(cached.verify('unknown-token-1')).rejects.toMatchObject({ reason: 'inactive' });
    await expect(cached.verify('unknown-token-1')).rejects.toMatchObject({ reason: 'inactive' });
    expect(hits()).toBe(before + 1);
    now += 6000;
    await expect(cached.verify('unknown-token-1')).rejects.toMatchObject({ reason: 'inactive' });
    expect(hits()).toBe(before + 2);
    const uncached = new Introspector({ issuer: as.issuer, clientAuth: rsAuth(), negativeCacheSeconds: 0 });
    await expect(uncached.verify('unknown-token-2')).rejects.toMatchObject({ reason: 'inactive' });
    await expect(uncached.verify('unknown-token-2')).rejects.toMatchObject({ reason: 'inactive' });
    expect(hits()).toBe(before + 4);
  });

  it('the cache is keyed by a hash, never by the raw token', async () => {
    const seen: Array<[string, IntrospectionCacheEntry]> = [];
    const inner = new MemoryIntrospectionCache();
    const spy = {
      get: (k: string) => inner.get(k),
      set: async (k: string, e: IntrospectionCacheEntry, ttl: number) => {
        seen.push([k, e]);
        await inner.set(k, e, ttl);
      },
    };
    const token = await clientToken(['read']);
    await new Introspector({ issuer: as.issuer, clientAuth: rsAuth(), cache: spy }).verify(token);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[0]).not.toContain(token);
    expect(seen[0]?.[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('concurrent checks of one token share one introspection call', async () => {
    const introspector = new Introspector({ issuer: as.issuer, clientAuth: rsAuth() });
    const token = await clientToken(['read']);
    await introspector.verify('warm-up-discovery').catch(() => undefined);
    const before = hits();
    const results = await Promise.all(Array.from({ length: 10 }, () => introspector.verify(token)));
    expect(results.every((r) => r.clientId === 'svc')).toBe(true);
    expect(hits()).toBe(before + 1);
  });

  it('carries sub, purpose and authorization_id of a jwt-bearer token', async () => {
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: { method: 'private_key_jwt', clientId: 'svc-pk', privateKey: as.clientKey },
      assertionKey: as.clientKey,
    });
    const { accessToken } = await client.grantUser({
      sub: 'alice',
      scopes: ['read', 'write'],
      purposes: ['billing'],
      authorizationId: 'authz-42',
    });
    const res = await request(appWith()).get('/who').set('Authorization', `Bearer ${accessToken}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ subject: 'alice', kind: 'user', scopes: ['read', 'write'] });
    expect(res.body.details).toMatchObject({ clientId: 'svc-pk', purpose: 'billing', authorizationId: 'authz-42' });
  });

  it('rejects answers from another issuer, wrong audience or missing required scopes', async () => {
    const token = await clientToken(['read']);
    const endpoint = `${as.issuer}/token/introspection`;
    const wrongIss = new Introspector({ endpoint, issuer: 'http://127.0.0.1:1/other', clientAuth: rsAuth(), cache: false });
    await expect(wrongIss.verify(token)).rejects.toMatchObject({ code: 'token_invalid', reason: 'issuer_invalid' });
    const aud = new Introspector({ endpoint, clientAuth: rsAuth(), audience: 'https://api.example', cache: false });
    await expect(aud.verify(token)).rejects.toMatchObject({ code: 'token_invalid', reason: 'audience_invalid' });
    const scoped = new Introspector({ endpoint, clientAuth: rsAuth(), requiredScopes: ['write'], cache: false });
    await expect(scoped.verify(token)).rejects.toMatchObject({ code: 'token_invalid', reason: 'scope' });
  });

  it('a token whose exp passed is token_expired even when a cache still holds it', async () => {
    const token = await clientToken(['read']);
    let now = Date.now();
    const introspector = new Introspector({ issuer: as.issuer, clientAuth: rsAuth(), cacheSeconds: 3600, clock: () => now });
    const first = await introspector.verify(token);
    now = ((first.expiresAt as number) + 1) * 1000;
    await expect(introspector.verify(token)).rejects.toMatchObject({ code: 'token_expired', reason: 'expired' });
  });

  it('503 when the server answers 5xx, and the failure is not cached', async () => {
    const app = appWith();
    const token = await clientToken(['read']);
    as.setFailure(500);
    try {
      const res = await request(app).get('/who').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('dependency_unavailable');
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      as.setFailure(undefined);
    }
    await request(app).get('/who').set('Authorization', `Bearer ${token}`).expect(200);
  });
});

describe('introspection endpoint unreachable or odd', () => {
  let server: Server;
  let base: string;
  let mode: 'hang' | 'string-true' | 'html' = 'hang';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (mode === 'hang') return; // never answers
      if (mode === 'html') {
        res.setHeader('content-type', 'text/html');
        res.end('<html>oops</html>');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ active: 'true', sub: 'mallory' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('503 when nothing listens at the endpoint', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const app = appWith({ issuer: undefined, endpoint: `http://127.0.0.1:${port}/introspect` });
    const res = await request(app).get('/who').set('Authorization', 'Bearer some-token');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('dependency_unavailable');
  });

  it('503 within 2 s when the endpoint hangs past the timeout', async () => {
    mode = 'hang';
    const started = Date.now();
    const app = appWith({ issuer: undefined, endpoint: `${base}/introspect`, timeoutMs: 300 });
    const res = await request(app).get('/who').set('Authorization', 'Bearer some-token');
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('503 for a non-JSON answer; "active": "true" (a string) is not accepted', async () => {
    mode = 'html';
    const i = new Introspector({ endpoint: `${base}/introspect`, clientAuth: rsAuth(), cache: false });
    const err: unknown = await i.verify('tok').catch((e: unknown) => e);
    expect(isAuthError(err) && err.code).toBe('dependency_unavailable');
    mode = 'string-true';
    await expect(i.verify('tok')).rejects.toMatchObject({ code: 'token_invalid', reason: 'inactive' });
  });
});
