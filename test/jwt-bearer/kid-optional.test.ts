/**
 * A token header without `kid` (RFC 7515 §4.1.4 makes it optional; OpenID Connect Core §10.1 asks
 * for it only when the JWK Set holds several keys): verified against the issuer's JWK Set when the
 * set holds exactly one key that fits the token's algorithm, refused (`key_unknown`) when it holds
 * none or several.
 */
import { generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwtAccessTokenVerifier } from '../../src/index.js';

const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;
const ISS = 'https://issuer.example.test/';
const AUD = 'https://api.example.test';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = (key: KeyObject, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...(key.export({ format: 'jwk' }) as JsonWebKey),
  ...extra,
});

// Each path of the server is one JWK Set.
const SETS: Record<string, Array<Record<string, unknown>>> = {
  '/one-with-kid': [jwk(rsa.publicKey, { kid: 'only' })],
  '/one-without-kid': [jwk(rsa.publicKey)],
  '/rsa-and-ec': [jwk(rsa.publicKey, { kid: 'rsa' }), jwk(ec.publicKey, { kid: 'ec' })],
  '/two-rsa': [jwk(rsa.publicKey, { kid: 'a' }), jwk(rsa2.publicKey, { kid: 'b' })],
  '/one-for-rs512': [jwk(rsa.publicKey, { kid: 'rs512', alg: 'RS512' })],
  '/one-for-encryption': [jwk(rsa.publicKey, { kid: 'enc', use: 'enc' })],
};

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: SETS[req.url ?? ''] ?? [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
function token(alg: 'RS256' | 'ES256', key: KeyObject, header: Record<string, unknown> = {}): string {
  const input = `${b64({ alg, typ: 'at+jwt', ...header })}.${b64({ iss: ISS, aud: AUD, sub: 'alice', exp: NOW + 300, iat: NOW - 10 })}`;
  const signature =
    alg === 'ES256' ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}
const verify = (set: string, jws: string) =>
  new JwtAccessTokenVerifier({ issuer: ISS, audience: AUD, jwksUri: `${base}${set}`, clock, cache: false }).verify(jws);

describe('jwtBearerScheme verifier: a token without kid', () => {
  it.each([
    ['a JWK Set of one key with a kid', '/one-with-kid', 'RS256', rsa.privateKey],
    ['a JWK Set of one key without a kid', '/one-without-kid', 'RS256', rsa.privateKey],
    ['one RSA and one EC key: RS256', '/rsa-and-ec', 'RS256', rsa.privateKey],
    ['one RSA and one EC key: ES256', '/rsa-and-ec', 'ES256', ec.privateKey],
  ] as const)('is accepted with %s (exactly one fitting key)', async (_name, set, alg, key) => {
    await expect(verify(set, token(alg, key))).resolves.toMatchObject({ subject: 'alice' });
  });

  it.each([
    ['two RSA keys', '/two-rsa'],
    ['one key published for RS512 only', '/one-for-rs512'],
    ['one key published for encryption', '/one-for-encryption'],
  ])('is refused (key_unknown) with %s: no single fitting key', async (_name, set) => {
    await expect(verify(set, token('RS256', rsa.privateKey))).rejects.toMatchObject({ code: 'token_invalid', reason: 'key_unknown' });
  });

  it('signed by another key, is refused (signature_invalid) against the one key of the set', async () => {
    await expect(verify('/one-with-kid', token('RS256', attacker.privateKey))).rejects.toMatchObject({
      code: 'token_invalid',
      reason: 'signature_invalid',
    });
  });

  it('a token with a kid still never selects a key published without one', async () => {
    await expect(verify('/one-without-kid', token('RS256', rsa.privateKey, { kid: 'made-up' }))).rejects.toMatchObject({
      code: 'token_invalid',
      reason: 'key_unknown',
    });
  });
});
