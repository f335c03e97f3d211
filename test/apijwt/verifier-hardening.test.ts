/**
 * APIJwt verifier hardening (security review round 2): the model's allowed values are enforced on
 * verification, invalid UTF-8 is refused, `exp` is a bounded integer, P-256 keys verify ES256, and
 * `typ` can be required. Every token here is correctly signed: only the checks under test refuse it.
 */
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiJwtIssuer, ApiJwtVerifier, type ApiJwtModelOptions, type ApiJwtVerifierOptions } from '../../src/index.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/apijwt/${name}`, import.meta.url), 'utf8');
const PRIVATE = fixture('rsa_private.pem');
const PUBLIC = fixture('rsa_public.pem');
const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;

const MODEL: ApiJwtModelOptions = {
  keyNames: { user: 'auth_user', admin: 'auth_admin' },
  allowed: { scopes: { PER_KEY: { user: ['orders:read', 'orders:write'], admin: ['admin:all'] } } },
};

const b64 = (v: string | Buffer): string => (typeof v === 'string' ? Buffer.from(v) : v).toString('base64url');
/** Signs exact payload bytes with RS256 (or the key's own algorithm), bypassing every issuer check. */
function signed(
  payload: object | string | Buffer,
  header: object = { alg: 'RS256', typ: 'JWT' },
  key: string | KeyObject = PRIVATE,
): string {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const input = `${b64(JSON.stringify(header))}.${b64(body)}`;
  const k = typeof key === 'string' ? createPrivateKey(key) : key;
  const digest = k.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  const options = k.asymmetricKeyType === 'ec' ? { key: k, dsaEncoding: 'ieee-p1363' as const } : k;
  return `${input}.${sign(digest, Buffer.from(input), options).toString('base64url')}`;
}
const verifier = (options: Partial<ApiJwtVerifierOptions> = {}): ApiJwtVerifier =>
  new ApiJwtVerifier({ ...MODEL, publicKeys: [PUBLIC], clock, ...options });
const base = { iss: 'auth_user', sub: 'alice', exp: NOW + 600, level: '1.0', factor: 'password', dnt: '0' };

describe("APIJwt: the model's allowed values are enforced on verification", () => {
  it('accepts what the issuer of the same model mints (control)', async () => {
    const { token } = new ApiJwtIssuer({ ...MODEL, privateKey: PRIVATE, clock }).issue({
      subject: 'alice',
      extras: { scopes: ['orders:read', 'orders:write'], level: 1 },
    });
    const result = await verifier().verify(token);
    expect(result).toMatchObject({ valid: true, claims: { scopes: ['orders:read', 'orders:write'], keyName: 'user' } });
  });

  it.each([
    ['a scope the key "user" may not carry', { ...base, scopes: 'orders:read,admin:all' }, 'value_not_allowed'],
    [
      "scopes as a JSON array (api_jwt writes a string; Python's decode crashes on a list)",
      { ...base, scopes: ['orders:read', 'admin:all'] },
      'claim_invalid',
    ],
    ['scopes as a JSON array of allowed values', { ...base, scopes: ['orders:read'] }, 'claim_invalid'],
    ['a level outside the allowed levels', { ...base, level: '9.0' }, 'value_not_allowed'],
    ['a dnt outside the allowed values', { ...base, dnt: '7' }, 'value_not_allowed'],
    [
      'a restricted scope under an issuer the model does not know',
      { ...base, iss: 'auth_other', scopes: 'orders:read' },
      'value_not_allowed',
    ],
    ['a restricted scope with no issuer', { sub: 'alice', exp: NOW + 600, scopes: 'orders:read' }, 'value_not_allowed'],
  ])('refuses %s', async (_name, payload, reason) => {
    expect(await verifier().verify(signed(payload))).toMatchObject({ valid: false, isBad: true, reason });
  });

  it('compares with Python equality: level "3.0" matches an allowed 3', async () => {
    expect(await verifier().verify(signed({ ...base, level: '3.0', scopes: 'orders:read' }))).toMatchObject({
      valid: true,
      claims: { level: 3 },
    });
  });

  it("checkAllowedValues: false restores api_jwt's decode (no allow-list checks) for issuers you do not control", async () => {
    const result = await verifier({ checkAllowedValues: false }).verify(signed({ ...base, scopes: 'orders:read,admin:all' }));
    expect(result).toMatchObject({ valid: true, claims: { scopes: ['orders:read', 'admin:all'] } });
  });
});

