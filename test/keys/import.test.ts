/**
 * Key import shared by every scheme: the forms a key is read from (PEM, DER, JWK, KeyObject), the
 * strength policy, public versus private material, and the start-up option check.
 */
import { createSecretKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  importPrivateKey,
  importPublicKey,
  isKeyEntry,
  isKeyImportError,
  isPrivateKeyInput,
  KeyImportError,
  keyFamily,
  publicKeyOption,
} from '../../src/keys/import.js';

/** Reads a key file of the asymmetric JWT fixtures. */
const keyText = (name: string): string => readFileSync(join(process.cwd(), 'test/fixtures/asymmetric-jwt/keys', name), 'utf8');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');

/** The `code` of the KeyImportError `fn` throws (fails the test when it throws anything else or nothing). */
function importErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isKeyImportError(error)) return error.code;
    throw error;
  }
  throw new Error('no error thrown');
}

describe('keyFamily and the strength policy', () => {
  it('refuses RSA keys under 2048 bits and unsupported curves', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => importPublicKey(weak.publicKey)).toThrow(KeyImportError);
    const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
    expect(() => importPublicKey(p521.publicKey)).toThrow(expect.objectContaining({ code: 'key_unsupported' }));
  });

  it('classifies RSA >= 2048, Ed25519, EC P-256 and P-384, and names the refused type', () => {
    expect(keyFamily(rsa.publicKey)).toBe('rsa');
    expect(keyFamily(ed.privateKey)).toBe('ed25519');
    expect(keyFamily(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toBe('ec-p256');
    expect(keyFamily(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey)).toBe('ec-p384');
    expect(() => keyFamily(generateKeyPairSync('ed448').publicKey)).toThrow('unsupported key type ed448');
    expect(() => keyFamily(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)).toThrow(/\(secp256k1\)/);
  });
});

describe('importPublicKey', () => {
  const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
  const jwk = rsa.publicKey.export({ format: 'jwk' });

  it('reads PEM and DER (SPKI, PKCS#1), JWK text, bytes and objects, and KeyObjects, all to the same key', () => {
    const forms: unknown[] = [
      pem,
      Buffer.from(pem),
      rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }),
      rsa.publicKey.export({ type: 'spki', format: 'der' }),
      rsa.publicKey.export({ type: 'pkcs1', format: 'der' }),
      JSON.stringify(jwk),
      Buffer.from(`  ${JSON.stringify(jwk)}`),
      jwk,
      rsa.publicKey,
    ];
    for (const form of forms) expect(importPublicKey(form as string).equals(rsa.publicKey)).toBe(true);
  });

  it('reduces private material to its public half', () => {
    for (const form of [
      rsa.privateKey,
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      rsa.privateKey.export({ format: 'jwk' }),
    ]) {
      const key = importPublicKey(form as string);
      expect(key.type).toBe('public');
      expect(key.equals(rsa.publicKey)).toBe(true);
    }
  });

  it('refuses unreadable input, a symmetric key and an unsupported type, each with its code', () => {
    expect(importErrorCode(() => importPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'))).toBe('key_unreadable');
    expect(importErrorCode(() => importPublicKey('{"kty":"RSA"'))).toBe('key_unreadable');
    expect(importErrorCode(() => importPublicKey(Buffer.from([1, 2, 3])))).toBe('key_unreadable');
    expect(importErrorCode(() => importPublicKey(createSecretKey(Buffer.alloc(32, 1))))).toBe('key_not_public');
    expect(importErrorCode(() => importPublicKey(generateKeyPairSync('x25519').publicKey))).toBe('key_unsupported');
  });
});

describe('importPrivateKey', () => {
  it('reads PKCS#8, PKCS#1, an encrypted PEM with its passphrase, DER and JWK', () => {
    const fromFixture = importPrivateKey(keyText('rsa_private.pem'));
    expect(importPrivateKey(keyText('rsa_private_pkcs1.pem')).equals(fromFixture)).toBe(true);
    expect(importPrivateKey(keyText('rsa_private_encrypted.pem'), 'correct horse').equals(fromFixture)).toBe(true);
    expect(importPrivateKey(Buffer.from(keyText('rsa_private_encrypted.pem')), 'correct horse').equals(fromFixture)).toBe(true);
    expect(importPrivateKey(rsa.privateKey.export({ type: 'pkcs8', format: 'der' })).equals(rsa.privateKey)).toBe(true);
    expect(importPrivateKey(JSON.stringify(ed.privateKey.export({ format: 'jwk' }))).equals(ed.privateKey)).toBe(true);
    expect(importPrivateKey(ed.privateKey.export({ format: 'jwk' })).equals(ed.privateKey)).toBe(true);
  });

  it('refuses a wrong or missing passphrase, public material and weak keys', () => {
    expect(importErrorCode(() => importPrivateKey(keyText('rsa_private_encrypted.pem'), 'wrong horse'))).toBe('key_unreadable');
    expect(importErrorCode(() => importPrivateKey(keyText('rsa_private_encrypted.pem')))).toBe('key_unreadable');
    expect(importErrorCode(() => importPrivateKey(rsa.publicKey))).toBe('key_not_private');
    expect(importErrorCode(() => importPrivateKey(keyText('rsa_public.pem')))).toBe('key_unreadable');
    expect(importErrorCode(() => importPrivateKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey))).toBe('key_weak');
  });
});

