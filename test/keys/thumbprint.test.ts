/** RFC 7638 JWK thumbprints, the kid this suite gives every key it names. */
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';

const fixture = (name: string) => new URL(`../fixtures/oauth/${name}`, import.meta.url);
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('RFC 7638 thumbprint', () => {
  it('matches the RFC 7638 §3.1 example', () => {
    const jwk = JSON.parse(readFileSync(fixture('rfc7638-key.json'), 'utf8')) as JsonWebKey;
    expect(jwkThumbprint(createPublicKey({ key: jwk, format: 'jwk' }))).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
  it('is the same for a private key and its public half', () => {
    expect(jwkThumbprint(ec.privateKey)).toBe(jwkThumbprint(ec.publicKey));
  });
});

describe('thumbprints of each key type', () => {
  it('are 43 base64url characters, the same for a key and its public half, different between keys', () => {
    const keys = [
      generateKeyPairSync('rsa', { modulusLength: 2048 }),
      ec,
      generateKeyPairSync('ec', { namedCurve: 'P-384' }),
      generateKeyPairSync('ed25519'),
    ];
    const prints = keys.map(({ privateKey, publicKey }) => {
      expect(jwkThumbprint(privateKey)).toBe(jwkThumbprint(publicKey));
      return jwkThumbprint(publicKey);
    });
    for (const print of prints) expect(print).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(prints).size).toBe(keys.length);
  });

  it('ignore optional JWK members: a key read from a JWK with kid, use and alg has the thumbprint of the bare key', () => {
    const bare = ec.publicKey.export({ format: 'jwk' });
    const decorated = createPublicKey({ key: { ...bare, kid: 'x', use: 'sig', alg: 'ES256' } as JsonWebKey, format: 'jwk' });
    expect(jwkThumbprint(decorated)).toBe(jwkThumbprint(ec.publicKey));
  });
});
