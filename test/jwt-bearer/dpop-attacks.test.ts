/**
 * DPoP attacks (RFC 9449 §11) against jwtBearerScheme, with DPoP-bound tokens issued by a real
 * oidc-provider: every forged, stolen, replayed or misdirected proof is a 401 problem+json with a
 * `DPoP error="invalid_dpop_proof"` (or `invalid_token`) challenge; the controls prove the same route
 * accepts the honest request. Replay is also refused across two app instances sharing Redis, and the
 * server nonce (`use_dpop_nonce`) round-trips with createDpopFetch.
 */
import { createHmac, generateKeyPairSync, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import express from 'express';
import { Redis } from 'ioredis';
import {
  apiJwtScheme,
  authenticate,
  createDpopFetch,
  createDpopProof,
  dpopKey,
  HmacDpopNonces,
  jwtBearerScheme,
  accessTokenHash,
  type DpopKey,
} from '../../src/index.js';
import { RedisReplayStore } from '../../src/redis.js';
import { MemoryReplayStore } from '../../src/index.js';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { verifyDpopProof } from '../../src/index.js';
import { headerLine, rawGet } from '../helpers/http.js';
import { expectRefusal, listen, type Listening } from '../helpers/http.js';
import { API, SECRET, startJwtProvider, type JwtProvider } from './provider.js';
import { redisUrl } from '../helpers/services.js';

let as: JwtProvider;
let api: Listening;
let redis: Redis;
const PREFIX = `authnz-test:dpop-attacks:${process.pid}:${Date.now()}:`;
const holder: DpopKey = dpopKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const thief: DpopKey = dpopKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
let bound = '';
let otherBound = '';
let plain = '';

async function token(client: string, dpop?: DpopKey): Promise<string> {
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${client}:${SECRET}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  };
  if (dpop) headers['dpop'] = createDpopProof(dpop, { method: 'POST', url: `${as.issuer}/token` });
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, scope: 'read' }).toString(),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A proof with any header and claims, signed by `key` (ES256 unless `alg` says otherwise). */
function proof(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject = holder.key, alg = 'ES256'): string {
  const input = `${b64({ typ: 'dpop+jwt', alg, jwk: holder.jwk, ...header })}.${b64(claims)}`;
  const sig =
    alg === 'HS256'
      ? createHmac('sha256', 'secret').update(input).digest()
      : cryptoSign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(input), alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${sig.toString('base64url')}`;
}
const claims = (extra: Record<string, unknown> = {}, path = '/r'): Record<string, unknown> => ({
  jti: randomUUID(),
  htm: 'GET',
  htu: `${api.url}${path}`,
  iat: Math.floor(Date.now() / 1000),
  ath: accessTokenHash(bound),
  ...extra,
});
const call = async (path: string, headers: Record<string, string | string[]>, method = 'GET') => {
  const h = new Headers();
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
  const res = await fetch(`${api.url}${path}`, { method, headers: h });
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
};
const dpopCall = (p: string, path = '/r', tok = bound, method = 'GET') => call(path, { authorization: `DPoP ${tok}`, dpop: p }, method);

beforeAll(async () => {
  as = await startJwtProvider();
  redis = new Redis(redisUrl());
  [bound, otherBound, plain] = await Promise.all([token('svc-dpop', holder), token('svc-dpop', thief), token('svc')]);
  const app = express();
  const ok = (req: express.Request, res: express.Response): void => {
    res.json(req.principal);
  };
  const scheme = jwtBearerScheme({ issuer: as.issuer, audience: API });
  app.get('/r', authenticate([scheme]), ok);
  app.post('/r', authenticate([scheme]), ok);
  // Two instances of one API behind a balancer: separate schemes, one Redis replay store.
  const store = new RedisReplayStore(redis, { keyPrefix: PREFIX });
  app.get('/a', authenticate([jwtBearerScheme({ issuer: as.issuer, audience: API, dpop: { replayStore: store } })]), ok);
  app.get(
    '/b',
    authenticate([
      jwtBearerScheme({
        issuer: as.issuer,
        audience: API,
        dpop: { replayStore: store, url: (req) => `${api.url}/a${(req.url ?? '').slice(2)}` },
      }),
    ]),
    ok,
  );
  app.get(
    '/nonce',
    authenticate([
      jwtBearerScheme({
        issuer: as.issuer,
        audience: API,
        dpop: { mode: 'required', nonces: new HmacDpopNonces({ secret: 'n'.repeat(32) }) },
      }),
    ]),
    ok,
  );
  api = await listen(app);
});

afterAll(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await api.close();
  await as.close();
});

describe('DPoP attack table (tokens bound by oidc-provider)', () => {
  it('controls: an honest proof is accepted, on GET and POST', async () => {
    const res = await dpopCall(proof({}, claims()));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ subject: 'svc-dpop', details: { jkt: holder.jkt } });
    expect((await dpopCall(proof({}, claims({ htm: 'POST' })), '/r', bound, 'POST')).status).toBe(200);
  });

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed = generateKeyPairSync('ed25519');
  const cases: Array<[name: string, make: () => { proof: string; token?: string; path?: string }, reason: string]> = [
    ['proof for another method (POST proof on GET)', () => ({ proof: proof({}, claims({ htm: 'POST' })) }), 'htm'],
    ['proof with a lower-case method', () => ({ proof: proof({}, claims({ htm: 'get' })) }), 'htm'],
    ['proof for another path', () => ({ proof: proof({}, claims({}, '/admin')) }), 'htu'],
    ['proof for another host', () => ({ proof: proof({}, claims({ htu: `http://evil.example${'/r'}` })) }), 'htu'],
    ['proof for another scheme (https)', () => ({ proof: proof({}, claims({ htu: api.url.replace('http:', 'https:') + '/r' })) }), 'htu'],
    [
      'proof signed by a key other than cnf.jkt (the thief presents the stolen token)',
      () => ({ proof: createDpopProof(thief, { method: 'GET', url: `${api.url}/r`, accessToken: bound }) }),
      'jkt',
    ],
    ['header jwk of the holder, signature by another key', () => ({ proof: proof({}, claims(), thief.key) }), 'signature_invalid'],
    [
      'symmetric JWK (kty oct) with HS256',
      () => ({ proof: proof({ jwk: { kty: 'oct', k: Buffer.from('secret').toString('base64url') } }, claims(), holder.key, 'HS256') }),
      'algorithm_not_allowed',
    ],
    ['symmetric JWK (kty oct) with an allowed alg name', () => ({ proof: proof({ jwk: { kty: 'oct', k: 'c2VjcmV0' } }, claims()) }), 'jwk'],
    ['private-key JWK (d present)', () => ({ proof: proof({ jwk: holder.key.export({ format: 'jwk' }) }, claims()) }), 'jwk'],
    [
      'RSA private-key JWK (p, q, dp…)',
      () => ({ proof: proof({ jwk: rsa.privateKey.export({ format: 'jwk' }) }, claims(), rsa.privateKey, 'RS256') }),
      'jwk',
    ],
    ['no jwk in the header', () => ({ proof: proof({ jwk: undefined }, claims()) }), 'jwk'],
    [
      'jwk of a weak 1024-bit RSA key',
      () => {
        const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
        return { proof: proof({ jwk: weak.publicKey.export({ format: 'jwk' }) }, claims(), weak.privateKey, 'RS256') };
      },
      'jwk',
    ],
    [
      'EdDSA header with an Ed25519 jwk but alg ES256',
      () => ({
        proof: proof({ jwk: ed.publicKey.export({ format: 'jwk' }) }, claims(), ed.privateKey, 'EdDSA').replace(
          /^[^.]+/,
          b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: ed.publicKey.export({ format: 'jwk' }) }),
        ),
      }),
      'algorithm_not_allowed',
    ],
    ['alg none', () => ({ proof: `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: holder.jwk })}.${b64(claims())}.` }), 'malformed'],
    ['typ JWT instead of dpop+jwt', () => ({ proof: proof({ typ: 'JWT' }, claims()) }), 'type_invalid'],
    ['ath of another token', () => ({ proof: proof({}, claims({ ath: accessTokenHash(otherBound) })) }), 'ath'],
    ['ath missing', () => ({ proof: proof({}, claims({ ath: undefined })) }), 'ath'],
    ['stale iat (10 minutes old)', () => ({ proof: proof({}, claims({ iat: Math.floor(Date.now() / 1000) - 600 })) }), 'too_old'],
    [
      'iat in the future (10 minutes)',
      () => ({ proof: proof({}, claims({ iat: Math.floor(Date.now() / 1000) + 600 })) }),
      'issued_in_future',
    ],
    ['iat as a string', () => ({ proof: proof({}, claims({ iat: String(Math.floor(Date.now() / 1000)) })) }), 'claim_invalid'],
    ['jti missing', () => ({ proof: proof({}, claims({ jti: undefined })) }), 'jti'],
    ['jti of 4 kB', () => ({ proof: proof({}, claims({ jti: 'j'.repeat(4096) })) }), 'jti'],
    ['crit header', () => ({ proof: proof({ crit: ['exp'] }, claims()) }), 'critical_header'],
    [
      'a bound token of another key with the holder proof',
      () => ({ proof: createDpopProof(holder, { method: 'GET', url: `${api.url}/r`, accessToken: otherBound }), token: otherBound }),
      'jkt',
    ],
    [
      'an unbound token presented as DPoP',
      () => ({ proof: createDpopProof(holder, { method: 'GET', url: `${api.url}/r`, accessToken: plain }), token: plain }),
      'dpop_not_bound',
    ],
    ['the access token itself as the proof', () => ({ proof: bound }), 'type_invalid'],
  ];

  it('covers at least 25 attacks', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('%s → 401', async (_name, make, reason) => {
    const attack = make();
    const res = await dpopCall(attack.proof, attack.path, attack.token);
    const problem = expectRefusal(res, 'DPoP', { status: 401, secrets: [bound.split('.')[2] ?? ''] });
    expect(problem.reason).toBe(reason);
    expect(['invalid_dpop_proof', 'token_invalid']).toContain(problem.code);
    const oauthError = problem.code === 'invalid_dpop_proof' ? 'invalid_dpop_proof' : 'invalid_token';
    expect(res.headers['www-authenticate']).toMatch(new RegExp(`^DPoP algs="[^"]+", error="${oauthError}"`));
  });

  it('a replayed proof is refused the second time (memory store)', async () => {
    const p = proof({}, claims());
    expect((await dpopCall(p)).status).toBe(200);
    expect(expectRefusal(await dpopCall(p), 'DPoP', { status: 401 })).toMatchObject({ code: 'invalid_dpop_proof', reason: 'replayed' });
  });

  it('a proof replayed at another instance is refused through the shared Redis store', async () => {
    const p = proof({}, claims({}, '/a'));
    expect((await dpopCall(p, '/a')).status).toBe(200);
    expect(expectRefusal(await dpopCall(p, '/b'), 'DPoP', { status: 401 }).reason).toBe('replayed');
    expect((await redis.keys(`${PREFIX}*`)).length).toBe(1);
  });

  it('the DPoP-bound token sent as Bearer is refused; no proof, or two proofs, are refused', async () => {
    expect(expectRefusal(await call('/r', { authorization: `Bearer ${bound}` }), 'DPoP', { status: 401 }).reason).toBe('dpop_bound');
    expect(expectRefusal(await call('/r', { authorization: `DPoP ${bound}` }), 'DPoP', { status: 401 }).reason).toBe('proof_missing');
    const two = await call('/r', { authorization: `DPoP ${bound}`, dpop: [proof({}, claims()), proof({}, claims())] });
    expect(expectRefusal(two, 'DPoP', { status: 401 }).reason).toBe('proof_multiple');
  });

  it('server nonce: use_dpop_nonce with a DPoP-Nonce header, then createDpopFetch retries once and succeeds', async () => {
    const first = await dpopCall(proof({}, claims({}, '/nonce')), '/nonce');
    expect(expectRefusal(first, 'DPoP', { status: 401 })).toMatchObject({ code: 'use_dpop_nonce', reason: 'nonce_missing' });
    expect(first.headers['www-authenticate']).toMatch(/error="use_dpop_nonce"/);
    const nonce = first.headers['dpop-nonce'];
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await dpopCall(proof({}, claims({ nonce }, '/nonce')), '/nonce')).status).toBe(200);
    expect(
      expectRefusal(await dpopCall(proof({}, claims({ nonce: 'stale-or-made-up' }, '/nonce')), '/nonce'), 'DPoP', { status: 401 }).reason,
    ).toBe('nonce_stale');
    const seen: number[] = [];
    const api2 = createDpopFetch({
      key: holder,
      accessToken: bound,
      fetch: async (input, init) => {
        const r = await fetch(input, init);
        seen.push(r.status);
        return r;
      },
    });
    expect((await api2(`${api.url}/nonce`)).status).toBe(200);
    expect(seen).toEqual([401, 200]);
    expect((await api2(`${api.url}/nonce`)).status).toBe(200);
    expect(seen).toEqual([401, 200, 200]);
  });
});

