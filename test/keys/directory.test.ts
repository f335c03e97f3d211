import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyDirectoryError, loadKeyDirectory } from '../../src/keys/directory.js';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/oauth/${name}`, import.meta.url));
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'authnz-keys-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadKeyDirectory', () => {
  it('reads every supported format, sorted, skipping dot-files and folders', () => {
    writeFileSync(join(dir, '01-pkcs8.pem'), rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(dir, '02-pkcs1.pem'), rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }));
    writeFileSync(join(dir, '03-sec1.pem'), ec.privateKey.export({ format: 'pem', type: 'sec1' }));
    writeFileSync(join(dir, '04-spki.pem'), ec.publicKey.export({ format: 'pem', type: 'spki' }));
    copyFileSync(fixture('cert-p256.pem'), join(dir, '05-cert.pem'));
    copyFileSync(fixture('cert-p256.der'), join(dir, '06-cert.der'));
    writeFileSync(join(dir, '07-pkcs8.der'), ed.privateKey.export({ format: 'der', type: 'pkcs8' }));
    writeFileSync(join(dir, '08-pkcs1.der'), rsa.privateKey.export({ format: 'der', type: 'pkcs1' }));
    writeFileSync(join(dir, '09-sec1.der'), ec.privateKey.export({ format: 'der', type: 'sec1' }));
    writeFileSync(join(dir, '10-spki.der'), rsa.publicKey.export({ format: 'der', type: 'spki' }));
    writeFileSync(join(dir, '11-key.jwk'), JSON.stringify({ ...ec.privateKey.export({ format: 'jwk' }), kid: 'ec-jwk' }));
    writeFileSync(
      join(dir, '12-set.json'),
      JSON.stringify({ keys: [ed.publicKey.export({ format: 'jwk' }), rsa.publicKey.export({ format: 'jwk' })] }),
    );
    writeFileSync(
      join(dir, '13-encrypted.pem'),
      ec.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }),
    );
    writeFileSync(join(dir, '.hidden'), 'not a key');
    mkdirSync(join(dir, 'sub'));
    const keys = loadKeyDirectory(dir, { passphrase: 'pw' });
    expect(keys.map((k) => [k.file, k.privateKey !== undefined])).toEqual([
      ['01-pkcs8.pem', true],
      ['02-pkcs1.pem', true],
      ['03-sec1.pem', true],
      ['04-spki.pem', false],
      ['05-cert.pem', false],
      ['06-cert.der', false],
      ['07-pkcs8.der', true],
      ['08-pkcs1.der', true],
      ['09-sec1.der', true],
      ['10-spki.der', false],
      ['11-key.jwk', true],
      ['12-set.json#0', false],
      ['12-set.json#1', false],
      ['13-encrypted.pem', true],
    ]);
    const thumb = (i: number) => jwkThumbprint(keys[i]!.publicKey);
    expect(thumb(0)).toBe(jwkThumbprint(rsa.publicKey));
    expect(thumb(1)).toBe(thumb(0));
    expect(thumb(2)).toBe(jwkThumbprint(ec.publicKey));
    expect(thumb(3)).toBe(thumb(2));
    const certKey = new X509Certificate(readFileSync(fixture('cert-p256.pem'))).publicKey;
    expect(thumb(4)).toBe(jwkThumbprint(certKey));
    expect(thumb(5)).toBe(thumb(4));
    expect(thumb(6)).toBe(jwkThumbprint(ed.publicKey));
    expect(thumb(9)).toBe(jwkThumbprint(rsa.publicKey));
    expect(keys[10]?.kid).toBe('ec-jwk');
    expect(keys[10]?.privateKey?.type).toBe('private');
    expect(thumb(13)).toBe(jwkThumbprint(ec.publicKey));
  });

  it('names the file it cannot read', () => {
    writeFileSync(join(dir, 'a.pem'), ec.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    const err = (() => {
      try {
        loadKeyDirectory(dir);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(KeyDirectoryError);
    expect((err as KeyDirectoryError).file).toBe(join(dir, 'notes.txt'));
    expect((err as Error).message).toContain('notes.txt');
    expect(loadKeyDirectory(dir, { ignore: (f) => f.endsWith('.txt') })).toHaveLength(1);
  });

  it('names an encrypted key without passphrase, a weak key and a missing directory', () => {
    writeFileSync(join(dir, 'enc.pem'), ec.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }));
    expect(() => loadKeyDirectory(dir)).toThrow(/enc\.pem/);
    rmSync(join(dir, 'enc.pem'));
    writeFileSync(
      join(dir, 'weak.pem'),
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }),
    );
    expect(() => loadKeyDirectory(dir)).toThrow(/weak\.pem: RSA keys must have at least 2048 bits/);
    expect(() => loadKeyDirectory(join(dir, 'missing'))).toThrow(KeyDirectoryError);
  });
});