describe('APIJwt: invalid UTF-8 in a signed token is refused', () => {
  it.each([
    ['payload', (bytes: Buffer) => signed(bytes)],
    [
      'header',
      (bytes: Buffer) => {
        const header = Buffer.concat([Buffer.from('{"alg":"RS256","typ":"JWT","x":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]);
        const input = `${b64(header)}.${b64(JSON.stringify(base))}`;
        void bytes;
        return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey(PRIVATE)).toString('base64url')}`;
      },
    ],
  ])('C0 AF (overlong "/") in the %s: malformed, not decoded with U+FFFD', async (_where, make) => {
    const payload = Buffer.concat([
      Buffer.from(`{"iss":"auth_user","exp":${NOW + 600},"sub":"ali`),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from('ce"}'),
    ]);
    expect(await verifier().verify(make(payload))).toMatchObject({ valid: false, reason: 'malformed' });
  });

  it('a lone surrogate encoded as UTF-8 (ED A0 80) is refused too', async () => {
    const payload = Buffer.concat([Buffer.from(`{"exp":${NOW + 600},"sub":"a`), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    expect(await verifier().verify(signed(payload))).toMatchObject({ valid: false, reason: 'malformed' });
  });
});

describe('APIJwt: exp is a whole number of seconds within the maximum token lifetime', () => {
  it.each([
    ['exp 1e308', 1e308, 'lifetime_too_long'],
    ['exp one second past the default 24 h horizon', NOW + 86_401, 'lifetime_too_long'],
    ['a fractional future exp', NOW + 600.5, 'claim_invalid'],
  ])('refuses %s', async (_name, exp, reason) => {
    expect(await verifier().verify(signed({ ...base, exp }))).toMatchObject({ valid: false, isBad: true, reason });
  });

  it('accepts exp exactly at the horizon, and maxTokenLifetimeSeconds moves it', async () => {
    expect(await verifier().verify(signed({ ...base, exp: NOW + 86_400 }))).toMatchObject({ valid: true });
    expect(await verifier({ maxTokenLifetimeSeconds: 7 * 86_400 }).verify(signed({ ...base, exp: NOW + 86_401 }))).toMatchObject({
      valid: true,
    });
    expect(await verifier({ maxTokenLifetimeSeconds: 60 }).verify(signed({ ...base, exp: NOW + 61 }))).toMatchObject({
      valid: false,
      reason: 'lifetime_too_long',
    });
  });

  it.each([0, -1, NaN, Infinity, 1.5])('refuses maxTokenLifetimeSeconds %p at construction', (value) => {
    expect(() => verifier({ maxTokenLifetimeSeconds: value })).toThrow(/"maxTokenLifetimeSeconds" must be an integer > 0/);
  });
});

describe('APIJwt: P-256 keys', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecPublic = ec.publicKey.export({ format: 'pem', type: 'spki' }).toString();

  it('the default verifier verifies the ES256 tokens the issuer makes with a P-256 key (algorithms come from the key)', async () => {
    const { token } = new ApiJwtIssuer({ privateKey: ec.privateKey, clock }).issue({ subject: 'svc' });
    expect(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString())).toMatchObject({ alg: 'ES256' });
    const result = await new ApiJwtVerifier({ publicKeys: [ecPublic], clock }).verify(token);
    expect(result).toMatchObject({ valid: true, claims: { id: 'svc' } });
  });

  it('an RSA key still verifies RS256 only by default (api_jwt), P-256 only ES256', async () => {
    const both = new ApiJwtVerifier({ publicKeys: [PUBLIC, ecPublic], clock });
    expect(await both.verify(signed({ ...base }, { alg: 'ES256' }, ec.privateKey))).toMatchObject({ valid: true });
    // An ES256 header over an RSA signature, and RS256 over the P-256 key, never verify.
    expect(await both.verify(signed({ ...base }, { alg: 'ES256' }))).toMatchObject({ valid: false });
  });

  it('refuses, at construction, a key that cannot verify any explicitly configured algorithm, naming it and what it accepts', () => {
    expect(() => new ApiJwtVerifier({ publicKeys: [PUBLIC, ecPublic], algorithms: ['RS256'] })).toThrow(
      'new ApiJwtVerifier(): "publicKeys[1]" must be a key for one of "algorithms" (RS256) (got an EC P-256 key, which verifies ES256)',
    );
  });
});

describe('APIJwt: optional typ check (RFC 8725 §3.11)', () => {
  it('off by default: a token without typ verifies', async () => {
    expect(await verifier().verify(signed(base, { alg: 'RS256' }))).toMatchObject({ valid: true });
  });

  it.each([
    ['typ JWT', { alg: 'RS256', typ: 'JWT' }, true],
    ['typ application/jwt (media type form, case-insensitive)', { alg: 'RS256', typ: 'application/JWT' }, true],
    ['no typ', { alg: 'RS256' }, false],
    ['typ at+jwt', { alg: 'RS256', typ: 'at+jwt' }, false],
    ['typ as a number', { alg: 'RS256', typ: 1 }, false],
  ])('typ: "JWT" required: %s → valid %s', async (_name, header, valid) => {
    const result = await verifier({ typ: 'JWT' }).verify(signed(base, header));
    expect(result).toMatchObject(valid ? { valid: true } : { valid: false, reason: 'type_invalid' });
  });
});

describe('APIJwt: shared secrets and option names', () => {
  const SECRET_MESSAGE = "shared secrets (HS256/384/512) are not supported: verify with the issuer's public key (jwksUri or publicKeys)";
  it('an HMAC secret as publicKeys, or HS256 in algorithms, is refused saying so', () => {
    expect(() => new ApiJwtVerifier({ publicKeys: 'my-hs256-secret' })).toThrow(
      new TypeError(`new ApiJwtVerifier(): "publicKeys": ${SECRET_MESSAGE}`),
    );
    expect(() => new ApiJwtVerifier({ publicKeys: fixture('rsa_public.pem'), algorithms: ['HS256' as never] })).toThrow(
      new TypeError(`new ApiJwtVerifier(): "algorithms": ${SECRET_MESSAGE}`),
    );
  });

  it('jwksUri must be https (http only for loopback), and excludes keySource', () => {
    expect(() => new ApiJwtVerifier({ jwksUri: 'http://auth.example/jwks' })).toThrow(
      new TypeError('new ApiJwtVerifier(): "jwksUri" must be an absolute https URL (http only for loopback) (got a http URL)'),
    );
    expect(() => new ApiJwtVerifier({ jwksUri: 'https://auth.example/jwks', keySource: { getKey: async () => undefined } })).toThrow(
      new TypeError('new ApiJwtVerifier(): give "keySource" or "jwksUri", not both'),
    );
  });

  it('keyNames maps key names to iss; the issuer takes lifetimeSeconds', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const issuer = new ApiJwtIssuer({ privateKey, keyNames: { svc: 'auth_svc' }, lifetimeSeconds: 120 });
    const issued = issuer.issue({ subject: 'u-1', keyName: 'svc', extras: { scopes: null } });
    expect(issued.claims['iss']).toBe('auth_svc');
    const result = await new ApiJwtVerifier({
      publicKeys: publicKey,
      keyNames: { svc: 'auth_svc' },
      checkAllowedValues: false,
      requireKnownIssuer: true,
    }).verify(issued.token);
    expect(result).toMatchObject({ valid: true, claims: { keyName: 'svc' } });
    expect(() => new ApiJwtIssuer({ privateKey, lifetimeSeconds: 0 })).toThrow(
      new TypeError('new ApiJwtIssuer(): "lifetimeSeconds" must be an integer >= 1 (got 0)'),
    );
  });
});