/** One request with exactly these headers (Host included, as written), over node:http. */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('DPoP request binding: Host and X-Forwarded-Host, path normalisation, proof keys', () => {
  let direct: Listening; // trust proxy off
  let proxied: Listening; // trust proxy: loopback
  const PINNED_HTTP = 'http://api.example';
  const PINNED_HTTPS = 'https://api.example';
  const ok = (req: express.Request, res: express.Response): void => {
    res.json(req.principal);
  };
  /** `/d/…` with the default DPoP options, `/p/…` with `origins` pinned. */
  function routes(app: express.Express, pinned: string): void {
    const byDefault = authenticate([jwtBearerScheme({ issuer: as.issuer, audience: API, validate: false })]);
    const byOrigin = authenticate([jwtBearerScheme({ issuer: as.issuer, audience: API, dpop: { origins: [pinned] } })]);
    for (const [prefix, mw] of [
      ['/d', byDefault],
      ['/p', byOrigin],
    ] as const) {
      app.post(`${prefix}/read`, mw, ok);
      app.post(`${prefix}/admin/delete-everything`, mw, ok);
      app.get(`${prefix}/admin`, mw, ok);
      app.get(`${prefix}/files/*splat`, mw, ok);
    }
  }
  const made = (htu: string, htm = 'POST', key: DpopKey = holder): string =>
    proof({ jwk: key.jwk }, { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(bound) }, key.key);
  const at = (server: Listening, method: string, path: string, p: string, headers: Record<string, string | string[]> = {}) =>
    send(server.port, method, path, { host: `127.0.0.1:${server.port}`, authorization: `DPoP ${bound}`, dpop: p, ...headers });

  beforeAll(async () => {
    const plainApp = express();
    routes(plainApp, PINNED_HTTP);
    direct = await listen(plainApp);
    const proxyApp = express();
    proxyApp.set('trust proxy', 'loopback');
    routes(proxyApp, PINNED_HTTPS);
    proxied = await listen(proxyApp);
  });
  afterAll(async () => {
    await direct.close();
    await proxied.close();
  });

  it('controls: an honest proof for the Host the request names is accepted (direct, and through a trusted proxy)', async () => {
    expect((await at(direct, 'POST', '/d/read', made(`${direct.url}/d/read`))).status).toBe(200);
    expect((await at(direct, 'POST', '/p/read', made(`${PINNED_HTTP}/p/read`), { host: 'api.example' })).status).toBe(200);
    expect(
      (
        await at(proxied, 'POST', '/p/read', made(`${PINNED_HTTPS}/p/read`), {
          'x-forwarded-host': 'api.example',
          'x-forwarded-proto': 'https',
        })
      ).status,
    ).toBe(200);
  });

  // An unused proof made for POST /…/read, sent to POST /…/admin/delete-everything with a Host that
  // smuggles the proof's path into the URL the server rebuilds.
  const hostile = (authority: string, prefix: string): Array<[string, string]> => [
    ['#', `${authority}${prefix}/read#`],
    ['?', `${authority}${prefix}/read?`],
    ['@', `evil.example@${authority}`],
    ['/', `${authority}${prefix}/read`],
    ['\\', `${authority}\\${prefix.slice(1)}/read`],
  ];
  it.each(['#', '?', '@', '/', '\\'])(
    'Host with %s (no trust proxy): 400 host_invalid, the proof for another path is not spent',
    async (c) => {
      for (const prefix of ['/d', '/p']) {
        const authority = prefix === '/d' ? `127.0.0.1:${direct.port}` : 'api.example';
        const origin = prefix === '/d' ? direct.url : PINNED_HTTP;
        const host = new Map(hostile(authority, prefix)).get(c) as string;
        const p = made(`${origin}${prefix}/read`);
        const res = await at(direct, 'POST', `${prefix}/admin/delete-everything`, p, { host });
        expect(expectRefusal(res, 'DPoP', { status: 400 })).toMatchObject({ code: 'request_malformed', reason: 'host_invalid' });
        expect(res.headers['www-authenticate']).toMatch(/^DPoP algs="[^"]+", error="invalid_request"/);
        expect((await at(direct, 'POST', `${prefix}/read`, p, prefix === '/p' ? { host: 'api.example' } : {})).status).toBe(200);
      }
    },
  );

  it.each(['#', '?', '@', '/', '\\'])('trusted X-Forwarded-Host with %s: 400 host_invalid', async (c) => {
    for (const prefix of ['/d', '/p']) {
      const host = new Map(hostile('api.example', prefix)).get(c) as string;
      const res = await at(proxied, 'POST', `${prefix}/admin/delete-everything`, made(`${PINNED_HTTPS}${prefix}/read`), {
        'x-forwarded-host': host,
        'x-forwarded-proto': 'https',
      });
      expect(expectRefusal(res, 'DPoP', { status: 400 })).toMatchObject({ code: 'request_malformed', reason: 'host_invalid' });
    }
  });

  it('two Host headers, an empty Host, or a trusted X-Forwarded-Proto other than http(s): 400 host_invalid', async () => {
    // rawGet sends `Host: 127.0.0.1` first; Node keeps that one in req.headers and drops the second.
    const twoProof = made('http://127.0.0.1/d/admin', 'GET');
    const two = await rawGet(direct.port, '/d/admin', [
      headerLine('Host', 'other.example'),
      headerLine('Authorization', `DPoP ${bound}`),
      headerLine('DPoP', twoProof),
    ]);
    expect(expectRefusal(two, 'DPoP', { status: 400 }).reason).toBe('host_invalid');
    expect(
      expectRefusal(await at(direct, 'POST', '/d/read', made(`${direct.url}/d/read`), { host: '' }), 'DPoP', { status: 400 }).reason,
    ).toBe('host_invalid');
    const proto = await at(proxied, 'POST', '/p/read', made(`${PINNED_HTTPS}/p/read`), {
      'x-forwarded-host': 'api.example',
      'x-forwarded-proto': 'javascript',
    });
    expect(expectRefusal(proto, 'DPoP', { status: 400 }).reason).toBe('host_invalid');
  });

  it('an absolute-form request-target (GET http://host/path): 400 request_target, not a URL spliced from Host and target', async () => {
    const p = made(`http://127.0.0.1/d/admin`, 'GET');
    const res = await rawGet(direct.port, 'http://127.0.0.1/d/admin', [
      headerLine('Authorization', `DPoP ${bound}`),
      headerLine('DPoP', p),
    ]);
    expect(expectRefusal(res, 'DPoP', { status: 400 })).toMatchObject({ code: 'request_malformed', reason: 'request_target' });
  });

  it('a proof for another origin named by Host: refused (htu) once dpop.origins is set; by default the Host names the origin', async () => {
    const other = await at(direct, 'POST', '/p/read', made('http://other.example/p/read'), { host: 'other.example' });
    expect(expectRefusal(other, 'DPoP', { status: 401 })).toMatchObject({ code: 'invalid_dpop_proof', reason: 'htu' });
    const viaProxy = await at(proxied, 'POST', '/p/read', made('https://other.example/p/read'), {
      'x-forwarded-host': 'other.example',
      'x-forwarded-proto': 'https',
    });
    expect(expectRefusal(viaProxy, 'DPoP', { status: 401 })).toMatchObject({ code: 'invalid_dpop_proof', reason: 'htu' });
    // The default configuration (documented in docs/jwt-bearer.md): the origin is the one the Host header names.
    expect((await at(direct, 'POST', '/d/read', made('http://other.example/d/read'), { host: 'other.example' })).status).toBe(200);
  });

  it('without trust proxy, X-Forwarded-Host and -Proto are ignored, hostile or not', async () => {
    const forwarded = await at(direct, 'POST', '/p/read', made(`${PINNED_HTTP.replace('http:', 'https:')}/p/read`), {
      host: 'api.example',
      'x-forwarded-host': 'api.example',
      'x-forwarded-proto': 'https',
    });
    expect(expectRefusal(forwarded, 'DPoP', { status: 401 }).reason).toBe('htu');
    const other = await at(direct, 'POST', '/d/read', made('http://other.example/d/read'), { 'x-forwarded-host': 'other.example' });
    expect(expectRefusal(other, 'DPoP', { status: 401 }).reason).toBe('htu');
    expect((await at(direct, 'POST', '/d/read', made(`${direct.url}/d/read`), { 'x-forwarded-host': 'api.example/d/read#' })).status).toBe(
      200,
    );
  });

  it.each([['/d/files/%2e%2e/admin'], ['/d/files/%2E%2e/admin'], ['/d/files/../admin'], ['/d/files/./../admin'], ['/d/files/.%2E/admin']])(
    'dot-segments: GET %s (routed to /files/*) with a proof for /d/admin is 400, the proof not spent',
    async (path) => {
      const p = made(`${direct.url}/d/admin`, 'GET');
      const res = await at(direct, 'GET', path, p);
      expect(expectRefusal(res, 'DPoP', { status: 400 })).toMatchObject({ code: 'request_malformed', reason: 'path_dot_segments' });
      expect((await at(direct, 'GET', '/d/admin', p)).status).toBe(200);
    },
  );

  it.each([
    ['%2f vs %2F', '/d/files/a%2Fb', '/d/files/a%2fb'],
    ['%7E vs ~', '/d/files/~u', '/d/files/%7Eu'],
    ['%7e vs ~ (request encoded)', '/d/files/%7eu', '/d/files/~u'],
    ['lower- vs upper-case hex', '/d/files/%c3%a9', '/d/files/%C3%A9'],
    ['%41 vs A', '/d/files/%41', '/d/files/A'],
  ])('percent-encoding normalisation (RFC 3986 §6.2.2): %s is accepted', async (_name, path, htuPath) => {
    expect((await at(direct, 'GET', path, made(`${direct.url}${htuPath}`, 'GET'))).status).toBe(200);
  });

  it('an encoded reserved character is not its decoded self: %2F vs / is refused (htu)', async () => {
    const res = await at(direct, 'GET', '/d/files/a%2Fb', made(`${direct.url}/d/files/a/b`, 'GET'));
    expect(expectRefusal(res, 'DPoP', { status: 401 }).reason).toBe('htu');
  });

  /** A proof whose header jwk is an RSA public key of these raw members (signature by `signer`). */
  const rsaJwkProof = (n: Buffer, e: Buffer, signer: KeyObject): string => {
    const input = `${b64({ typ: 'dpop+jwt', alg: 'RS256', jwk: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') } })}.${b64({ jti: randomUUID(), htm: 'POST', htu: `${direct.url}/d/read`, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(bound) })}`;
    return `${input}.${cryptoSign('sha256', Buffer.from(input), signer).toString('base64url')}`;
  };
  const oddRandom = (bits: number): Buffer => {
    const b = randomBytes(bits / 8);
    b[0] = (b[0] as number) | 0x80;
    b[b.length - 1] = (b[b.length - 1] as number) | 1;
    return b;
  };
  const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const n2048 = Buffer.from(rsa2048.publicKey.export({ format: 'jwk' }).n as string, 'base64url');
  it.each([
    ['a 3072-bit public exponent', () => rsaJwkProof(oddRandom(4096), oddRandom(3072), rsa2048.privateKey)],
    ['an exponent of 2^32 + 1', () => rsaJwkProof(n2048, Buffer.from('0100000001', 'hex'), rsa2048.privateKey)],
    ['a 4104-bit modulus', () => rsaJwkProof(oddRandom(4104), Buffer.from('010001', 'hex'), rsa2048.privateKey)],
  ])('RSA proof key with %s: 401 jwk, before any signature check', async (_name, make) => {
    const res = await at(direct, 'POST', '/d/read', make());
    expect(expectRefusal(res, 'DPoP', { status: 401 })).toMatchObject({ code: 'invalid_dpop_proof', reason: 'jwk' });
  });

  it('an RSA-2048 proof key with e = 65537 still verifies', () => {
    const key = dpopKey(rsa2048.privateKey);
    expect(
      verifyDpopProof(createDpopProof(key, { method: 'GET', url: 'https://api.example/x' }), {
        method: 'GET',
        url: 'https://api.example/x',
      }).jkt,
    ).toBe(key.jkt);
  });

  it('a proof key other than cnf.jkt: 401 invalid_token (RFC 9449 §7.1), compared before the signature is checked', async () => {
    const stolen = made(`${direct.url}/d/read`, 'POST', thief);
    const res = await at(direct, 'POST', '/d/read', stolen);
    expect(expectRefusal(res, 'DPoP', { status: 401 })).toMatchObject({ code: 'token_invalid', reason: 'jkt' });
    expect(res.headers['www-authenticate']).toMatch(/^DPoP algs="[^"]+", error="invalid_token"/);
    // The thief's key with a signature that does not verify: the key mismatch is what answers.
    const garbled = `${stolen.slice(0, stolen.lastIndexOf('.'))}.${randomBytes(64).toString('base64url')}`;
    expect(expectRefusal(await at(direct, 'POST', '/d/read', garbled), 'DPoP', { status: 401 })).toMatchObject({
      code: 'token_invalid',
      reason: 'jkt',
    });
  });
});

