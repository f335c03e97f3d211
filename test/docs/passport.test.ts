/**
 * The README's Passport section, run: passport.authenticate([...], { failWithError: true }) over
 * toPassportStrategy() strategies plus passportErrorHandler() answers as authenticate() does.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import express from 'express';
import { Redis } from 'ioredis';
import { Passport } from 'passport';
import request from 'supertest';
import { ApiJwtIssuer, ApiKeyManager, MemoryApiKeyStore, apiJwtScheme, apiKeyScheme, authenticate, requireScopes, toPassportStrategy } from '../../src/index.js';
import { RedisApiKeyStore } from '../../src/redis.js';
import { loadSnippet } from './snippets.js';

type CreateApp = (config: { publicKeys: string[]; manager: ApiKeyManager }) => express.Express;
type Model = { keys: Record<string, string>; allowed: { scopes: { PER_KEY: Record<string, string[]> } } };

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pepper = randomBytes(32).toString('base64url');

/** The same route with authenticate(): the reference. */
function reference(model: Model, config: { publicKeys: string[]; manager: ApiKeyManager }): express.Express {
  const app = express();
  app.get('/orders', authenticate([apiJwtScheme({ ...model, publicKeys: config.publicKeys }), apiKeyScheme({ manager: config.manager })], { realm: 'orders' }), requireScopes('orders:read'), (req, res) => {
    res.json({ caller: req.principal?.subject });
  });
  return app;
}

async function answer(app: express.Express, headers: Record<string, string>): Promise<Record<string, unknown>> {
  let req = request(app).get('/orders');
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  const res = await req;
  return { status: res.status, type: res.headers['content-type'], challenge: res.headers['www-authenticate'], retryAfter: res.headers['retry-after'], body: res.body as unknown };
}

describe('README: Passport users', () => {
  let createApp: CreateApp;
  let model: Model;
  let issuer: ApiJwtIssuer;
  let manager: ApiKeyManager;
  let key: string;
  beforeAll(async () => {
    ({ createApp, model } = await loadSnippet<{ createApp: CreateApp; model: Model }>('passport'));
    issuer = new ApiJwtIssuer({ ...model, privateKey: privatePem });
    manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper });
    ({ key } = await manager.issue({ owner: 'billing', scopes: ['orders:read'] }));
  });

  const token = (scopes: string[]): string => issuer.issue({ subject: 'alice', extras: { scopes } }).token;
  const cases: Array<[string, () => Record<string, string>, number]> = [
    ['no credential: 401 credentials_missing, a challenge per scheme', () => ({}), 401],
    ['a valid token with the scope: 200', () => ({ authorization: `Bearer ${token(['orders:read'])}` }), 200],
    ['a valid token without the scope: 403 insufficient_scope', () => ({ authorization: `Bearer ${token(['orders:write'])}` }), 403],
    ['a forged token: 401 invalid_token for Bearer', () => ({ authorization: `Bearer ${token(['orders:read']).slice(0, -6)}AAAAAA` }), 401],
    ['a valid API key: 200', () => ({ 'x-api-key': key }), 200],
    ['a wrong API key: 401', () => ({ 'x-api-key': `${key.slice(0, -4)}AAAA` }), 401],
  ];

  it.each(cases)('%s, the same as authenticate()', async (_name, headers, status) => {
    const config = { publicKeys: [publicPem], manager };
    const theirs = await answer(createApp(config), headers());
    expect(theirs['status']).toBe(status);
    expect(theirs).toEqual(await answer(reference(model, config), headers()));
  });

  it('Redis down behind the API key store: 503 with Retry-After, the same as authenticate()', async () => {
    // A real client to a port nothing listens on: every command fails as in an outage.
    const down = new Redis({ port: 1, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    down.on('error', () => undefined);
    try {
      const config = { publicKeys: [publicPem], manager: new ApiKeyManager({ store: new RedisApiKeyStore(down, { timeoutMs: 500 }), pepper }) };
      const theirs = await answer(createApp(config), { 'x-api-key': key });
      expect(theirs).toMatchObject({ status: 503, body: { code: 'dependency_unavailable' } });
      expect(theirs['retryAfter']).toBeDefined();
      expect(theirs).toEqual(await answer(reference(model, config), { 'x-api-key': key }));
    } finally {
      down.disconnect();
    }
  });

  it('without failWithError and the handler, Passport itself answers: 401 text, no challenge (why the README adds them)', async () => {
    const passport = new Passport();
    passport.use('apikey', toPassportStrategy(apiKeyScheme({ manager })) as Parameters<typeof passport.use>[1]);
    const app = express();
    app.get('/orders', passport.authenticate(['apikey'], { session: false }), (_req, res) => {
      res.end();
    });
    const res = await request(app).get('/orders');
    expect([res.status, res.text, res.headers['www-authenticate']]).toEqual([401, 'Unauthorized', undefined]);
  });
});
