/**
 * One rule for the `Authorization` header, whatever the scheme (RFC 9110 §11.4, RFC 7235 token68):
 * `<scheme> SP <token68>`, exactly one space, one credential. Two spaces, a credential list
 * (`JWT x, Bearer y` in either order) or a bare scheme word are 400 `request_malformed` for every
 * scheme, through `authenticate()` and when a scheme is called on its own (as a Passport strategy is).
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import {
  ApiJwtIssuer,
  ApiKeyManager,
  MemoryApiKeyStore,
  apiJwtScheme,
  apiKeyScheme,
  asymmetricJwtScheme,
  authenticate,
  createAuthHeader,
  introspectionScheme,
  isAuthError,
  type AuthScheme,
} from '../../src/index.js';

const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;

const jwt = new ApiJwtIssuer({ privateKey: fixture('apijwt/rsa_private.pem'), clock }).issue({
  subject: 'alice',
  extras: { scopes: ['user:all'] },
}).token;
const edPrivate = createPrivateKey(fixture('asymmetric-jwt/keys/ed25519_private.pem'));
const asym = (): string => createAuthHeader({ username: 'svc-client', privateKey: edPrivate, time: NOW }).slice('JWT '.length);
const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32), clock });
let apiKey = '';
let introspection: Server;
let schemes: Record<'apijwt' | 'asymmetric' | 'introspection' | 'apikey', AuthScheme>;
let app: express.Express;

beforeAll(async () => {
  apiKey = (await manager.issue({ owner: 'reporter', scopes: [] })).key;
  introspection = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const active = new URLSearchParams(body).get('token') === 'opaque-good';
      res.end(JSON.stringify(active ? { active: true, sub: 'carol', exp: NOW + 600 } : { active: false }));
    });
  });
  await new Promise<void>((resolve) => introspection.listen(0, '127.0.0.1', resolve));
  schemes = {
    apijwt: apiJwtScheme({ publicKeys: [fixture('apijwt/rsa_public.pem')], clock }),
    asymmetric: asymmetricJwtScheme({
      users: { 'svc-client': { publicKeys: [fixture('asymmetric-jwt/keys/ed25519_public.pem')] } },
      clock,
    }),
    introspection: introspectionScheme({
      endpoint: `http://127.0.0.1:${(introspection.address() as AddressInfo).port}/introspect`,
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret' },
      clock,
    }),
    apikey: apiKeyScheme({ manager }),
  };
  app = express();
  const who = (req: express.Request, res: express.Response): void => {
    res.json({ subject: req.principal?.subject });
  };
  app.get('/all', authenticate([schemes.apijwt, schemes.asymmetric, schemes.introspection, schemes.apikey]), who);
  for (const [name, scheme] of Object.entries(schemes)) app.get(`/${name}`, authenticate([scheme]), who);
});
afterAll(async () => {
  await new Promise<void>((resolve) => introspection.close(() => resolve()));
});

// [scheme route, the scheme word, a fresh valid credential, who it is]
const SCHEMES: ReadonlyArray<[route: keyof typeof schemes, word: string, credential: () => string, subject: string]> = [
  ['apijwt', 'Bearer', () => jwt, 'alice'],
  ['asymmetric', 'JWT', asym, 'svc-client'],
  ['introspection', 'Bearer', () => 'opaque-good', 'carol'],
  ['apikey', 'ApiKey', () => apiKey, 'reporter'],
];

describe.each(SCHEMES)('%s (%s)', (route, word, credential, subject) => {
  it.each(['/all', `/${route}`])('%s: "<scheme> <credential>" with one space authenticates (control)', async (path) => {
    const res = await request(app).get(path).set('Authorization', `${word} ${credential()}`);
    expect([res.status, res.body.subject]).toEqual([200, subject]);
  });

  const malformed: ReadonlyArray<[name: string, header: () => string]> = [
    ['two spaces after the scheme', () => `${word}  ${credential()}`],
    ['the scheme word alone', () => word],
    ['another credential first, comma-separated', () => `JWT x, ${word} ${credential()}`],
    ['another credential after it, comma-separated', () => `${word} ${credential()}, JWT x`],
    ['another credential after it, comma without space', () => `${word} ${credential()},Bearer x`],
    ['two credentials separated by a space', () => `${word} ${credential()} ${credential()}`],
  ];

  it.each(malformed.flatMap(([name, header]) => ['/all', `/${route}`].map((path) => [path, name, header] as const)))(
    '%s: %s → 400 request_malformed',
    async (path, _name, header) => {
      const res = await request(app).get(path).set('Authorization', header());
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('request_malformed');
      expect(res.headers['www-authenticate']).toBeDefined();
    },
  );

  it.each(malformed)('called on its own (as a Passport strategy): %s → 400', async (_name, header) => {
    let thrown: unknown;
    try {
      await schemes[route].authenticate({ headers: { authorization: header() } });
    } catch (error) {
      thrown = error;
    }
    expect(isAuthError(thrown) && thrown.status).toBe(400);
  });
});

describe('the same class of answer whichever credential comes first', () => {
  it.each([
    ['JWT x, Bearer <valid>', (): string => `JWT x, Bearer ${jwt}`],
    ['Bearer <valid>, JWT x', (): string => `Bearer ${jwt}, JWT x`],
    ['ApiKey <valid>, JWT <valid>', (): string => `ApiKey ${apiKey}, JWT ${asym()}`],
    ['JWT <valid>, ApiKey <valid>', (): string => `JWT ${asym()}, ApiKey ${apiKey}`],
  ])('%s → 400 on every route', async (_name, header) => {
    for (const path of ['/all', '/apijwt', '/asymmetric', '/introspection', '/apikey']) {
      const res = await request(app).get(path).set('Authorization', header());
      expect([path, res.status]).toEqual([path, 400]);
    }
  });

  it('an auth-param list of another scheme (Digest) is still not malformed: 401, no credential of ours', async () => {
    const res = await request(app).get('/all').set('Authorization', 'Digest username="x", realm="y"');
    expect([res.status, res.body.code]).toEqual([401, 'credentials_missing']);
  });
});