describe('DPoP replay store filling (the default store, one token holder)', () => {
  let fillApi: Listening;
  let scheme: ReturnType<typeof jwtBearerScheme>;
  beforeAll(async () => {
    // A scheme of its own, so the rows above keep their own default store.
    scheme = jwtBearerScheme({ issuer: as.issuer, audience: API });
    const app = express();
    app.get('/fill', authenticate([scheme]), (req, res) => {
      res.json(req.principal);
    });
    fillApi = await listen(app);
  });
  afterAll(async () => {
    await fillApi.close();
  });

  it('25,000 proofs with 256-character jtis from one holder leave the store open: the holder stays accepted and another client is not refused with 503', async () => {
    const host = new URL(fillApi.url).host;
    const statuses = new Map<number, number>();
    // Straight through the scheme (the same object the route uses), one request object per proof.
    for (let i = 0; i < 25_000; i++) {
      const p = proof({}, { ...claims({ jti: `${i}:`.padEnd(256, 'j') }), htu: `${fillApi.url}/fill` });
      const headers = { host, authorization: `DPoP ${bound}`, dpop: p };
      let status = 200;
      try {
        await scheme.authenticate({ method: 'GET', url: '/fill', headers, rawHeaders: Object.entries(headers).flat() });
      } catch (thrown) {
        status = (thrown as { status?: number }).status ?? 500;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 25_000 });
    const other = proof({ jwk: thief.jwk }, { ...claims({ ath: accessTokenHash(otherBound) }), htu: `${fillApi.url}/fill` }, thief.key);
    const res = await fetch(`${fillApi.url}/fill`, { headers: { authorization: `DPoP ${otherBound}`, dpop: other } });
    expect(res.status).toBe(200);
  }, 120_000);
});

