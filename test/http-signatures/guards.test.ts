/**
 * requireSignedComponents() and requireSignatureTag() on real routes: they pass signatures that
 * cover the components / carry the tag, and answer 403 to other signatures and to principals of
 * other schemes (an API key here).
 */
import request from 'supertest';
import express from 'express';
import { randomBytes } from 'node:crypto';
import {
  ApiKeyManager,
  apiKeyScheme,
  authenticate,
  httpSignatureScheme,
  MemoryApiKeyStore,
  requireSignatureTag,
  requireSignedComponents,
} from '../../src/index.js';
import { echo, ORIGIN, PUBLIC_KEYS, signedHeaders } from './helpers.js';

const WITH_QUERY = ['@method', '@authority', '@path', '@query'];

async function appWithGuards(): Promise<express.Express> {
  const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32) });
  const { key } = await manager.issue({ owner: 'key-user' });
  const app = express();
  const auth = authenticate([httpSignatureScheme({ origins: [ORIGIN], publicKeys: PUBLIC_KEYS }), apiKeyScheme({ manager })]);
  app.get('/account', auth, requireSignedComponents(['x-account', '"@query-param";name="id"']), echo);
  app.get('/target', auth, requireSignedComponents('@target-uri'), echo);
  app.get('/tagged', auth, requireSignatureTag('orders'), echo);
  app.locals['apiKey'] = key;
  return app;
}

describe('signature guards', () => {
  let app: express.Express;
  beforeAll(async () => {
    app = await appWithGuards();
  });

  it('requireSignedComponents passes a signature covering the components and refuses one that does not (403)', async () => {
    const covering = signedHeaders(
      { path: '/account?id=7', headers: { 'x-account': 'a' } },
      { components: ['@method', '@authority', '@target-uri', 'x-account', '"@query-param";name="id"'] },
    );
    expect((await request(app).get('/account?id=7').set(covering)).status).toBe(200);
    const partial = signedHeaders(
      { path: '/account?id=7', headers: { 'x-account': 'a' } },
      { components: ['@method', '@authority', '@target-uri', 'x-account'] },
    );
    const refused = await request(app).get('/account?id=7').set(partial);
    expect({ status: refused.status, reason: (refused.body as { reason?: string }).reason }).toEqual({ status: 403, reason: 'forbidden' });
  });

  it('requireSignedComponents("@target-uri") accepts @path with @query', async () => {
    expect(
      (
        await request(app)
          .get('/target?q=1')
          .set(signedHeaders({ path: '/target?q=1' }, { components: WITH_QUERY }))
      ).status,
    ).toBe(200);
  });

  it('requireSignatureTag passes the tag and refuses another or none (403)', async () => {
    expect(
      (
        await request(app)
          .get('/tagged')
          .set(signedHeaders({ path: '/tagged' }, { params: { tag: 'orders' } }))
      ).status,
    ).toBe(200);
    expect(
      (
        await request(app)
          .get('/tagged')
          .set(signedHeaders({ path: '/tagged' }, { params: { tag: 'other' } }))
      ).status,
    ).toBe(403);
    expect(
      (
        await request(app)
          .get('/tagged')
          .set(signedHeaders({ path: '/tagged' }))
      ).status,
    ).toBe(403);
  });

  it('both refuse a principal of another scheme (403), and an anonymous request gets 401', async () => {
    const key = app.locals['apiKey'] as string;
    expect((await request(app).get('/tagged').set('x-api-key', key)).status).toBe(403);
    expect((await request(app).get('/target').set('x-api-key', key)).status).toBe(403);
    expect((await request(app).get('/tagged')).status).toBe(401);
  });

  it('refuses bad arguments at start-up', () => {
    expect(() => requireSignedComponents([])).toThrow('requireSignedComponents(): "components"');
    expect(() => requireSignedComponents(['@nope'])).toThrow('"components[0]"');
    expect(() => requireSignatureTag('')).toThrow('requireSignatureTag(): "tag" must be a non-empty string');
  });
});
