/**
 * Several issuers on one jwtBearerScheme: `sub` is unique per issuer only (OpenID Connect Core §2,
 * RFC 9068 §2.2). Tenant B's provider minting `sub: "alice"` must not be tenant A's alice: the
 * default subject is issuer-qualified, `requireSubject` matches (issuer, subject) pairs, and each
 * issuer may be limited to the scopes it can grant (`allowedScopes`).
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import express from 'express';
import {
  authenticate,
  bruteForce,
  introspectionScheme,
  issuerSubject,
  jwtBearerScheme,
  requireScopes,
  requireSubject,
  type JwtBearerSchemeOptions,
} from '../../src/index.js';
import { expectRefusal, listen, type Listening } from '../helpers/http.js';

const A = 'https://tenant-a.example.test/';
const B = 'https://tenant-b.example.test/';
const AUD = 'https://api.example.test';
const keyA = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyB = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
function token(iss: string, key: KeyObject, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt' })}.${b64({ iss, aud: AUD, sub: 'alice', client_id: 'app', exp: now + 300, iat: now, scope: 'read admin', ...claims })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}
const aliceA = token(A, keyA.privateKey);
const aliceB = token(B, keyB.privateKey);

let app: Listening;
let introspection: Listening;
beforeAll(async () => {
  // An introspection endpoint whose answers name the issuer given in the token: `<base64url(iss)>.<sub>`.
  introspection = await listen((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const [iss, sub] = (new URLSearchParams(body).get('token') ?? '').split('.');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          active: true,
          iss: Buffer.from(iss ?? '', 'base64url').toString(),
          sub,
          scope: 'read',
          exp: Math.floor(Date.now() / 1000) + 300,
        }),
      );
    });
  });
  const clientAuth = { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret-value' } as const;
  const endpoint = `${introspection.url}/introspect`;
  const tenants = jwtBearerScheme({
    issuers: [
      { issuer: A, audience: AUD, publicKeys: [keyA.publicKey] },
      { issuer: B, audience: AUD, publicKeys: [keyB.publicKey], allowedScopes: ['read'] },
    ],
  });
  const single = jwtBearerScheme({ issuer: A, audience: AUD, publicKeys: [keyA.publicKey] });
  const e = express();
  const ok = (req: express.Request, res: express.Response): void => {
    res.json(req.principal);
  };
  e.get('/me', authenticate([tenants]), ok);
  e.get('/alice', authenticate([tenants]), requireSubject('alice'), ok);
  e.get('/alice-of-a', authenticate([tenants]), requireSubject({ issuer: A, subject: 'alice' }), ok);
  e.get('/admin', authenticate([tenants]), requireScopes('admin'), ok);
  e.get('/single/alice-of-a', authenticate([single]), requireSubject({ issuer: A, subject: 'alice' }), ok);
  e.get('/single/alice', authenticate([single]), requireSubject('alice'), ok);
  const unpinned = introspectionScheme({ endpoint, clientAuth, cache: false });
  const pinned = introspectionScheme({ endpoint, issuer: A, clientAuth, cache: false });
  e.get('/introspected/me', authenticate([unpinned]), ok);
  e.get('/introspected/alice', authenticate([unpinned]), requireSubject('alice'), ok);
  e.get('/introspected/alice-of-b', authenticate([unpinned]), requireSubject({ issuer: B, subject: 'alice' }), ok);
  e.get('/introspected/pinned', authenticate([pinned]), ok);
  app = await listen(e);
});
afterAll(async () => {
  await app.close();
  await introspection.close();
});

const call = async (path: string, tok: string) => {
  const res = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${tok}` } });
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
};

describe('several issuers: the subject is (issuer, sub)', () => {
  it('the default principal of each tenant names its issuer: two alices are two subjects', async () => {
    const a = JSON.parse((await call('/me', aliceA)).text) as { subject: string; details: { issuer: string } };
    const b = JSON.parse((await call('/me', aliceB)).text) as { subject: string; details: { issuer: string } };
    expect(a).toMatchObject({ subject: `${A}#alice`, details: { issuer: A } });
    expect(b).toMatchObject({ subject: `${B}#alice`, details: { issuer: B } });
    expect(issuerSubject(A, 'alice')).toBe(a.subject);
  });

  it("requireSubject({ issuer, subject }) admits tenant A's alice only; tenant B's alice is 403", async () => {
    expect((await call('/alice-of-a', aliceA)).status).toBe(200);
    expect(expectRefusal(await call('/alice-of-a', aliceB), 'Bearer', { status: 403 }).code).toBe('forbidden');
  });

  it('a bare requireSubject("alice") on a several-issuer route admits neither (it cannot say which alice)', async () => {
    expect(expectRefusal(await call('/alice', aliceA), 'Bearer', { status: 403 }).code).toBe('forbidden');
    expect(expectRefusal(await call('/alice', aliceB), 'Bearer', { status: 403 }).code).toBe('forbidden');
  });

  it('allowedScopes: tenant B may grant read only; its admin scope is not granted', async () => {
    expect((await call('/admin', aliceA)).status).toBe(200);
    expect(expectRefusal(await call('/admin', aliceB), 'Bearer', { status: 403 }).code).toBe('insufficient_scope');
    expect(JSON.parse((await call('/me', aliceB)).text)).toMatchObject({ scopes: ['read'] });
  });

  it('controls: one issuer keeps the bare subject, and the pair matches it too', async () => {
    expect(JSON.parse((await call('/single/alice', aliceA)).text)).toMatchObject({ subject: 'alice' });
    expect((await call('/single/alice-of-a', aliceA)).status).toBe(200);
  });

  it('configuration: a "#" in an issuer of several, or a bad allowedScopes, is refused at construction', () => {
    expect(() =>
      jwtBearerScheme({
        issuers: [
          { issuer: `${A}#x`, audience: AUD, publicKeys: [keyA.publicKey] },
          { issuer: B, audience: AUD, publicKeys: [keyB.publicKey] },
        ],
      }),
    ).toThrow('must be an issuer without "#"');
    expect(() =>
      jwtBearerScheme({ issuer: A, audience: AUD, publicKeys: [keyA.publicKey], allowedScopes: 'read' as unknown as string[] }),
    ).toThrow('"allowedScopes"');
    expect(() => requireSubject({ issuer: A, subject: '' })).toThrow('requireSubject(): "subjects[0]"');
  });
});

describe('introspection answers not pinned to one issuer: the subject is (iss, sub) too', () => {
  const opaque = (iss: string): string => `${Buffer.from(iss).toString('base64url')}.alice`;
  it('without "issuer" the default subject names the answer\'s iss; a bare requireSubject("alice") admits no one', async () => {
    const res = await call('/introspected/me', opaque(B));
    expect(JSON.parse(res.text)).toMatchObject({ subject: issuerSubject(B, 'alice'), details: { issuer: B } });
    expect(expectRefusal(await call('/introspected/alice', opaque(B)), 'Bearer', { status: 403 }).code).toBe('forbidden');
    expect((await call('/introspected/alice-of-b', opaque(B))).status).toBe(200);
    expect(expectRefusal(await call('/introspected/alice-of-b', opaque(A)), 'Bearer', { status: 403 }).code).toBe('forbidden');
  });

  it('control: with "issuer" set (and checked) the subject stays the bare sub', async () => {
    expect(JSON.parse((await call('/introspected/pinned', opaque(A))).text)).toMatchObject({ subject: 'alice' });
  });
});

describe('several issuers through several schemes on one route', () => {
  const single = (issuer: string, key: KeyObject, name: string, extra: Partial<JwtBearerSchemeOptions> = {}) =>
    jwtBearerScheme({ name, issuer, audience: AUD, publicKeys: [key], validate: false, ...extra });

  it("two single-issuer jwtBearerSchemes of different issuers on one authenticate() are refused at construction (tenant B's alice would be tenant A's)", () => {
    expect(() => authenticate([single(A, keyA.publicKey, 'a'), single(B, keyB.publicKey, 'b')])).toThrow(/authenticate\(\).*issuers/);
  });

  it('so is a single-issuer jwtBearerScheme beside an introspectionScheme pinned to another issuer', () => {
    const introspect = introspectionScheme({
      issuer: B,
      endpoint: 'http://127.0.0.1:1/introspect',
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret-value' },
    });
    expect(() => authenticate([single(A, keyA.publicKey, 'a'), introspect])).toThrow(/authenticate\(\).*issuers/);
  });

  it('behind bruteForce().protect() too: the guarded schemes keep their issuers', () => {
    const guard = bruteForce({ maxFailures: 5 });
    expect(() => authenticate([guard.protect(single(A, keyA.publicKey, 'a')), guard.protect(single(B, keyB.publicKey, 'b'))])).toThrow(
      /authenticate\(\).*issuers/,
    );
    expect(() => authenticate([guard.protect(single(A, keyA.publicKey, 'a'))])).not.toThrow();
  });

  it('so is a single-issuer jwtBearerScheme beside one with several issuers (its bare sub could be "<A>#alice"); two qualified schemes build', () => {
    const C = 'https://tenant-c.example.test/';
    const both = jwtBearerScheme({
      name: 'ab',
      issuers: [
        { issuer: A, audience: AUD, publicKeys: [keyA.publicKey] },
        { issuer: B, audience: AUD, publicKeys: [keyB.publicKey] },
      ],
      validate: false,
    });
    expect(() => authenticate([both, single(C, keyB.publicKey, 'c')])).toThrow(/authenticate\(\).*issuers/);
    const unpinned = introspectionScheme({
      endpoint: 'http://127.0.0.1:1/introspect',
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret-value' },
    });
    expect(() => authenticate([both, unpinned])).not.toThrow();
  });

  it("controls: two schemes of one issuer, or a mapPrincipal of one's own, build; B's alice stays apart from A's", async () => {
    expect(() =>
      authenticate([single(A, keyA.publicKey, 'a'), single(A, keyA.publicKey, 'a2', { audience: 'https://other.example.test' })]),
    ).not.toThrow();
    const mapped = single(B, keyB.publicKey, 'b', {
      mapPrincipal: (t) => ({ subject: issuerSubject(B, t.subject ?? ''), kind: 'user' as const, scheme: 'jwt-bearer' as const }),
    });
    const app2 = express();
    app2.get('/r', authenticate([single(A, keyA.publicKey, 'a'), mapped]), requireSubject('alice'), (req, res) => {
      res.json(req.principal);
    });
    const served = await listen(app2);
    try {
      expect((await fetch(`${served.url}/r`, { headers: { authorization: `Bearer ${aliceA}` } })).status).toBe(200);
      expect((await fetch(`${served.url}/r`, { headers: { authorization: `Bearer ${aliceB}` } })).status).toBe(403);
    } finally {
      await served.close();
    }
  });
});
