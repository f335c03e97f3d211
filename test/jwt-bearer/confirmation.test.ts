/**
 * Confirmation methods (RFC 7800 `cnf`) the access-token schemes cannot check: RFC 8705's
 * `x5t#S256` (certificate-bound tokens) and any method not known yet. jwtBearerScheme,
 * introspectionScheme and apiJwtScheme refuse such a token (401 `cnf_unsupported`) and the refusal
 * ends the chain: a scheme after them on the route that accepts any Bearer token never sees it.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import express from 'express';
import { apiJwtScheme, authenticate, introspectionScheme, jwtBearerScheme, type AuthScheme } from '../../src/index.js';
import { expectRefusal, introspectionStub, listen, type Listening } from '../helpers/http.js';
import { toyScheme } from '../helpers/toy-scheme.js';

const ISS = 'https://issuer.example.test/';
const AUD = 'https://api.example.test';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
function jwt(claims: Record<string, unknown>): string {
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt' })}.${b64({ iss: ISS, aud: AUD, sub: 'alice', client_id: 'app', exp: now() + 300, iat: now() - 5, ...claims })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const CNF: Array<[name: string, cnf: Record<string, unknown>]> = [
  ['x5t#S256 (RFC 8705 mutual TLS)', { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }],
  ['an unknown confirmation method', { 'x-future-pop': { key: 'k1' } }],
  [
    'jkt beside x5t#S256',
    { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I', 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
  ],
  ['an empty cnf', {}],
];

let app: Listening;
let introspection: Listening;
const answers = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  introspection = await introspectionStub(answers);
  const schemes: Record<string, AuthScheme> = {
    jwt: jwtBearerScheme({ issuer: ISS, audience: AUD, publicKeys: [publicKey] }),
    apijwt: apiJwtScheme({ publicKeys: [publicKey], audience: { audience: AUD }, checkAllowedValues: false }),
    introspection: introspectionScheme({
      endpoint: `${introspection.url}/introspect`,
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret-value' },
      timeoutMs: 2000,
    }),
  };
  const e = express();
  for (const [path, scheme] of Object.entries(schemes)) {
    // The fallback accepts any Bearer token at all: whatever reaches it is let in.
    e.get(`/${path}`, authenticate([scheme, toyScheme('anything', 'Bearer')]), (req, res) => {
      res.json(req.principal);
    });
  }
  app = await listen(e);
});

afterAll(async () => {
  await app.close();
  await introspection.close();
});

const call = async (path: string, token: string) => {
  const res = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
};

describe('a cnf the scheme cannot check: refused, and the chain ends', () => {
  it('controls: an unbound token is accepted by each scheme itself', async () => {
    answers.set('opaque-plain', { active: true, sub: 'alice', scope: 'read', exp: now() + 300 });
    for (const [path, token] of [
      ['/jwt', jwt({})],
      ['/apijwt', jwt({})],
      ['/introspection', 'opaque-plain'],
    ] as const) {
      const res = await call(path, token);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ subject: 'alice', scheme: path.slice(1) === 'jwt' ? 'jwt-bearer' : path.slice(1) });
    }
  });

  it.each(CNF)('jwtBearerScheme: a token with cnf %s → 401 cnf_unsupported, not the fallback', async (_name, cnf) => {
    const token = jwt({ cnf });
    const problem = expectRefusal(await call('/jwt', token), 'Bearer', { status: 401, secrets: [token.split('.')[2] ?? ''] });
    expect(problem).toMatchObject({ code: 'token_invalid', reason: 'cnf_unsupported' });
  });

  it.each(CNF)('apiJwtScheme: a token with cnf %s → 401 cnf_unsupported, not the fallback', async (_name, cnf) => {
    const token = jwt({ cnf });
    const problem = expectRefusal(await call('/apijwt', token), 'Bearer', { status: 401, secrets: [token.split('.')[2] ?? ''] });
    expect(problem).toMatchObject({ code: 'token_invalid', reason: 'cnf_unsupported' });
  });

  it('apiJwtScheme refuses a DPoP-bound (cnf.jkt) token too: it cannot receive a proof', async () => {
    const problem = expectRefusal(await call('/apijwt', jwt({ cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } })), 'Bearer', {
      status: 401,
    });
    expect(problem).toMatchObject({ code: 'token_invalid', reason: 'cnf_unsupported' });
  });

  it.each(CNF)('introspectionScheme: an answer with cnf %s → 401 cnf_unsupported, not the fallback', async (name, cnf) => {
    const token = `opaque-${name.replace(/[^a-z0-9]/gi, '')}`;
    answers.set(token, { active: true, sub: 'alice', scope: 'read', exp: now() + 300, cnf });
    const problem = expectRefusal(await call('/introspection', token), 'Bearer', { status: 401 });
    expect(problem).toMatchObject({ code: 'token_invalid', reason: 'cnf_unsupported' });
  });

  it('a token with cnf x5t#S256 presented as DPoP is refused with the DPoP challenge and still ends the chain', async () => {
    const scheme = jwtBearerScheme({ issuer: ISS, audience: AUD, publicKeys: [publicKey] });
    const req = {
      method: 'GET',
      url: '/x',
      headers: { authorization: `DPoP ${jwt({ cnf: CNF[0]?.[1] })}`, host: 'api.example.test' },
      rawHeaders: [],
    };
    await expect(scheme.authenticate(req)).rejects.toMatchObject({
      reason: 'cnf_unsupported',
      endsChain: true,
      challenges: [{ scheme: 'DPoP' }],
    });
  });

  it('introspectionScheme: a token the server calls DPoP-bound, sent as Bearer, ends the chain', async () => {
    answers.set('opaque-dpop-bound', {
      active: true,
      sub: 'alice',
      scope: 'read',
      exp: now() + 300,
      cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' },
    });
    answers.set('opaque-dpop-type', { active: true, sub: 'alice', scope: 'read', exp: now() + 300, token_type: 'DPoP' });
    expect(expectRefusal(await call('/introspection', 'opaque-dpop-bound'), 'DPoP', { status: 401 })).toMatchObject({
      reason: 'dpop_bound',
    });
    expect(expectRefusal(await call('/introspection', 'opaque-dpop-type'), 'Bearer', { status: 401 })).toMatchObject({
      reason: 'claim_invalid',
    });
  });
});