describe('DPoP fall-through: two Bearer schemes on one route (jwtBearerScheme + apiJwtScheme, same IdP keys)', () => {
  let two: Listening;
  beforeAll(async () => {
    const app = express();
    const ok = (req: express.Request, res: express.Response): void => {
      res.json(req.principal);
    };
    const jwt = jwtBearerScheme({ issuer: as.issuer, audience: API });
    const apiJwt = apiJwtScheme({ jwksUri: `${as.issuer}/jwks`, audience: { audience: API }, checkAllowedValues: false });
    app.get('/jwt-first', authenticate([jwt, apiJwt]), ok);
    app.get('/apijwt-first', authenticate([apiJwt, jwt]), ok);
    two = await listen(app);
  });
  afterAll(async () => {
    await two.close();
  });
  const at = (path: string, headers: Record<string, string>) =>
    fetch(`${two.url}${path}`, { headers }).then(async (res) => ({
      status: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      text: await res.text(),
    }));

  it.each(['/jwt-first', '/apijwt-first'])(
    'controls on %s: an unbound token as Bearer and the bound token with its proof are accepted',
    async (path) => {
      expect((await at(path, { authorization: `Bearer ${plain}` })).status).toBe(200);
      const res = await at(path, {
        authorization: `DPoP ${bound}`,
        dpop: createDpopProof(holder, { method: 'GET', url: `${two.url}${path}`, accessToken: bound }),
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ scheme: 'jwt-bearer', details: { jkt: holder.jkt } });
    },
  );

  it('the stolen bound token sent as Bearer is refused by jwtBearerScheme and the chain ends there (apiJwtScheme never accepts it)', async () => {
    const res = await at('/jwt-first', { authorization: `Bearer ${bound}` });
    expect(expectRefusal(res, 'DPoP', { status: 401, secrets: [bound.split('.')[2] ?? ''] })).toMatchObject({
      code: 'token_invalid',
      reason: 'dpop_bound',
    });
  });

  it('with apiJwtScheme first, it refuses the bound token (it cannot check cnf) and the chain ends', async () => {
    const res = await at('/apijwt-first', { authorization: `Bearer ${bound}` });
    expect(expectRefusal(res, 'Bearer', { status: 401, secrets: [bound.split('.')[2] ?? ''] })).toMatchObject({
      code: 'token_invalid',
      reason: 'cnf_unsupported',
    });
  });
});

