/**
 * jwtBearerScheme and DPoP against a real oidc-provider on loopback: RFC 9068 JWT access tokens by
 * resource indicator, client_credentials and a user grant (CIBA, then refresh_token), DPoP-bound
 * tokens from the token client, introspected DPoP tokens, key rotation on the provider, JWKS outage,
 * and several issuers on one route.
 */
import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import {
  authenticate,
  createDpopFetch,
  createDpopProof,
  dpopKey,
  introspectionScheme,
  jwtBearerScheme,
  requireScopes,
  TokenClient,
  type DpopKey,
  type JwtBearerSchemeOptions,
} from '../../src/index.js';
import { expectRefusal, listen, type Listening } from '../helpers/http.js';
import { API, CIBA_GRANT, OPAQUE_API, SECRET, startJwtProvider, type JwtProvider } from './provider.js';

let as: JwtProvider;
let other: JwtProvider;
let api: Listening;
let offsetMs = 0;
const clock = (): number => Date.now() + offsetMs;
const key: DpopKey = dpopKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);

const basic = (id: string): string => `Basic ${Buffer.from(`${id}:${SECRET}`).toString('base64')}`;
async function tokenRequest(p: JwtProvider, client: string, form: Record<string, string>, dpop?: DpopKey): Promise<Record<string, string>> {
  const headers: Record<string, string> = { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' };
  if (dpop) headers['dpop'] = createDpopProof(dpop, { method: 'POST', url: `${p.issuer}/token` });
  const res = await fetch(`${p.issuer}${form['grant_type'] === undefined ? '/backchannel' : '/token'}`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form).toString(),
  });
  const body = (await res.json()) as Record<string, string>;
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body;
}
const clientToken = async (p = as, dpop?: DpopKey, scope = 'read'): Promise<string> =>
  (await tokenRequest(p, dpop ? 'svc-dpop' : 'svc', { grant_type: 'client_credentials', resource: API, scope }, dpop))[
    'access_token'
  ] as string;
const get = (path: string, headers: Record<string, string>): Promise<Response> => fetch(`${api.url}${path}`, { headers });
async function asProblem(res: Response): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
}

beforeAll(async () => {
  [as, other] = await Promise.all([startJwtProvider(), startJwtProvider()]);
  const common: Partial<JwtBearerSchemeOptions> = { audience: API, clock, jwks: { cooldownMs: 30_000 } };
  const app = express();
  const handler = (req: express.Request, res: express.Response): void => {
    res.json(req.principal);
  };
  // Discovery from the issuer URL only (the zero-configuration path).
  app.get('/orders', authenticate([jwtBearerScheme({ issuer: as.issuer, ...common })]), requireScopes('read'), handler);
  app.get(
    '/strict',
    authenticate([jwtBearerScheme({ issuer: as.issuer, ...common, profile: 'rfc9068', dpop: { mode: 'required' } })]),
    handler,
  );
  app.get(
    '/tenants',
    authenticate([
      jwtBearerScheme({
        clock,
        issuers: [
          { issuer: as.issuer, audience: API },
          { issuer: other.issuer, audience: [OPAQUE_API, API], jwksUri: `${other.issuer}/jwks` },
        ],
      }),
    ]),
    handler,
  );
  app.get(
    '/tenant-audience',
    authenticate([
      jwtBearerScheme({
        clock,
        issuers: [
          { issuer: as.issuer, audience: API },
          { issuer: other.issuer, audience: 'https://elsewhere.example.test' },
        ],
      }),
    ]),
    handler,
  );
  const introspection = introspectionScheme({
    issuer: as.issuer,
    clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: SECRET },
    cache: false,
    dpop: { mode: 'allowed' },
  });
  app.get('/opaque', authenticate([introspection]), handler);
  api = await listen(app);
});

afterAll(async () => {
  await api.close();
  await Promise.all([as.close(), other.close()]);
});

