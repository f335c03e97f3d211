/**
 * A JWK's own `alg`, `use` and `key_ops` are honoured when keys come from a JWK Set (RFC 7517 §4.2–4.4,
 * RFC 8725 §3.1): an entry published for another algorithm or for encryption never verifies a token,
 * in RemoteJwks itself and through APIJwt and asymmetric JWT.
 */
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiJwtVerifier, AsymmetricJwtVerifier, RemoteJwks } from '../../src/index.js';
import { signCompact } from '../../src/jwt/compact.js';
import { pyJsonDumps } from '../../src/jwt/pyjson.js';

const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = rsa.publicKey.export({ format: 'jwk' }) as JsonWebKey;

// kid → the JWK members added to the RSA public key.
const ENTRIES: Record<string, Record<string, unknown>> = {
  plain: {},
  'alg-rs256': { alg: 'RS256' },
  'alg-rs512': { alg: 'RS512' },
  'alg-ps256': { alg: 'PS256' },
  'use-sig': { use: 'sig' },
  'use-enc': { use: 'enc' },
  'ops-verify': { key_ops: ['verify'] },
  'ops-encrypt': { key_ops: ['encrypt', 'wrapKey'] },
};

let server: Server;
let url: string;
beforeAll(async () => {
  const body = JSON.stringify({ keys: Object.entries(ENTRIES).map(([kid, extra]) => ({ ...jwk, kid, ...extra })) });
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const usable: ReadonlyArray<[kid: string, usableForRs256: boolean]> = [
  ['plain', true],
  ['alg-rs256', true],
  ['alg-rs512', false],
  ['alg-ps256', false],
  ['use-sig', true],
  ['use-enc', false],
  ['ops-verify', true],
  ['ops-encrypt', false],
];

describe('RemoteJwks.getKey(kid, alg)', () => {
  it.each(usable)('%s: a key for RS256 → %s', async (kid, expected) => {
    const jwks = new RemoteJwks(url, { clock });
    expect((await jwks.getKey(kid, 'RS256')) !== undefined).toBe(expected);
  });

  it('an entry with alg RS512 is returned for RS512', async () => {
    expect(await new RemoteJwks(url, { clock }).getKey('alg-rs512', 'RS512')).toBeDefined();
  });
});

describe('through the schemes', () => {
  const apiJwt = (kid: string): string =>
    signCompact(
      'RS256',
      rsa.privateKey,
      JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }),
      pyJsonDumps({ iss: 'auth_user', sub: 'alice', exp: NOW + 600 }),
    );

  it.each(usable)('APIJwt, RS256 token with kid %s: valid %s', async (kid, expected) => {
    const result = await new ApiJwtVerifier({ jwksUri: url, jwks: { cooldownMs: 0 }, clock }).verify(apiJwt(kid));
    expect(result.valid).toBe(expected);
    if (!expected) expect(result).toMatchObject({ reason: 'signature_invalid' });
  });

  it.each(usable)('asymmetric JWT, RS256 token with kid %s: accepted %s', async (kid, expected) => {
    const verifier = new AsymmetricJwtVerifier({ users: { 'svc-client': { jwks: [url] } }, clock });
    const token = signCompact(
      'RS256',
      rsa.privateKey,
      JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }),
      JSON.stringify({ username: 'svc-client', time: NOW, nonce: `n-${kid}` }),
    );
    const outcome = verifier.verify(token);
    if (expected) await expect(outcome).resolves.toMatchObject({ username: 'svc-client', via: 'jwks' });
    else await expect(outcome).rejects.toMatchObject({ code: 'token_invalid', reason: 'key_unknown' });
  });
});
