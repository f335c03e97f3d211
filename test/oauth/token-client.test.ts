import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { parseCompact, verifyParsed } from '../../src/jwt/compact.js';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';
import { Introspector, MetadataSource, OAuthClientError, TokenClient, type FetchLike } from '../../src/protocols/oauth/index.js';
import { JWT_BEARER, startProvider, SECRETS, type TestProvider } from '../helpers/oauth-provider.js';

let as: TestProvider;
beforeAll(async () => {
  as = await startProvider();
});
afterAll(async () => {
  await as.close();
});

const basic = () => ({ method: 'client_secret_basic' as const, clientId: 'svc', clientSecret: SECRETS.svc });
const tokenHits = () => as.hits.get('/token') ?? 0;
const introspect = (token: string) =>
  new Introspector({
    issuer: as.issuer,
    clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: SECRETS.rs },
    cache: false,
  }).verify(token);

/** Wraps global fetch, recording each request's URL, headers and form. */
function recordingFetch(log: Array<{ url: string; headers: Record<string, string>; form: URLSearchParams }>): FetchLike {
  return async (url, init) => {
    log.push({ url, headers: init.headers, form: new URLSearchParams(init.body ?? '') });
    return fetch(url, init);
  };
}

describe('TokenClient against oidc-provider', () => {
  it('client_credentials with client_secret_basic, discovered from the issuer; the token introspects as active', async () => {
    const client = new TokenClient({ issuer: as.issuer, clientAuth: basic() });
    const token = await client.grantClient({ scopes: ['read'] });
    expect(token).toMatchObject({ tokenType: 'Bearer', scopes: ['read'] });
    expect(token.expiresAt).toBeGreaterThan(Date.now() + 500_000);
    expect((await introspect(token.accessToken)).clientId).toBe('svc');
  });

  it('client_credentials with private_key_jwt: a fresh assertion (jti, kid) each time', async () => {
    const log: Array<{ url: string; headers: Record<string, string>; form: URLSearchParams }> = [];
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: { method: 'private_key_jwt', clientId: 'svc-pk', privateKey: as.clientKey },
      cache: false,
      fetch: recordingFetch(log),
    });
    await client.grantClient({ scopes: ['read'] });
    await client.grantClient({ scopes: ['read'] });
    const assertions = log.filter((l) => l.url.endsWith('/token')).map((l) => parseCompact(l.form.get('client_assertion') ?? ''));
    expect(assertions).toHaveLength(2);
    const [a, b] = assertions;
    expect(a?.header).toEqual({ alg: 'ES256', kid: jwkThumbprint(as.clientKey), typ: 'JWT' });
    expect(a?.payload).toMatchObject({ iss: 'svc-pk', sub: 'svc-pk', aud: as.issuer });
    expect(a?.payload['jti']).not.toBe(b?.payload['jti']);
    verifyParsed(a!, createPublicKey(as.clientKey), ['ES256']);
    expect(
      log
        .filter((l) => l.url.endsWith('/token'))
        .every((l) => l.form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'),
    ).toBe(true);
  });

  it('jwt-bearer grant (RFC 7523): signed assertion with jti and kid; sub, purpose, authorization_id reach introspection', async () => {
    const log: Array<{ url: string; headers: Record<string, string>; form: URLSearchParams }> = [];
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: { method: 'private_key_jwt', clientId: 'svc-pk', privateKey: as.clientKey },
      assertionKey: as.clientKey,
      fetch: recordingFetch(log),
    });
    const token = await client.grantUser({
      sub: 'bob',
      scopes: ['write'],
      purposes: ['fraud-prevention'],
      authorizationId: 'az-1',
      identifier: { id: '+34600000000', type: 'phone_number' },
    });
    expect(token.scopes).toEqual(['write']);
    const sent = log.find((l) => l.form.get('grant_type') === JWT_BEARER);
    const assertion = parseCompact(sent?.form.get('assertion') ?? '');
    expect(assertion.header).toEqual({ alg: 'ES256', kid: jwkThumbprint(as.clientKey), typ: 'JWT' });
    expect(assertion.payload).toMatchObject({
      iss: 'svc-pk',
      sub: 'bob',
      aud: as.issuer,
      scope: 'write',
      purpose: 'fraud-prevention',
      authorization_id: 'az-1',
      identifier: { id: '+34600000000', type: 'phone_number' },
    });
    expect(typeof assertion.payload['jti']).toBe('string');
    expect((assertion.payload['exp'] as number) - (assertion.payload['iat'] as number)).toBe(300);
    expect(assertion.payload['active']).toBeUndefined();
    const verified = await introspect(token.accessToken);
    expect(verified).toMatchObject({ subject: 'bob', clientId: 'svc-pk', scopes: ['write'] });
    expect(verified.claims).toMatchObject({ purpose: 'fraud-prevention', authorization_id: 'az-1' });
  });

  it('baikalCompatible adds active: true to the assertion', async () => {
    const log: Array<{ url: string; headers: Record<string, string>; form: URLSearchParams }> = [];
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: { method: 'private_key_jwt', clientId: 'svc-pk', privateKey: as.clientKey },
      assertionKey: as.clientKey,
      baikalCompatible: true,
      fetch: recordingFetch(log),
    });
    await client.grantUser({ sub: 'carol', scopes: ['read'] });
    const sent = log.find((l) => l.form.get('grant_type') === JWT_BEARER);
    expect(parseCompact(sent?.form.get('assertion') ?? '').payload['active']).toBe(true);
  });

  it('an assertion signed by an unregistered key is refused with a typed invalid_grant error', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: { method: 'private_key_jwt', clientId: 'svc-pk', privateKey: as.clientKey },
      assertionKey: other,
    });
    const err = await client.grantUser({ sub: 'eve' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthClientError);
    expect(err).toMatchObject({ code: 'oauth_error', error: 'invalid_grant', status: 400 });
  });

  it('caches tokens per scope set and shares one request among concurrent callers', async () => {
    const client = new TokenClient({ issuer: as.issuer, clientAuth: basic() });
    await client.grantClient({ scopes: ['read'] }); // discovery + first token
    const before = tokenHits();
    const many = await Promise.all(Array.from({ length: 8 }, () => client.grantClient({ scopes: ['write', 'read'] })));
    expect(new Set(many.map((t) => t.accessToken)).size).toBe(1);
    expect(tokenHits()).toBe(before + 1);
    const again = await client.grantClient({ scopes: ['read', 'write'] }); // same set, other order
    expect(again.accessToken).toBe(many[0]?.accessToken);
    expect(tokenHits()).toBe(before + 1);
  });

  it('refreshes before expiry (600 s token: refreshed 60 s early)', async () => {
    let now = Date.now();
    const client = new TokenClient({ issuer: as.issuer, clientAuth: basic(), clock: () => now });
    const first = await client.grantClient({ scopes: ['read'] });
    now += 530_000;
    expect((await client.grantClient({ scopes: ['read'] })).accessToken).toBe(first.accessToken);
    now += 15_000; // 545 s: inside the last 60 s
    expect((await client.grantClient({ scopes: ['read'] })).accessToken).not.toBe(first.accessToken);
  });

  it('bad client credentials: typed invalid_client error, not cached', async () => {
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: 'svc', clientSecret: 'nope' },
    });
    const before = tokenHits();
    await expect(client.grantClient()).rejects.toMatchObject({ code: 'oauth_error', error: 'invalid_client', status: 401 });
    await expect(client.grantClient()).rejects.toMatchObject({ code: 'oauth_error', error: 'invalid_client' });
    expect(tokenHits()).toBe(before + 2);
  });

  it('sends configured headers on every request', async () => {
    const log: Array<{ url: string; headers: Record<string, string>; form: URLSearchParams }> = [];
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: basic(),
      headers: { 'X-Correlator': 'corr-1' },
      fetch: recordingFetch(log),
    });
    await client.grantClient({ scopes: ['read'], purposes: ['billing'] });
    expect(log.length).toBeGreaterThanOrEqual(2); // discovery + token
    expect(log.every((l) => l.headers['X-Correlator'] === 'corr-1')).toBe(true);
    const form = log.find((l) => l.url.endsWith('/token'))?.form;
    expect(form?.get('purpose')).toBe('billing');
    expect(form?.get('scope')).toBe('read');
  });

  it('the server answering 5xx is a typed unavailable error', async () => {
    const client = new TokenClient({ tokenEndpoint: `${as.issuer}/token`, clientAuth: basic() });
    as.setFailure(502);
    try {
      await expect(client.grantClient()).rejects.toMatchObject({ code: 'unavailable', status: 502 });
    } finally {
      as.setFailure(undefined);
    }
    expect((await client.grantClient({ scopes: ['read'] })).accessToken).toBeTruthy();
  });

  it('discovery serves a stale document while the server is down, up to the stale limit', async () => {
    let now = Date.now();
    const source = new MetadataSource(as.issuer, { clock: () => now, cacheSeconds: 900, staleSeconds: 1200 });
    expect(await source.endpoint('introspection_endpoint')).toBe(`${as.issuer}/token/introspection`);
    as.setFailure(503);
    try {
      now += 1000 * 1000;
      expect((await source.get()).issuer).toBe(as.issuer);
      now += 300 * 1000;
      await expect(source.get()).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      as.setFailure(undefined);
    }
  });
});

