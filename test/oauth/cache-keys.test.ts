/**
 * Cache keys cover everything the answer depends on: the token client's key covers the whole grant
 * request (authentication context included) and its cache is bounded; the introspection cache key
 * covers which resource server asked (client id) and where (endpoint).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Introspector, MemoryIntrospectionCache, TokenClient } from '../../src/protocols/oauth/index.js';
import { startProvider, SECRETS, type TestProvider } from '../helpers/oauth-provider.js';

let as: TestProvider;
beforeAll(async () => {
  as = await startProvider();
});
afterAll(async () => {
  await as.close();
});

const tokenHits = (): number => as.hits.get('/token') ?? 0;

describe('TokenClient cache key and bound', () => {
  it('a token obtained for an MFA authentication_context is not reused for a grant without it (nor for another context)', async () => {
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: { method: 'private_key_jwt', clientId: 'svc-pk', privateKey: as.clientKey },
      assertionKey: as.clientKey,
    });
    const mfa = await client.grantUser({ sub: 'dave', scopes: ['read'], authenticationContext: { amr: ['otp'], acr: 'loa3' } });
    const before = tokenHits();
    const plain = await client.grantUser({ sub: 'dave', scopes: ['read'] });
    expect(plain.accessToken).not.toBe(mfa.accessToken);
    const other = await client.grantUser({ sub: 'dave', scopes: ['read'], authenticationContext: { amr: ['pwd'], acr: 'loa1' } });
    expect(other.accessToken).not.toBe(mfa.accessToken);
    expect(tokenHits()).toBe(before + 2);
    // The same context with its members in another order is the same request: served from the cache.
    const again = await client.grantUser({ sub: 'dave', scopes: ['read'], authenticationContext: { acr: 'loa3', amr: ['otp'] } });
    expect(again.accessToken).toBe(mfa.accessToken);
    expect(tokenHits()).toBe(before + 2);
  });

  it('the cache is bounded by maxEntries (least recently used entry dropped)', async () => {
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: 'svc', clientSecret: SECRETS.svc },
      maxEntries: 1,
    });
    const read = await client.grantClient({ scopes: ['read'] });
    const before = tokenHits();
    await client.grantClient({ scopes: ['write'] });
    const readAgain = await client.grantClient({ scopes: ['read'] });
    expect(readAgain.accessToken).not.toBe(read.accessToken);
    expect(tokenHits()).toBe(before + 2);
    expect(
      () =>
        new TokenClient({
          issuer: as.issuer,
          clientAuth: { method: 'client_secret_basic', clientId: 'svc', clientSecret: SECRETS.svc },
          maxEntries: 0,
        }),
    ).toThrow(/maxEntries/);
  });
});

describe('introspection cache key', () => {
  let server: Server;
  let url: string;
  const asked: string[] = [];
  beforeAll(async () => {
    // An authorization server that tells resource server `rs-a` the token is active and `rs-b` it is not.
    server = createServer((req, res) => {
      const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      const client = basic.split(':')[0] ?? '';
      asked.push(`${client} ${req.url ?? ''}`);
      req.resume();
      req.on('end', () => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(client === 'rs-a' ? { active: true, sub: 'alice', scope: 'read' } : { active: false }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("with a shared cache, one resource server never reuses another's positive answer", async () => {
    const cache = new MemoryIntrospectionCache();
    const a = new Introspector({
      endpoint: `${url}/introspect`,
      clientAuth: { method: 'client_secret_basic', clientId: 'rs-a', clientSecret: 'a-secret' },
      cache,
    });
    const b = new Introspector({
      endpoint: `${url}/introspect`,
      clientAuth: { method: 'client_secret_basic', clientId: 'rs-b', clientSecret: 'b-secret' },
      cache,
    });
    asked.length = 0;
    expect((await a.verify('shared-token-1')).subject).toBe('alice');
    await expect(b.verify('shared-token-1')).rejects.toMatchObject({ status: 401, reason: 'inactive' });
    expect(asked).toEqual(['rs-a /introspect', 'rs-b /introspect']);
    // Each keeps its own answer cached.
    expect((await a.verify('shared-token-1')).subject).toBe('alice');
    await expect(b.verify('shared-token-1')).rejects.toMatchObject({ reason: 'inactive' });
    expect(asked).toHaveLength(2);
  });

  it('the same client id at another endpoint is asked again', async () => {
    const cache = new MemoryIntrospectionCache();
    const auth = { method: 'client_secret_basic' as const, clientId: 'rs-a', clientSecret: 'a-secret' };
    asked.length = 0;
    await new Introspector({ endpoint: `${url}/one`, clientAuth: auth, cache }).verify('shared-token-2');
    await new Introspector({ endpoint: `${url}/two`, clientAuth: auth, cache }).verify('shared-token-2');
    expect(asked).toEqual(['rs-a /one', 'rs-a /two']);
  });
});
