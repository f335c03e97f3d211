/**
 * jwtBearerScheme's verifier under the rules every JWT scheme here follows (security review round 2):
 * invalid UTF-8 refused, `exp` a whole number within `maxTokenLifetimeSeconds`, optional `typ`, and a
 * JWKS entry's own `alg` honoured. Every token is correctly signed by the issuer's key.
 */
import { createPrivateKey, generateKeyPairSync, sign, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { JwtAccessTokenVerifier, type JwtAccessTokenVerifierOptions } from '../../src/index.js';

const keyText = (name: string): string => readFileSync(new URL(`../fixtures/asymmetric-jwt/keys/${name}`, import.meta.url), 'utf8');
const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;
const ISS = 'https://issuer.example.test/';
const AUD = 'https://api.example.test';
const PRIVATE = createPrivateKey(keyText('rsa_private.pem'));
const PUBLIC = keyText('rsa_public.pem');

const b64 = (v: string | Buffer): string => (typeof v === 'string' ? Buffer.from(v) : v).toString('base64url');
function token(
  payload: Buffer | Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'RS256', typ: 'at+jwt' },
  key = PRIVATE,
): string {
  const body = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(JSON.stringify({ iss: ISS, aud: AUD, sub: 'alice', exp: NOW + 300, iat: NOW - 10, ...payload }));
  const input = `${b64(JSON.stringify(header))}.${b64(body)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}
const verifier = (options: Partial<JwtAccessTokenVerifierOptions> = {}): JwtAccessTokenVerifier =>
  new JwtAccessTokenVerifier({ issuer: ISS, audience: AUD, publicKeys: [PUBLIC], clock, cache: false, ...options });

describe('jwtBearerScheme verifier: exp and UTF-8', () => {
  it('accepts a token with exp within the horizon (control)', async () => {
    await expect(verifier().verify(token({}))).resolves.toMatchObject({ subject: 'alice' });
  });

  it.each([
    ['exp 1e308', { exp: 1e308 }, 'lifetime_too_long'],
    ['exp a day and a second ahead', { exp: NOW + 86_401 }, 'lifetime_too_long'],
    ['a fractional future exp', { exp: NOW + 300.5 }, 'claim_invalid'],
  ])('refuses %s', async (_name, claims, reason) => {
    await expect(verifier().verify(token(claims))).rejects.toMatchObject({ code: 'token_invalid', reason });
  });

  it('maxTokenLifetimeSeconds moves the horizon and is validated', async () => {
    await expect(verifier({ maxTokenLifetimeSeconds: 7 * 86_400 }).verify(token({ exp: NOW + 86_401 }))).resolves.toMatchObject({
      subject: 'alice',
    });
    expect(() => verifier({ maxTokenLifetimeSeconds: -1 })).toThrow(
      'new JwtAccessTokenVerifier(): "maxTokenLifetimeSeconds" must be an integer > 0 (got -1)',
    );
  });

  it('C0 AF in sub is refused as malformed', async () => {
    const payload = Buffer.concat([
      Buffer.from(`{"iss":"${ISS}","aud":"${AUD}","exp":${NOW + 300},"sub":"ali`),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from('ce"}'),
    ]);
    await expect(verifier().verify(token(payload))).rejects.toMatchObject({ code: 'token_invalid', reason: 'malformed' });
  });
});

describe('jwtBearerScheme verifier: optional typ under the jwt profile', () => {
  it.each([
    ['typ at+jwt', { alg: 'RS256', typ: 'at+jwt' }, true],
    ['typ application/at+jwt', { alg: 'RS256', typ: 'application/at+jwt' }, true],
    ['no typ', { alg: 'RS256' }, false],
    ['typ JWT', { alg: 'RS256', typ: 'JWT' }, false],
  ])('typ: "at+jwt" required: %s → accepted %s', async (_name, header, ok) => {
    const outcome = verifier({ typ: 'at+jwt' }).verify(token({}, header));
    if (ok) await expect(outcome).resolves.toMatchObject({ subject: 'alice' });
    else await expect(outcome).rejects.toMatchObject({ code: 'token_invalid', reason: 'type_invalid' });
  });

  it('without the option, the jwt profile accepts a token without typ (control)', async () => {
    await expect(verifier().verify(token({}, { alg: 'RS256' }))).resolves.toMatchObject({ subject: 'alice' });
  });
});

describe('jwtBearerScheme verifier: a JWKS entry for another algorithm is not used', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let server: Server;
  let jwksUri = '';
  beforeAll(async () => {
    const jwk = rsa.publicKey.export({ format: 'jwk' }) as JsonWebKey;
    const body = JSON.stringify({
      keys: [
        { ...jwk, kid: 'rs256', alg: 'RS256' },
        { ...jwk, kid: 'rs512', alg: 'RS512' },
      ],
    });
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([
    ['rs256', true],
    ['rs512', false],
  ])('RS256 token with kid %s: accepted %s', async (kid, ok) => {
    const v = new JwtAccessTokenVerifier({ issuer: ISS, audience: AUD, jwksUri, clock, cache: false });
    const outcome = v.verify(token({}, { alg: 'RS256', typ: 'at+jwt', kid }, rsa.privateKey));
    if (ok) await expect(outcome).resolves.toMatchObject({ subject: 'alice' });
    else await expect(outcome).rejects.toMatchObject({ code: 'token_invalid', reason: 'key_unknown' });
  });
});