describe('DPoP replay quota per token holder, not per proof key (one client, many DPoP keys)', () => {
  let quotaApi: Listening;
  const third: DpopKey = dpopKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  let otherClient = '';
  beforeAll(async () => {
    otherClient = await token('svc', third);
    const app = express();
    // A small store so the quota is reached in a few requests: 3 proofs per holder, 8 in all.
    const scheme = jwtBearerScheme({
      issuer: as.issuer,
      audience: API,
      dpop: { replayStore: new MemoryReplayStore({ maxEntries: 8, maxEntriesPerSubject: 3 }) },
    });
    app.get('/q', authenticate([scheme]), (req, res) => {
      res.json(req.principal);
    });
    quotaApi = await listen(app);
  });
  afterAll(async () => {
    await quotaApi.close();
  });
  const send = async (key: DpopKey, tok: string): Promise<{ status: number; headers: Record<string, string>; text: string }> => {
    const res = await fetch(`${quotaApi.url}/q`, {
      headers: { authorization: `DPoP ${tok}`, dpop: createDpopProof(key, { method: 'GET', url: `${quotaApi.url}/q`, accessToken: tok }) },
    });
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
  };

  it('a client whose tokens are bound to two keys shares one quota: its 4th proof is 429 whichever key signs it, and another client is still accepted', async () => {
    // `bound` and `otherBound` are both tokens of client svc-dpop, bound to `holder` and `thief`.
    for (let i = 0; i < 3; i++) expect((await send(holder, bound)).status).toBe(200);
    const res = await send(thief, otherBound);
    expect(res.status).toBe(429);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'rate_limited' });
    expect((await send(third, otherClient)).status).toBe(200);
  });
});