describe('TokenClient against a small in-test server', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.statusCode = 404;
        res.end('{}');
      } else if (req.url === '/.well-known/oauth-authorization-server/tenant') {
        res.end(JSON.stringify({ issuer: `${base}/tenant`, token_endpoint: `${base}/tenant/token` }));
      } else if (req.url === '/tenant/token') {
        res.end(JSON.stringify({ access_token: 'at-1', token_type: 'Bearer', expires_in: 60 }));
      } else if (req.url === '/slow') {
        // never answers
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('falls back to RFC 8414 metadata (well-known segment before the issuer path)', async () => {
    const client = new TokenClient({ issuer: `${base}/tenant`, clientAuth: basic() });
    const token = await client.grantClient();
    expect(token.accessToken).toBe('at-1');
    expect(seen).toContain('/tenant/.well-known/openid-configuration');
    expect(seen).toContain('/.well-known/oauth-authorization-server/tenant');
  });

  it('times out per request: unavailable within 2 s', async () => {
    const client = new TokenClient({ tokenEndpoint: `${base}/slow`, clientAuth: basic(), timeoutMs: 200 });
    const started = Date.now();
    await expect(client.grantClient()).rejects.toMatchObject({ code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('rejects bad configuration early', () => {
    expect(() => new TokenClient({ clientAuth: basic() })).toThrow(
      'new TokenClient(): "tokenEndpoint" or "issuer" is required (the endpoint, or the issuer to discover it from)',
    );
    expect(() => new TokenClient({ issuer: base, clientAuth: basic(), assertionLifetimeSeconds: 7200 })).toThrow(
      'new TokenClient(): "assertionLifetimeSeconds" must be a finite number from 1 to 3600 (got 7200)',
    );
    expect(() => new TokenClient({ issuer: base, clientAuth: { ...basic(), clientSecret: '' } })).toThrow(
      'new TokenClient(): "clientAuth.clientSecret" must be a non-empty string',
    );
  });
});
