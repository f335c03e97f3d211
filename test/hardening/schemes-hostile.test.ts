/**
 * Hostile input against the other schemes, through real HTTP: the RFC 8725 / JWT-CVE list against
 * asymmetric `Authorization: JWT`, header tricks against API keys and OAuth introspection (a stub
 * RFC 7662 endpoint). Every case is a 400/401/403 problem+json with the scheme's challenge; a few
 * controls prove the same route does accept the right credential.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import request from 'supertest';
import {
  ApiKeyManager,
  MemoryApiKeyStore,
  apiKeyScheme,
  asymmetricJwtScheme,
  authenticate,
  introspectionScheme,
  requireScopes,
} from '../../src/index.js';
import { expectRefusal, headerLine, listen, rawGet, type Listening } from '../helpers/http.js';

const keyText = (name: string): string => readFileSync(new URL(`../fixtures/asymmetric-jwt/keys/${name}`, import.meta.url), 'utf8');
const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;

// ---------- asymmetric JWT material ----------
const RSA_PRIVATE = keyText('rsa_private.pem');
const RSA_PUBLIC = keyText('rsa_public.pem');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const users = {
  'svc-client': { publicKeys: [RSA_PUBLIC] },
  'ec-client': { publicKeys: [ec.publicKey.export({ format: 'pem', type: 'spki' }).toString()] },
  'weak-client': { publicKeys: [weak.publicKey.export({ format: 'pem', type: 'spki' }).toString()] },
};
// A static map refuses a weak key at start-up; served by a lookup (as from a database), the weak key
// is skipped per request with a `stored_key_skipped` warning, and its tokens must still be refused.
const lookupUsers = (name: string): (typeof users)[keyof typeof users] | undefined =>
  Object.hasOwn(users, name) ? users[name as keyof typeof users] : undefined;
const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined, debug: () => undefined };
const P256_ORDER = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  username: 'svc-client',
  time: NOW,
  nonce: randomUUID(),
  ...extra,
});
/** RS256 (or another RSA digest) over raw header/payload JSON text, so duplicate keys survive. */
function rsRaw(header: string, payload: string, key: string | KeyObject = RSA_PRIVATE, digest = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const k = typeof key === 'string' ? createPrivateKey(key) : key;
  return `${input}.${sign(digest, Buffer.from(input), k).toString('base64url')}`;
}
const rs = (header: object, payload: unknown, key: string | KeyObject = RSA_PRIVATE): string =>
  rsRaw(JSON.stringify(header), typeof payload === 'string' ? payload : JSON.stringify(payload), key);