describe('DPoP proof keys: one RSA key, one thumbprint (RFC 7518 §6.2.1, §6.3.1, RFC 8037 §2: one spelling per key)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = rsa.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const pad = (member: string, zeros: number): string =>
    Buffer.concat([Buffer.alloc(zeros), Buffer.from(member, 'base64url')]).toString('base64url');
  const rsaProof = (members: { n: string; e: string }): string => {
    const input = `${b64({ typ: 'dpop+jwt', alg: 'RS256', jwk: { kty: 'RSA', ...members } })}.${b64({ jti: randomUUID(), htm: 'GET', htu: 'https://api.example/x', iat: Math.floor(Date.now() / 1000) })}`;
    return `${input}.${cryptoSign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;
  };
  const verify = (p: string) => verifyDpopProof(p, { method: 'GET', url: 'https://api.example/x' });

  it.each([
    ['e with a leading zero octet', { n: jwk.n, e: pad(jwk.e, 1) }],
    ['n with a leading zero octet', { n: pad(jwk.n, 1), e: jwk.e }],
    ['n with 600 leading zero octets', { n: pad(jwk.n, 600), e: jwk.e }],
    ['e with "=" padding', { n: jwk.n, e: `${jwk.e}=` }],
    // 256 octets are 342 characters whose last one carries 4 unused bits: setting one gives the same octets.
    [
      'n with a non-zero unused bit in its last character',
      { n: `${jwk.n.slice(0, -1)}${B64URL[B64URL.indexOf(jwk.n.slice(-1)) | 1] ?? ''}`, e: jwk.e },
    ],
  ])('the key of a proof with %s is refused (401 jwk), not given a second thumbprint', (_name, members) => {
    expect(members.n !== jwk.n || members.e !== jwk.e).toBe(true);
    expect(() => verify(rsaProof(members))).toThrow(expect.objectContaining({ code: 'invalid_dpop_proof', reason: 'jwk' }) as Error);
  });

  it('control: the same key in minimal form verifies, with its RFC 7638 thumbprint', () => {
    expect(verify(rsaProof(jwk)).jkt).toBe(dpopKey(rsa.privateKey).jkt);
  });

  // EC and OKP coordinates are written in exactly the curve's size (RFC 7518 §6.2.1.2, RFC 8037 §2).
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  const curveProof = (pair: { privateKey: KeyObject }, alg: 'ES256' | 'EdDSA', key: Record<string, unknown>): string => {
    const input = `${b64({ typ: 'dpop+jwt', alg, jwk: key })}.${b64({ jti: randomUUID(), htm: 'GET', htu: 'https://api.example/x', iat: Math.floor(Date.now() / 1000) })}`;
    const sig =
      alg === 'EdDSA'
        ? cryptoSign(null, Buffer.from(input), pair.privateKey)
        : cryptoSign('sha256', Buffer.from(input), { key: pair.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  };
  const flip = (member: string): string => `${member.slice(0, -1)}${B64URL[B64URL.indexOf(member.slice(-1)) | 1] ?? ''}`;
  const ecJwk = ec.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const edJwk = ed.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  it.each([
    ['P-256 x with a leading zero octet', ec, 'ES256', { ...ecJwk, x: pad(ecJwk['x'] ?? '', 1) }],
    ['P-256 x with a set unused bit', ec, 'ES256', { ...ecJwk, x: flip(ecJwk['x'] ?? '') }],
    ['P-256 y with "=" padding', ec, 'ES256', { ...ecJwk, y: `${ecJwk['y'] ?? ''}=` }],
    ['Ed25519 x with a set unused bit', ed, 'EdDSA', { ...edJwk, x: flip(edJwk['x'] ?? '') }],
    ['Ed25519 x with "=" padding', ed, 'EdDSA', { ...edJwk, x: `${edJwk['x'] ?? ''}=` }],
  ] as const)('the key of a proof with %s is refused (401 jwk)', (_name, pair, alg, key) => {
    expect(() => verify(curveProof(pair, alg, key))).toThrow(
      expect.objectContaining({ code: 'invalid_dpop_proof', reason: 'jwk' }) as Error,
    );
  });

  it('controls: the same EC and Ed25519 keys as exported verify, with their thumbprints', () => {
    expect(verify(curveProof(ec, 'ES256', ecJwk)).jkt).toBe(dpopKey(ec.privateKey).jkt);
    expect(verify(curveProof(ed, 'EdDSA', edJwk)).jkt).toBe(dpopKey(ed.privateKey).jkt);
  });
});