describe('isPrivateKeyInput', () => {
  it('is true for private KeyObjects, private PEM of any label and JWKs with d; false for public forms', () => {
    const privates: unknown[] = [
      rsa.privateKey,
      keyText('rsa_private.pem'),
      keyText('rsa_private_pkcs1.pem'),
      Buffer.from(keyText('rsa_private_encrypted.pem')),
      JSON.stringify(ed.privateKey.export({ format: 'jwk' })),
      ed.privateKey.export({ format: 'jwk' }),
    ];
    const publics: unknown[] = [
      rsa.publicKey,
      keyText('rsa_public.pem'),
      keyText('rsa_public.openssh'),
      JSON.stringify(ed.publicKey.export({ format: 'jwk' })),
      ed.publicKey.export({ format: 'jwk' }),
    ];
    for (const input of privates) expect(isPrivateKeyInput(input as string)).toBe(true);
    for (const input of publics) expect(isPrivateKeyInput(input as string)).toBe(false);
  });
});

describe('publicKeyOption', () => {
  const option = (input: unknown): KeyObject => publicKeyOption(input as string, 'someScheme()', 'publicKey');

  it('returns the key, read by the given loader', () => {
    expect(option(keyText('ed25519_public.pem')).asymmetricKeyType).toBe('ed25519');
    const loaded = publicKeyOption('anything', 'someScheme()', 'publicKey', () => ed.publicKey);
    expect(loaded).toBe(ed.publicKey);
  });

  it('refuses a file path, private material, unreadable, weak and unsupported keys with a TypeError naming the option', () => {
    const cases: Array<[unknown, string]> = [
      ['./keys/public.pem', 'the key text, not a file path'],
      ['/etc/keys/peer.pub', 'the key text, not a file path'],
      ['C:\\keys\\peer.jwk', 'the key text, not a file path'],
      [rsa.privateKey, 'a private key: give the public half only'],
      ['not a key', 'a readable public key'],
      [generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, 'at least 2048 bits'],
      [generateKeyPairSync('ed448').publicKey, 'got another key type'],
    ];
    for (const [input, text] of cases) {
      let thrown: unknown;
      try {
        option(input);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as TypeError).message).toMatch(/^someScheme\(\): "publicKey" must be /);
      expect((thrown as TypeError).message).toContain(text);
    }
  });

  it('never puts the key itself in the message', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const body = weak.split('\n')[1] as string;
    expect(() => option(weak)).toThrow(TypeError);
    expect(() => option(weak)).not.toThrow(body);
  });
});

describe('isKeyEntry', () => {
  it('is true for { key, kid?, alg? }, false for JWKs, KeyObjects, buffers and text', () => {
    expect(isKeyEntry({ key: keyText('rsa_public.pem') })).toBe(true);
    expect(isKeyEntry({ key: rsa.publicKey, kid: 'k', alg: 'RS256' })).toBe(true);
    expect(isKeyEntry({ ...rsa.publicKey.export({ format: 'jwk' }), key: 'x' })).toBe(false);
    expect(isKeyEntry(rsa.publicKey)).toBe(false);
    expect(isKeyEntry(Buffer.from('key'))).toBe(false);
    expect(isKeyEntry('key')).toBe(false);
    expect(isKeyEntry(null)).toBe(false);
    expect(isKeyEntry({ kid: 'k' })).toBe(false);
  });
});

describe('isKeyImportError', () => {
  it('recognises a KeyImportError by its brand, and nothing else', () => {
    expect(isKeyImportError(new KeyImportError('key_weak', 'x'))).toBe(true);
    expect(isKeyImportError(new Error('x'))).toBe(false);
  });
});