function es256(payload: object, signature?: Buffer): string {
  const input = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64(payload)}`;
  const sig = signature ?? sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}
function hs(alg: 'HS256' | 'HS384' | 'HS512', secret: string | Buffer): string {
  const input = `${b64({ alg, typ: 'JWT' })}.${b64(claims())}`;
  return `${input}.${createHmac(`sha${alg.slice(2)}`, secret)
    .update(input)
    .digest('base64url')}`;
}
const spkiDer = (k: KeyObject): Buffer => (k.type === 'public' ? k : createPublicKey(k)).export({ format: 'der', type: 'spki' });

// ---------- the app ----------
const apiKeys = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32), clock });
let goodKey = '';
let otherKey = '';
let revokedKey = '';
const introspected = new Map<string, Record<string, unknown>>();
let introspectionServer: Listening;
let app: express.Express;
let http: Listening;

beforeAll(async () => {
  goodKey = (await apiKeys.issue({ owner: 'reporter', scopes: ['reports:read'] })).key;
  otherKey = (await apiKeys.issue({ owner: 'intern', scopes: [] })).key;
  const revoked = await apiKeys.issue({ owner: 'gone', scopes: ['reports:read'] });
  revokedKey = revoked.key;
  await apiKeys.revoke(revoked.record.id);

  introspected.set('good-token', { active: true, sub: 'alice', scope: 'orders:read', exp: NOW + 600, token_type: 'Bearer' });
  introspected.set('no-scope-token', { active: true, sub: 'bob', scope: 'other', exp: NOW + 600 });
  introspected.set('expired-token', { active: true, sub: 'carol', scope: 'orders:read', exp: NOW - 1 });
  introspected.set('refresh-token', { active: true, sub: 'dave', scope: 'orders:read', exp: NOW + 600, token_type: 'refresh_token' });
  introspected.set('proto-token', {
    active: true,
    sub: 'erin',
    scope: 'orders:read',
    exp: NOW + 600,
    __proto__: { admin: true },
    constructor: 'x',
  });
  introspectionServer = await listen((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      res.setHeader('content-type', 'application/json');
      // JSON.stringify of an object literal with __proto__ drops it; send it as raw text instead.
      const answer = introspected.get(token);
      if (token === 'proto-token')
        res.end(
          `{"active":true,"sub":"erin","scope":"orders:read","exp":${NOW + 600},"__proto__":{"admin":true},"constructor":{"prototype":{"polluted":true}}}`,
        );
      else res.end(JSON.stringify(answer ?? { active: false }));
    });
  });

  app = express();
  app.get('/jwt', authenticate([asymmetricJwtScheme({ users: lookupUsers, clock, logger: quiet })]), (req, res) => {
    res.json(req.principal);
  });
  app.get(
    '/jwt-big',
    authenticate([asymmetricJwtScheme({ users: lookupUsers, clock, logger: quiet })], { maxAuthorizationBytes: 70_000 }),
    (req, res) => {
      res.json(req.principal);
    },
  );
  app.get('/key', authenticate([apiKeyScheme({ manager: apiKeys })]), requireScopes('reports:read'), (req, res) => {
    res.json(req.principal);
  });
  const introspection = introspectionScheme({
    endpoint: `${introspectionServer.url}/introspect`,
    clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret-value' },
    clock,
    timeoutMs: 2000,
  });
  app.get('/orders', authenticate([introspection]), requireScopes('orders:read'), (req, res) => {
    res.json(req.principal);
  });
  app.get('/both', authenticate([introspection, apiKeyScheme({ manager: apiKeys })]), (req, res) => {
    res.json(req.principal);
  });
  http = await listen(app);
});

afterAll(async () => {
  await http.close();
  await introspectionServer.close();
});

describe('asymmetric JWT: RFC 8725 and JWT-library CVE cases', () => {
  it('controls: RSA and ES256 tokens signed right are accepted once, then refused as a replay', async () => {
    const token = rs({ alg: 'RS256', typ: 'JWT' }, claims());
    const ok = await request(app).get('/jwt').set('Authorization', `JWT ${token}`);
    expect([ok.status, ok.body.subject]).toEqual([200, 'svc-client']);
    const again = await request(app).get('/jwt').set('Authorization', `JWT ${token}`);
    expect(expectRefusal(again, 'JWT', { status: 401 }).code).toBe('replay');
    const ecOk = await request(app)
      .get('/jwt')
      .set('Authorization', `JWT ${es256(claims({ username: 'ec-client' }))}`);
    expect(ecOk.status).toBe(200);
  });

  const ecClaims = (): Record<string, unknown> => claims({ username: 'ec-client' });
  const zeros = Buffer.alloc(32);
  const cases: Array<[name: string, make: () => string]> = [
    ...['none', 'None', 'NONE', 'nOnE', 'none '].flatMap((alg): Array<[string, () => string]> => [
      [`alg "${alg}" with no signature`, () => `${b64({ alg, typ: 'JWT' })}.${b64(claims())}.`],
      [
        `alg "${alg}" with a copied RS256 signature`,
        () => `${b64({ alg, typ: 'JWT' })}.${b64(claims())}.${rs({ alg: 'RS256' }, claims()).split('.')[2]}`,
      ],
    ]),
    ['HS256 keyed with the RSA public key PEM', () => hs('HS256', RSA_PUBLIC)],
    ['HS384 keyed with the RSA public key PEM', () => hs('HS384', RSA_PUBLIC)],
    ['HS512 keyed with the RSA public key DER', () => hs('HS512', spkiDer(createPrivateKey(RSA_PRIVATE)))],
    ['HS256 keyed with the EC public key PEM', () => hs('HS256', users['ec-client'].publicKeys[0]!)],
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
    ['kid not a string', () => rs({ alg: 'RS256', kid: { $ne: null } }, claims(), attacker.privateKey)],
    ['crit with an unknown name (right key)', () => rs({ alg: 'RS256', crit: ['x-unknown'], 'x-unknown': true }, claims())],
    ['crit empty list (right key)', () => rs({ alg: 'RS256', crit: [] }, claims())],
    ['b64 false (right key)', () => rs({ alg: 'RS256', b64: false, crit: ['b64'] }, claims())],
    [
      'duplicate username in the payload (right key)',
      () => rsRaw('{"alg":"RS256"}', `{"username":"svc-client","time":${NOW},"nonce":"${randomUUID()}","username":"ec-client"}`),
    ],
    ['duplicate alg in the header (right key)', () => rsRaw('{"alg":"RS256","alg":"none"}', JSON.stringify(claims()))],
    [
      'escaped duplicate name in the payload (right key)',
      () => rsRaw('{"alg":"RS256"}', `{"username":"svc-client","time":${NOW},"nonce":"${randomUUID()}","\\u0075sername":"x"}`),
    ],
    ['padded base64url header', () => rs({ alg: 'RS256' }, claims()).replace('.', '=.')],
    [
      'standard-alphabet base64 signature',
      () => {
        const t = rs({ alg: 'RS256' }, claims());
        return t.replace(/-/g, '+').replace(/_/g, '/') + (/[-_]/.test(t) ? '' : '+/');
      },
    ],
    [
      'non-canonical base64url (spare bits set in the last char)',
      () => {
        const [h, p, s] = rs({ alg: 'RS256' }, claims()).split('.') as [string, string, string];
        const last = s.at(-1)!;
        const alt = 'AQgw'.includes(last) ? String.fromCharCode(last.charCodeAt(0) + 1) : last;
        return `${h}.${p}.${s.slice(0, -1)}${alt === last ? 'B' : alt}`;
      },
    ],
    ['nested JWT as the payload', () => rsRaw('{"alg":"RS256","cty":"JWT"}', rs({ alg: 'RS256' }, claims()))],
    ['payload a JSON array', () => rs({ alg: 'RS256' }, [claims()])],
    ['payload a JSON string', () => rs({ alg: 'RS256' }, '"svc-client"')],
    [
      'RS512 header over an RS256 signature',
      () => {
        const [, p, s] = rs({ alg: 'RS256' }, claims()).split('.') as [string, string, string];
        return `${b64({ alg: 'RS512' })}.${p}.${s}`;
      },
    ],
    ['signed by an unknown key', () => rs({ alg: 'RS256' }, claims(), attacker.privateKey)],
    ['signed by a 1024-bit RSA key of a known user', () => rs({ alg: 'RS256' }, claims({ username: 'weak-client' }), weak.privateKey)],
    ['ES256 with r = s = 0', () => es256(ecClaims(), Buffer.concat([zeros, zeros]))],
    [
      'ES256 with r = 0',
      () =>
        es256(
          ecClaims(),
          Buffer.concat([zeros, sign('sha256', Buffer.from('x'), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).subarray(32)]),
        ),
    ],
    ['ES256 with r = n, s = n (the group order)', () => es256(ecClaims(), Buffer.concat([P256_ORDER, P256_ORDER]))],
    ['ES256 with r and s all ones (above n)', () => es256(ecClaims(), Buffer.alloc(64, 0xff))],
    [
      'ES256 with a DER signature instead of r||s',
      () => {
        const input = `${b64({ alg: 'ES256' })}.${b64(ecClaims())}`;
        return `${input}.${sign('sha256', Buffer.from(input), ec.privateKey).toString('base64url')}`;
      },
    ],
    [
      'ES256 with a 65-byte signature',
      () =>
        es256(
          ecClaims(),
          Buffer.concat([sign('sha256', Buffer.from('y'), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }), Buffer.from([0])]),
        ),
    ],
    ['time as a string', () => rs({ alg: 'RS256' }, claims({ time: String(NOW) }))],
    ['time as a float far in the past', () => rs({ alg: 'RS256' }, claims({ time: NOW - 1000.5 }))],
    ['time negative', () => rs({ alg: 'RS256' }, claims({ time: -NOW }))],
    ['time zero', () => rs({ alg: 'RS256' }, claims({ time: 0 }))],
    ['time huge (1e308)', () => rs({ alg: 'RS256' }, claims({ time: 1e308 }))],
    [
      'time overflowing to Infinity (1e400)',
      () => rsRaw('{"alg":"RS256"}', `{"username":"svc-client","time":1e400,"nonce":"${randomUUID()}"}`),
    ],
    ['time missing', () => rs({ alg: 'RS256' }, { username: 'svc-client', nonce: randomUUID() })],
    ['time as an array', () => rs({ alg: 'RS256' }, claims({ time: [NOW] }))],
    ['time null', () => rs({ alg: 'RS256' }, claims({ time: null }))],
    ['nonce missing', () => rs({ alg: 'RS256' }, { username: 'svc-client', time: NOW })],
    ['nonce an object', () => rs({ alg: 'RS256' }, claims({ nonce: { a: 1 } }))],
    ['exp as a string', () => rs({ alg: 'RS256' }, claims({ exp: String(NOW + 60) }))],
    ['exp in the past', () => rs({ alg: 'RS256' }, claims({ exp: NOW - 1 }))],
    ['exp negative', () => rs({ alg: 'RS256' }, claims({ exp: -1 }))],
    ['nbf as a string', () => rs({ alg: 'RS256' }, claims({ nbf: String(NOW - 60) }))],
    ['nbf huge', () => rs({ alg: 'RS256' }, claims({ nbf: 1e300 }))],
    ['iat as a float', () => rs({ alg: 'RS256' }, claims({ iat: NOW - 0.5 }))],
    ['iat in the future', () => rs({ alg: 'RS256' }, claims({ iat: NOW + 3600 }))],
    ['aud present', () => rs({ alg: 'RS256' }, claims({ aud: 'https://elsewhere' }))],
    ['username "__proto__"', () => rs({ alg: 'RS256' }, claims({ username: '__proto__' }))],
    ['username "constructor"', () => rs({ alg: 'RS256' }, claims({ username: 'constructor' }))],
    ['username "toString"', () => rs({ alg: 'RS256' }, claims({ username: 'toString' }))],
    ['username "hasOwnProperty"', () => rs({ alg: 'RS256' }, claims({ username: 'hasOwnProperty' }))],
    [
      'username only via a __proto__ claim (right key)',
      () => rsRaw('{"alg":"RS256"}', `{"__proto__":{"username":"svc-client"},"time":${NOW},"nonce":"${randomUUID()}"}`),
    ],
    [
      'time only via a __proto__ claim (right key)',
      () => rsRaw('{"alg":"RS256"}', `{"username":"svc-client","__proto__":{"time":${NOW}},"nonce":"${randomUUID()}"}`),
    ],
    [
      'time only via a constructor.prototype claim (right key)',
      () => rsRaw('{"alg":"RS256"}', `{"username":"svc-client","constructor":{"prototype":{"time":${NOW}}},"nonce":"${randomUUID()}"}`),
    ],
    ['username an object', () => rs({ alg: 'RS256' }, claims({ username: { toString: 'svc-client' } }))],
    ['user unknown', () => rs({ alg: 'RS256' }, claims({ username: 'nobody' }))],
    ['user of another key (svc-client signed by the EC key)', () => es256(claims())],
  ];

  it('covers at least 60 hostile tokens', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)('%s → 4xx', async (_name, make) => {
    const token = make();
    const res = await request(http.server).get('/jwt').set('Authorization', `JWT ${token}`);
    const problem = expectRefusal(res, 'JWT', { status: [400, 401], secrets: [token.split('.')[2] ?? ''] });
    expect(['token_invalid', 'token_expired', 'request_malformed']).toContain(problem.code);
    // Nothing leaked into the prototype chain by a __proto__/constructor claim.
    expect(({} as Record<string, unknown>)['username']).toBeUndefined();
    expect(({} as Record<string, unknown>)['time']).toBeUndefined();
  });

  it('tokens of 12 kB and tens of kB: 400 at our header limit, 401 from the verifier, 431 from Node past 16 kB', async () => {
    const mid = rs({ alg: 'RS256' }, claims({ pad: 'x'.repeat(9_000) }));
    expect(mid.length).toBeGreaterThan(12_000);
    expectRefusal(await request(http.server).get('/jwt').set('Authorization', `JWT ${mid}`), 'JWT', { status: 400 });
    // A route that admits big headers still meets the verifier's own 8 kB token limit.
    const problem = expectRefusal(await request(http.server).get('/jwt-big').set('Authorization', `JWT ${mid}`), 'JWT', { status: 401 });
    expect(problem.reason).toBe('malformed');
    // Tens of kB never reach the app: Node's parser answers 431 (its --max-http-header-size, 16 kB).
    const big = rs({ alg: 'RS256' }, claims({ pad: 'x'.repeat(40_000) }));
    const res = await rawGet(http.port, '/jwt-big', [headerLine('Authorization', `JWT ${big}`)]);
    expect(res.status).toBe(431);
  });

  it('header tricks: casing, whitespace, two schemes, two headers', async () => {
    const t = (): string => rs({ alg: 'RS256' }, claims());
    // Scheme names are case-insensitive (RFC 9110 §11.1): accepted.
    expect((await request(http.server).get('/jwt').set('Authorization', `jwt ${t()}`)).status).toBe(200);
    const refusals: Array<[string, string | string[], number[]]> = [
      // One header rule for every scheme (src/scheme.ts): one space, one token68 credential.
      ['two spaces (Python leaves the token untrimmed and crashes)', `JWT  ${t()}`, [400]],
      ['tab separator', `JWT\t${t()}`, [400]],
      ['JWT and Bearer in one header', `JWT ${t()} Bearer ${t()}`, [400, 401]],
      ['comma-joined schemes', `JWT ${t()}, Bearer abc`, [400]],
      ['comma-joined schemes, the other first', `Bearer abc, JWT ${t()}`, [400]],
      ['Bearer scheme carrying the JWT', `Bearer ${t()}`, [401]],
      ['two Authorization headers', [`JWT ${t()}`, `JWT ${t()}`], [400]],
      ['scheme only', 'JWT', [400]],
      ['scheme with a trailing space only (Node trims it: the scheme alone)', 'JWT ', [400]],
    ];
    for (const [name, header, status] of refusals) {
      const res = await request(http.server)
        .get('/jwt')
        .set('Authorization', header as string);
      try {
        expectRefusal(res, 'JWT', { status });
      } catch (error) {
        throw new Error(`${name}: ${String(error)}`);
      }
    }
  });
});

describe('API keys: header tricks', () => {
  it('control: the issued key is accepted in both places', async () => {
    expect((await request(http.server).get('/key').set('X-API-Key', goodKey)).status).toBe(200);
    expect((await request(http.server).get('/key').set('Authorization', `apikey ${goodKey}`)).status).toBe(200);
  });

  const swapSecret = (a: string, b: string): string => `${a.split('.')[0]}.${b.split('.')[1]}`;
  type Case = [name: string, lines: () => Buffer[], status: number[]];
  const cases: Case[] = [
    ['garbage', () => [headerLine('X-API-Key', 'not-a-key')], [401]],
    ['right id, secret of another key', () => [headerLine('X-API-Key', swapSecret(goodKey, otherKey))], [401]],
    [
      'right id, secret one character off',
      () => [headerLine('X-API-Key', goodKey.slice(0, -1) + (goodKey.endsWith('A') ? 'B' : 'A'))],
      [401],
    ],
    ['right id, empty secret', () => [headerLine('X-API-Key', `${goodKey.split('.')[0]}.`)], [401]],
    ['right id, secret doubled', () => [headerLine('X-API-Key', `${goodKey}${goodKey.split('.')[1]}`)], [401]],
    ['revoked key', () => [headerLine('X-API-Key', revokedKey)], [401]],
    ['valid key without the scope', () => [headerLine('X-API-Key', otherKey)], [403]],
    ['key in both places', () => [headerLine('X-API-Key', goodKey), headerLine('Authorization', `ApiKey ${goodKey}`)], [400]],
    // Node joins repeated custom headers with ", ", so this arrives as one (invalid) key: 401.
    ['two X-API-Key headers', () => [headerLine('X-API-Key', goodKey), headerLine('X-API-Key', goodKey)], [400, 401]],
    ['two X-API-Key headers, first wrong', () => [headerLine('X-API-Key', otherKey), headerLine('X-API-Key', goodKey)], [400, 401]],
    ['empty X-API-Key', () => [headerLine('X-API-Key', '   ')], [400]],
    ['6 kB key', () => [headerLine('X-API-Key', 'k'.repeat(6000))], [401]],
    [
      'raw non-UTF-8 bytes',
      () => [headerLine('X-API-Key', Buffer.concat([Buffer.from(goodKey.slice(0, 10)), Buffer.from([0xff, 0xfe, 0x80])]))],
      [400, 401],
    ],
    [
      'Unicode look-alike in the prefix (UTF-8 bytes)',
      () => [headerLine('X-API-Key', Buffer.from(goodKey.replace(/^./, '\u0430'), 'utf8'))],
      [400, 401],
    ],
    ['ApiKey and Bearer in one header', () => [headerLine('Authorization', `ApiKey ${goodKey} Bearer x`)], [400, 401]],
    ['ApiKey scheme with a tab', () => [headerLine('Authorization', `ApiKey\t${goodKey}`)], [400]],
    ['ApiKey scheme and no key', () => [headerLine('Authorization', 'ApiKey')], [400]],
    ['key sent as Basic password', () => [headerLine('Authorization', `Basic ${Buffer.from(`x:${goodKey}`).toString('base64')}`)], [401]],
  ];

  it.each(cases)('%s', async (_name, lines, status) => {
    const res = await rawGet(http.port, '/key', lines());
    expectRefusal({ status: res.status, headers: res.headers, text: res.body }, 'ApiKey', { status, secrets: [goodKey.split('.')[1]!] });
  });
});

describe('OAuth introspection: header tricks', () => {
  it('controls: an active token is accepted, scheme case-insensitive; a __proto__ answer pollutes nothing', async () => {
    expect((await request(http.server).get('/orders').set('Authorization', 'Bearer good-token')).status).toBe(200);
    expect((await request(http.server).get('/orders').set('Authorization', 'bEaReR good-token')).status).toBe(200);
    const proto = await request(http.server).get('/orders').set('Authorization', 'Bearer proto-token');
    expect(proto.status).toBe(200);
    expect(proto.body).toMatchObject({ subject: 'erin', scopes: ['orders:read'] });
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  type Case = [name: string, lines: () => Buffer[], status: number[]];
  const cases: Case[] = [
    ['inactive token', () => [headerLine('Authorization', 'Bearer unknown-token')], [401]],
    ['expired token', () => [headerLine('Authorization', 'Bearer expired-token')], [401]],
    ['refresh token presented as access token', () => [headerLine('Authorization', 'Bearer refresh-token')], [401]],
    ['token without the scope', () => [headerLine('Authorization', 'Bearer no-scope-token')], [403]],
    ['huge token (6 kB, under the header limit)', () => [headerLine('Authorization', `Bearer ${'a'.repeat(6000)}`)], [401]],
    ['huge token (12 kB, over the 8 kB header limit)', () => [headerLine('Authorization', `Bearer ${'a'.repeat(12_000)}`)], [400]],
    ['Bearer with a tab', () => [headerLine('Authorization', 'Bearer\tgood-token')], [400]],
    ['Bearer with a non-breaking space', () => [headerLine('Authorization', Buffer.from('Bearer\u00a0good-token', 'latin1'))], [400]],
    ['Bearer and Basic in one header', () => [headerLine('Authorization', 'Bearer good-token Basic YTpi')], [400]],
    ['Bearer and Basic comma-joined', () => [headerLine('Authorization', 'Bearer good-token, Basic YTpi')], [400]],
    ['two Bearer tokens', () => [headerLine('Authorization', 'Bearer good-token good-token')], [400]],
    [
      'two Authorization headers',
      () => [headerLine('Authorization', 'Bearer good-token'), headerLine('Authorization', 'Bearer good-token')],
      [400],
    ],
    ['Bearer token with characters outside b64token', () => [headerLine('Authorization', 'Bearer good-token"')], [400]],
    [
      'Bearer with raw non-UTF-8 bytes',
      () => [headerLine('Authorization', Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xff, 0xfe]))],
      [400],
    ],
    ['scheme "Bearer:"', () => [headerLine('Authorization', 'Bearer: good-token')], [400, 401]],
    ['scheme "Bearerx"', () => [headerLine('Authorization', 'Bearerx good-token')], [401]],
    ['scheme only', () => [headerLine('Authorization', 'Bearer')], [400, 401]],
    ['token as a query-style string', () => [headerLine('Authorization', 'Bearer access_token=good-token')], [400, 401]],
  ];

  it.each(cases)('%s', async (_name, lines, status) => {
    const res = await rawGet(http.port, '/orders', lines());
    expectRefusal({ status: res.status, headers: res.headers, text: res.body }, 'Bearer', { status });
  });

  it('refused before the app: the Node parser answers 400/431 for control bytes and 20 kB headers', async () => {
    const vt = await rawGet(http.port, '/orders', [headerLine('Authorization', Buffer.from('Bearer good\x0btoken', 'latin1'))]);
    expect(vt.status).toBe(400);
    const nul = await rawGet(http.port, '/orders', [headerLine('Authorization', Buffer.from('Bearer good\x00token', 'latin1'))]);
    expect(nul.status).toBe(400);
    const huge = await rawGet(http.port, '/orders', [headerLine('Authorization', `Bearer ${'a'.repeat(20_000)}`)]);
    expect(huge.status).toBe(431);
  });

  it('two schemes on one route: a good API key beside a bad Bearer yields only the API key principal', async () => {
    const res = await request(http.server).get('/both').set('Authorization', 'Bearer unknown-token').set('X-API-Key', goodKey);
    // authenticate() takes the first scheme that succeeds; the rejected Bearer contributes nothing.
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ subject: 'reporter', scheme: 'apikey', scopes: ['reports:read'] });
    const bad = await request(http.server)
      .get('/both')
      .set('Authorization', 'Bearer unknown-token')
      .set('X-API-Key', otherKey.slice(0, -2));
    expectRefusal(bad, 'Bearer', { status: 401 });
  });
});