describe('RFC 9068 JWT access tokens from oidc-provider', () => {
  it('client_credentials: the issuer URL alone finds the keys by discovery; a service principal with the token scopes', async () => {
    const res = await get('/orders', { authorization: `Bearer ${await clientToken()}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      subject: 'svc',
      kind: 'service',
      scheme: 'jwt-bearer',
      scopes: ['read'],
      details: { issuer: as.issuer, clientId: 'svc', keyId: as.kid },
    });
    expect(as.hits.get('/.well-known/openid-configuration')).toBe(1);
  });

  it('a token for another resource (opaque API) or without the scope is refused: 401 audience / 403 insufficient_scope', async () => {
    const opaque = (await tokenRequest(as, 'svc', { grant_type: 'client_credentials', resource: OPAQUE_API, scope: 'read' }))[
      'access_token'
    ] as string;
    expectRefusal(await asProblem(await get('/orders', { authorization: `Bearer ${opaque}` })), 'Bearer', { status: 401 });
    const write = await clientToken(as, undefined, 'write');
    const problem = expectRefusal(await asProblem(await get('/orders', { authorization: `Bearer ${write}` })), 'Bearer', { status: 403 });
    expect(problem.code).toBe('insufficient_scope');
  });

  it('user grant (CIBA, then refresh_token) with DPoP: a user principal bound to the key; the same token as Bearer is refused', async () => {
    const started = await tokenRequest(as, 'device-app', { scope: 'openid offline_access read', login_hint: 'alice', resource: API });
    await as.approve(started['auth_req_id'] as string, 'alice');
    const issued = await tokenRequest(as, 'device-app', { grant_type: CIBA_GRANT, auth_req_id: started['auth_req_id'] as string }, key);
    expect(issued['token_type']).toBe('DPoP');
    const dpopFetch = createDpopFetch({ key, accessToken: issued['access_token'] as string });
    const ok = await dpopFetch(`${api.url}/orders?page=2`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      subject: 'alice',
      kind: 'user',
      scopes: ['read'],
      details: { clientId: 'device-app', jkt: key.jkt },
    });
    const asBearer = expectRefusal(await asProblem(await get('/orders', { authorization: `Bearer ${issued['access_token']}` })), 'DPoP', {
      status: 401,
    });
    expect(asBearer).toMatchObject({ code: 'token_invalid', reason: 'dpop_bound' });
    const refreshed = await tokenRequest(
      as,
      'device-app',
      { grant_type: 'refresh_token', refresh_token: issued['refresh_token'] as string },
      key,
    );
    expect(refreshed['access_token']).not.toBe(issued['access_token']);
    const again = await createDpopFetch({ key, accessToken: refreshed['access_token'] as string })(`${api.url}/strict`);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ subject: 'alice', kind: 'user' });
  });

  it('TokenClient asks for DPoP-bound tokens with a resource indicator; createDpopFetch calls the API with them', async () => {
    const client = new TokenClient({
      issuer: as.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: 'svc-dpop', clientSecret: SECRET },
      dpopKey: key,
    });
    const token = await client.grantClient({ scopes: ['read', 'write'], resource: API });
    expect(token.tokenType).toBe('DPoP');
    expect(client.dpopJkt).toBe(key.jkt);
    const call = createDpopFetch({
      key,
      accessToken: async () => (await client.grantClient({ scopes: ['read', 'write'], resource: API })).accessToken,
    });
    const res = await call(`${api.url}/strict`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ subject: 'svc-dpop', kind: 'service', scopes: ['read', 'write'], details: { jkt: key.jkt } });
  });

  it('dpop mode required: a plain Bearer token is refused with a DPoP challenge; profile rfc9068 accepts the provider tokens', async () => {
    const res = await asProblem(await get('/strict', { authorization: `Bearer ${await clientToken()}` }));
    expect(expectRefusal(res, 'DPoP', { status: 401 }).reason).toBe('dpop_required');
    expect(res.headers['www-authenticate']).toMatch(/^DPoP algs="ES256 ES384 EdDSA PS256/);
    const missing = await asProblem(await get('/strict', {}));
    expect(missing.headers['www-authenticate']).toMatch(/^DPoP algs=/);
  });

  it("introspectionScheme with DPoP: the answer's cnf.jkt binds an opaque token to the proof key; as Bearer it is refused", async () => {
    const opaque = (await tokenRequest(as, 'svc-dpop', { grant_type: 'client_credentials', resource: OPAQUE_API, scope: 'read' }, key))[
      'access_token'
    ] as string;
    const ok = await createDpopFetch({ key, accessToken: opaque })(`${api.url}/opaque`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ subject: 'svc-dpop', scheme: 'introspection' });
    const bearer = expectRefusal(await asProblem(await get('/opaque', { authorization: `Bearer ${opaque}` })), 'DPoP', { status: 401 });
    expect(bearer.reason).toBe('dpop_bound');
    const intruder = dpopKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const stolen = await asProblem(await createDpopFetch({ key: intruder, accessToken: opaque })(`${api.url}/opaque`));
    expect(expectRefusal(stolen, 'DPoP', { status: 401 })).toMatchObject({ code: 'token_invalid', reason: 'jkt' });
  });
});

describe('several issuers on one route', () => {
  it('each issuer is verified with its own keys; a token of an unlisted audience for one issuer is refused', async () => {
    for (const p of [as, other]) {
      const res = await get('/tenants', { authorization: `Bearer ${await clientToken(p)}` });
      expect([res.status, ((await res.json()) as { details: { issuer: string } }).details.issuer]).toEqual([200, p.issuer]);
    }
    const refused = expectRefusal(
      await asProblem(await get('/tenant-audience', { authorization: `Bearer ${await clientToken(other)}` })),
      'Bearer',
      { status: 401 },
    );
    expect(refused.reason).toBe('audience_invalid');
    expect((await get('/tenant-audience', { authorization: `Bearer ${await clientToken(as)}` })).status).toBe(200);
  });
});

describe('key rotation on the provider', () => {
  it('a new kid triggers one JWKS refresh; unknown kids within the cooldown do not; old tokens keep working', async () => {
    const old = await clientToken();
    expect((await get('/orders', { authorization: `Bearer ${old}` })).status).toBe(200);
    offsetMs += 31_000; // past the cooldown of the first fetch
    as.rotate();
    const rotated = await clientToken();
    const before = as.hits.get('/jwks') ?? 0;
    expect((await get('/orders', { authorization: `Bearer ${rotated}` })).status).toBe(200);
    expect(as.hits.get('/jwks')).toBe(before + 1);
    // Forged kids (signed by nobody we know): refused, and no download per request.
    const [h, p, s] = rotated.split('.') as [string, string, string];
    for (let i = 0; i < 5; i++) {
      const header = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), kid: `forged-${i}` })).toString(
        'base64url',
      );
      expectRefusal(await asProblem(await get('/orders', { authorization: `Bearer ${header}.${p}.${s}` })), 'Bearer', { status: 401 });
    }
    expect(as.hits.get('/jwks')).toBe(before + 1);
    expect((await get('/orders', { authorization: `Bearer ${old}` })).status).toBe(200);
  });

  it('JWKS endpoint down: cached keys keep verifying, a token with a new kid gets 503 with Retry-After', async () => {
    offsetMs += 31_000;
    as.rotate();
    const cachedKid = await clientToken(); // signed by the newest key, not yet seen by the API
    as.rotate(); // the key of `cachedKid` is now second; fetch it once while the provider is up
    const known = await clientToken();
    offsetMs += 31_000;
    expect((await get('/orders', { authorization: `Bearer ${known}` })).status).toBe(200);
    expect((await get('/orders', { authorization: `Bearer ${cachedKid}` })).status).toBe(200);
    offsetMs += 31_000;
    as.rotate();
    const unseen = await clientToken();
    as.setFailure(500);
    try {
      expect((await get('/orders', { authorization: `Bearer ${known}` })).status).toBe(200);
      const down = await get('/orders', { authorization: `Bearer ${unseen}` });
      expect(down.status).toBe(503);
      expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await down.json()) as { code: string }).code).toBe('dependency_unavailable');
    } finally {
      as.setFailure(undefined);
    }
    offsetMs += 31_000;
    expect((await get('/orders', { authorization: `Bearer ${unseen}` })).status).toBe(200);
  });
});
