/**
 * The hostile table of the other JWT schemes (test/hardening/schemes-hostile.test.ts: RFC 8725 and
 * JWT-library CVE cases) re-run on jwtBearerScheme, with the claims of an access token instead of
 * asymmetric_jwt_auth's, through real HTTP. Every case is a 400/401 problem+json with the Bearer
 * challenge, nothing leaks into prototypes, and the controls prove the route accepts the right token.
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import request from 'supertest';
import { authenticate, jwtBearerScheme } from '../../src/index.js';
import { expectRefusal, headerLine, listen, rawGet, type Listening } from '../helpers/http.js';

const keyText = (name: string): string => readFileSync(new URL(`../fixtures/asymmetric-jwt/keys/${name}`, import.meta.url), 'utf8');
const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;
const ISS = 'https://issuer.example.test/';
const AUD = 'https://api.example.test';
const RSA_PRIVATE = keyText('rsa_private.pem');
const RSA_PUBLIC = keyText('rsa_public.pem');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
const P256_ORDER = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISS,
  aud: AUD,
  sub: 'alice',
  client_id: 'app',
  exp: NOW + 300,
  iat: NOW - 10,
  jti: randomUUID(),
  scope: 'read',
  ...extra,
});
function rsRaw(header: string, payload: string, key: string | KeyObject = RSA_PRIVATE, digest = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(digest, Buffer.from(input), typeof key === 'string' ? createPrivateKey(key) : key).toString('base64url')}`;
}
const rs = (header: object, payload: unknown, key: string | KeyObject = RSA_PRIVATE): string =>
  rsRaw(JSON.stringify({ typ: 'at+jwt', ...header }), typeof payload === 'string' ? payload : JSON.stringify(payload), key);
function es256(payload: object, signature?: Buffer): string {
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'ec-1' })}.${b64(payload)}`;
  const sig = signature ?? sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}
function hs(alg: 'HS256' | 'HS384' | 'HS512', secret: string | Buffer): string {
  const input = `${b64({ alg, typ: 'at+jwt' })}.${b64(claims())}`;
  return `${input}.${createHmac(`sha${alg.slice(2)}`, secret)
    .update(input)
    .digest('base64url')}`;
}
const spkiDer = (k: KeyObject): Buffer => (k.type === 'public' ? k : createPublicKey(k)).export({ format: 'der', type: 'spki' });
const EC_PEM = ec.publicKey.export({ format: 'pem', type: 'spki' }).toString();

let app: express.Express;
let http: Listening;
beforeAll(async () => {
  app = express();
  const scheme = jwtBearerScheme({
    issuer: ISS,
    audience: AUD,
    publicKeys: [RSA_PUBLIC, { key: ec.publicKey, kid: 'ec-1' }],
    clock,
    maxTokenAgeSeconds: 3600,
  });
  app.get('/r', authenticate([scheme]), (req, res) => {
    res.json(req.principal);
  });
  app.get('/big', authenticate([scheme], { maxAuthorizationBytes: 70_000 }), (req, res) => {
    res.json(req.principal);
  });
  http = await listen(app);
});
afterAll(async () => {
  await http.close();
});

describe('jwtBearerScheme: RFC 8725 and JWT-library CVE cases', () => {
  it('controls: RS256 and ES256 tokens signed right are accepted, and again (bearer tokens are reusable)', async () => {
    const token = rs({ alg: 'RS256' }, claims());
    for (let i = 0; i < 2; i++) {
      const ok = await request(app).get('/r').set('Authorization', `Bearer ${token}`);
      expect([ok.status, ok.body.subject, ok.body.kind]).toEqual([200, 'alice', 'user']);
    }
    expect(
      (
        await request(app)
          .get('/r')
          .set('Authorization', `Bearer ${es256(claims())}`)
      ).status,
    ).toBe(200);
  });

  const zeros = Buffer.alloc(32);
  const cases: Array<[name: string, make: () => string]> = [
    ...['none', 'None', 'NONE', 'nOnE', 'none '].flatMap((alg): Array<[string, () => string]> => [
      [`alg "${alg}" with no signature`, () => `${b64({ alg, typ: 'at+jwt' })}.${b64(claims())}.`],
      [
        `alg "${alg}" with a copied RS256 signature`,
        () => `${b64({ alg, typ: 'at+jwt' })}.${b64(claims())}.${rs({ alg: 'RS256' }, claims()).split('.')[2]}`,
      ],
    ]),
    ['HS256 keyed with the RSA public key PEM', () => hs('HS256', RSA_PUBLIC)],
    ['HS384 keyed with the RSA public key PEM', () => hs('HS384', RSA_PUBLIC)],
    ['HS512 keyed with the RSA public key DER', () => hs('HS512', spkiDer(createPrivateKey(RSA_PRIVATE)))],
    ['HS256 keyed with the EC public key PEM', () => hs('HS256', EC_PEM)],
    [
      'embedded jwk of the attacker',
      () => rs({ alg: 'RS256', jwk: attacker.publicKey.export({ format: 'jwk' }) }, claims(), attacker.privateKey),
    ],
    ['jku pointing at an attacker URL', () => rs({ alg: 'RS256', jku: 'http://127.0.0.1:1/jwks.json' }, claims(), attacker.privateKey)],
    ['x5u pointing at an attacker URL', () => rs({ alg: 'RS256', x5u: 'http://127.0.0.1:1/cert.pem' }, claims(), attacker.privateKey)],
    [
      'x5c carrying the attacker key',
      () => rs({ alg: 'RS256', x5c: [spkiDer(attacker.publicKey).toString('base64')] }, claims(), attacker.privateKey),
    ],
    ['kid with path traversal', () => rs({ alg: 'RS256', kid: '../../../../../../dev/null' }, claims(), attacker.privateKey)],
    ['kid with SQL injection', () => rs({ alg: 'RS256', kid: "x' UNION SELECT 'secret' --" }, claims(), attacker.privateKey)],
    ['kid of 4 kB', () => rs({ alg: 'RS256', kid: 'k'.repeat(4096) }, claims(), attacker.privateKey)],
    ['kid not a string (right key)', () => rs({ alg: 'RS256', kid: { $ne: null } }, claims())],
    ['kid of the EC key on an RS256 token by the attacker', () => rs({ alg: 'RS256', kid: 'ec-1' }, claims(), attacker.privateKey)],
    ['crit with an unknown name (right key)', () => rs({ alg: 'RS256', crit: ['x-unknown'], 'x-unknown': true }, claims())],
    ['crit empty list (right key)', () => rs({ alg: 'RS256', crit: [] }, claims())],
    ['b64 false (right key)', () => rs({ alg: 'RS256', b64: false, crit: ['b64'] }, claims())],
    ['duplicate sub in the payload (right key)', () => rsRaw('{"alg":"RS256"}', JSON.stringify(claims()).replace(/}$/, ',"sub":"admin"}'))],
    ['duplicate alg in the header (right key)', () => rsRaw('{"alg":"RS256","alg":"none"}', JSON.stringify(claims()))],
    [
      'escaped duplicate name in the payload (right key)',
      () => rsRaw('{"alg":"RS256"}', JSON.stringify(claims()).replace(/}$/, ',"\\u0073ub":"admin"}')),
    ],
    ['padded base64url header', () => rs({ alg: 'RS256' }, claims()).replace('.', '=.')],
    [
      'standard-alphabet base64 signature',
      () => {
        const t = rs({ alg: 'RS256' }, claims());
        return t.replace(/-/g, '+').replace(/_/g, '/') + (/[-_]/.test(t) ? '' : '+/');
      },
    ],
    ['nested JWT as the payload', () => rsRaw('{"alg":"RS256","cty":"JWT"}', rs({ alg: 'RS256' }, claims()))],
    ['payload a JSON array', () => rs({ alg: 'RS256' }, [claims()])],
    ['payload a JSON string', () => rs({ alg: 'RS256' }, '"alice"')],
    [
      'RS512 header over an RS256 signature',
      () => {
        const [, p, s] = rs({ alg: 'RS256' }, claims()).split('.') as [string, string, string];
        return `${b64({ alg: 'RS512', typ: 'at+jwt' })}.${p}.${s}`;
      },
    ],
    [
      'PS256 header over an RS256 signature',
      () => {
        const [, p, s] = rs({ alg: 'RS256' }, claims()).split('.') as [string, string, string];
        return `${b64({ alg: 'PS256', typ: 'at+jwt' })}.${p}.${s}`;
      },
    ],
    ['signed by an unknown key', () => rs({ alg: 'RS256' }, claims(), attacker.privateKey)],
    ['signed by a 1024-bit RSA key', () => rs({ alg: 'RS256' }, claims(), weak.privateKey)],
    ['ES256 with r = s = 0', () => es256(claims(), Buffer.concat([zeros, zeros]))],
    ['ES256 with r = n, s = n (the group order)', () => es256(claims(), Buffer.concat([P256_ORDER, P256_ORDER]))],
    ['ES256 with r and s all ones (above n)', () => es256(claims(), Buffer.alloc(64, 0xff))],
    [
      'ES256 with a DER signature instead of r||s',
      () => {
        const input = `${b64({ alg: 'ES256', kid: 'ec-1' })}.${b64(claims())}`;
        return `${input}.${sign('sha256', Buffer.from(input), ec.privateKey).toString('base64url')}`;
      },
    ],
    [
      'ES256 with a 65-byte signature',
      () =>
        es256(
          claims(),
          Buffer.concat([sign('sha256', Buffer.from('y'), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }), Buffer.from([0])]),
        ),
    ],
    ['exp missing', () => rs({ alg: 'RS256' }, claims({ exp: undefined }))],
    ['exp as a string', () => rs({ alg: 'RS256' }, claims({ exp: String(NOW + 60) }))],
    ['exp in the past', () => rs({ alg: 'RS256' }, claims({ exp: NOW - 1 }))],
    ['exp negative', () => rs({ alg: 'RS256' }, claims({ exp: -1 }))],
    ['exp overflowing to Infinity (1e400)', () => rsRaw('{"alg":"RS256"}', JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e400'))],
    ['exp null', () => rs({ alg: 'RS256' }, claims({ exp: null }))],
    ['nbf as a string', () => rs({ alg: 'RS256' }, claims({ nbf: String(NOW - 60) }))],
    ['nbf huge', () => rs({ alg: 'RS256' }, claims({ nbf: 1e300 }))],
    ['iat in the future', () => rs({ alg: 'RS256' }, claims({ iat: NOW + 3600 }))],
    ['iat older than maxTokenAgeSeconds', () => rs({ alg: 'RS256' }, claims({ iat: NOW - 7200 }))],
    ['iat missing with maxTokenAgeSeconds', () => rs({ alg: 'RS256' }, claims({ iat: undefined }))],
    ['aud missing', () => rs({ alg: 'RS256' }, claims({ aud: undefined }))],
    ['aud of another API', () => rs({ alg: 'RS256' }, claims({ aud: 'https://elsewhere.example.test' }))],
    ['aud an array without ours', () => rs({ alg: 'RS256' }, claims({ aud: ['a', 'b'] }))],
    ['aud an object', () => rs({ alg: 'RS256' }, claims({ aud: { 0: AUD } }))],
    ['iss missing', () => rs({ alg: 'RS256' }, claims({ iss: undefined }))],
    ['iss of another issuer (right key)', () => rs({ alg: 'RS256' }, claims({ iss: 'https://evil.example.test/' }))],
    ['iss without the trailing slash (exact match only)', () => rs({ alg: 'RS256' }, claims({ iss: ISS.slice(0, -1) }))],
    ['iss an array', () => rs({ alg: 'RS256' }, claims({ iss: [ISS] }))],
    ['sub an object', () => rs({ alg: 'RS256' }, claims({ sub: { toString: 'alice' } }))],
    ['sub empty and no client id', () => rs({ alg: 'RS256' }, claims({ sub: '', client_id: undefined }))],
    ['no sub and no client id', () => rs({ alg: 'RS256' }, claims({ sub: undefined, client_id: undefined }))],
    ['client_id a number', () => rs({ alg: 'RS256' }, claims({ client_id: 7 }))],
    ['scope an array', () => rs({ alg: 'RS256' }, claims({ scope: ['read'] }))],
    ['scp a number', () => rs({ alg: 'RS256' }, claims({ scp: 1 }))],
    ['permissions an array of objects', () => rs({ alg: 'RS256' }, claims({ permissions: [{ read: true }] }))],
    ['cnf a string', () => rs({ alg: 'RS256' }, claims({ cnf: 'x' }))],
    ['cnf.jkt a number', () => rs({ alg: 'RS256' }, claims({ cnf: { jkt: 1 } }))],
    [
      'sub only via a __proto__ claim (right key)',
      () =>
        rsRaw(
          '{"alg":"RS256"}',
          JSON.stringify(claims({ sub: undefined, client_id: undefined })).replace(/^{/, '{"__proto__":{"sub":"admin"},'),
        ),
    ],
    [
      'aud only via a constructor.prototype claim (right key)',
      () =>
        rsRaw(
          '{"alg":"RS256"}',
          JSON.stringify(claims({ aud: undefined })).replace(/^{/, `{"constructor":{"prototype":{"aud":"${AUD}"}},`),
        ),
    ],
  ];

  it('covers at least 60 hostile tokens', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)('%s → 4xx', async (_name, make) => {
    const token = make();
    const res = await request(http.server).get('/r').set('Authorization', `Bearer ${token}`);
    const problem = expectRefusal(res, 'Bearer', { status: [400, 401], secrets: [token.split('.')[2] ?? ''] });
    expect(['token_invalid', 'token_expired', 'request_malformed']).toContain(problem.code);
    expect(({} as Record<string, unknown>)['sub']).toBeUndefined();
    expect(({} as Record<string, unknown>)['aud']).toBeUndefined();
  });

  it('tokens of 12 kB and tens of kB: 400 at our header limit, 401 from the verifier, 431 from Node past 16 kB', async () => {
    const mid = rs({ alg: 'RS256' }, claims({ pad: 'x'.repeat(9_000) }));
    expectRefusal(await request(http.server).get('/r').set('Authorization', `Bearer ${mid}`), 'Bearer', { status: 400 });
    expect(
      expectRefusal(await request(http.server).get('/big').set('Authorization', `Bearer ${mid}`), 'Bearer', { status: 401 }).reason,
    ).toBe('malformed');
    const big = rs({ alg: 'RS256' }, claims({ pad: 'x'.repeat(40_000) }));
    expect((await rawGet(http.port, '/big', [headerLine('Authorization', `Bearer ${big}`)])).status).toBe(431);
  });

  it('header tricks: casing, whitespace, two schemes, two headers', async () => {
    const t = (): string => rs({ alg: 'RS256' }, claims());
    expect((await request(http.server).get('/r').set('Authorization', `bearer ${t()}`)).status).toBe(200);
    const refusals: Array<[string, string | string[], number[]]> = [
      ['tab separator', `Bearer\t${t()}`, [400]],
      ['Bearer and JWT in one header', `Bearer ${t()} JWT ${t()}`, [400]],
      ['comma-joined schemes', `Bearer ${t()}, Basic abc`, [400]],
      ['JWT scheme carrying the token', `JWT ${t()}`, [401]],
      ['two Authorization headers', [`Bearer ${t()}`, `Bearer ${t()}`], [400]],
      ['scheme only', 'Bearer', [400]],
      ['scheme with a trailing space only', 'Bearer ', [400]],
    ];
    for (const [name, header, status] of refusals) {
      const res = await request(http.server)
        .get('/r')
        .set('Authorization', header as string);
      try {
        expectRefusal(res, 'Bearer', { status });
      } catch (error) {
        throw new Error(`${name}: ${String(error)}`);
      }
    }
  });
});
