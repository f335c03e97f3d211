/**
 * Verified-token caches (jwtBearerScheme, apiJwtScheme) against a key removed from the JWKS, the
 * response to a key compromise: once the key set without the key has been fetched — because it went
 * stale, or because an unknown `kid` asked for it — the tokens that key signed are refused, cached or
 * not. Also jwtBearerScheme's `isRevoked`, asked on every request including cache hits.
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import express from 'express';
import { apiJwtScheme, authenticate, jwtBearerScheme, type AuthScheme } from '../../src/index.js';
import { expectRefusal, listen, type Listening } from '../helpers/http.js';

const ISS = 'https://issuer.example.test/';
const AUD = 'https://api.example.test';
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const pair = (): { privateKey: KeyObject; publicKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const compromised = pair();
const next = pair();

let nowMs = Date.now();
const clock = (): number => nowMs;
let served: Array<[kid: string, key: KeyObject]> = [];
let jwks: Listening;
let app: Listening;
let fetches = 0;
const revoked = new Set<string>();

function token(kid: string, key: KeyObject, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(nowMs / 1000);
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid })}.${b64({ iss: ISS, aud: AUD, sub: 'alice', client_id: 'app', exp: now + 3600, iat: now, jti: randomUUID(), ...claims })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

beforeAll(async () => {
  jwks = await listen((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: served.map(([kid, key]) => ({ ...key.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' })) }));
  });
  const jwksUri = `${jwks.url}/jwks`;
  const settings = { cacheSeconds: 60, cooldownMs: 0 };
  const schemes: Record<string, AuthScheme> = {
    jwt: jwtBearerScheme({ issuer: ISS, audience: AUD, jwksUri, jwks: settings, clock }),
    apijwt: apiJwtScheme({
      jwksUri: jwksUri,
      jwks: settings,
      audience: { audience: AUD },
      checkAllowedValues: false,
      clock,
      algorithms: ['ES256'],
    }),
    revocable: jwtBearerScheme({
      issuer: ISS,
      audience: AUD,
      jwksUri,
      jwks: settings,
      clock,
      isRevoked: (t) => revoked.has(String(t.claims['jti'])),
    }),
  };
  const e = express();
  for (const [path, scheme] of Object.entries(schemes)) {
    e.get(`/${path}`, authenticate([scheme]), (req, res) => {
      res.json(req.principal);
    });
  }
  app = await listen(e);
});

afterAll(async () => {
  await app.close();
  await jwks.close();
});

beforeEach(() => {
  served = [
    ['k-old', compromised.publicKey],
    ['k-new', next.publicKey],
  ];
});

const call = async (path: string, tok: string) => {
  const res = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${tok}` } });
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
};

/** Three accepted presentations: the token is in the verified-token cache after the second. */
async function cached(path: string, tok: string): Promise<void> {
  for (let i = 0; i < 3; i++) expect((await call(path, tok)).status).toBe(200);
}

describe.each(['jwt', 'apijwt'])('%s: a key removed from the JWKS takes its cached tokens with it', (scheme) => {
  const path = `/${scheme}`;

  it("once the set is stale, a cache hit fetches it again and the removed key's token is refused", async () => {
    const stolen = token('k-old', compromised.privateKey);
    await cached(path, stolen);
    served = [['k-new', next.publicKey]];
    expect((await call(path, stolen)).status).toBe(200); // the set is still fresh: nothing was fetched
    nowMs += 61_000;
    const before = fetches;
    const problem = expectRefusal(await call(path, stolen), 'Bearer', { status: 401, secrets: [stolen.split('.')[2] ?? ''] });
    expect(problem.code).toBe('token_invalid');
    expect(fetches).toBeGreaterThan(before);
    // A token of the key that stayed is unaffected.
    await cached(path, token('k-new', next.privateKey));
  });

  it('a fetch caused by a new kid drops the cached tokens of the keys that left', async () => {
    const stolen = token('k-old', compromised.privateKey);
    await cached(path, stolen);
    const rotated = pair();
    served = [
      ['k-new', next.publicKey],
      ['k-rotated', rotated.publicKey],
    ];
    expect((await call(path, token('k-rotated', rotated.privateKey))).status).toBe(200);
    expect(expectRefusal(await call(path, stolen), 'Bearer', { status: 401 }).code).toBe('token_invalid');
  });

  it('a key replaced under the same kid no longer vouches for the tokens of the old key', async () => {
    const stolen = token('k-old', compromised.privateKey);
    await cached(path, stolen);
    served = [
      ['k-old', pair().publicKey],
      ['k-new', next.publicKey],
    ];
    nowMs += 61_000;
    expect(expectRefusal(await call(path, stolen), 'Bearer', { status: 401 }).code).toBe('token_invalid');
  });
});

describe('jwtBearerScheme isRevoked', () => {
  it('is asked on every request, cache hits included: a revoked token is 401 revoked', async () => {
    const tok = token('k-new', next.privateKey);
    await cached('/revocable', tok);
    revoked.add(JSON.parse(Buffer.from(tok.split('.')[1] ?? '', 'base64url').toString()).jti as string);
    expect(expectRefusal(await call('/revocable', tok), 'Bearer', { status: 401 })).toMatchObject({
      code: 'token_invalid',
      reason: 'revoked',
    });
    expect((await call('/revocable', token('k-new', next.privateKey))).status).toBe(200);
  });

  it('a function is required', () => {
    expect(() =>
      jwtBearerScheme({ issuer: ISS, audience: AUD, publicKeys: [next.publicKey], isRevoked: 'yes' as unknown as () => boolean }),
    ).toThrow('jwtBearerScheme(): "isRevoked" must be a function');
  });
});
