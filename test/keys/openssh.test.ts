/** The OpenSSH public key line parser: ssh-rsa and ssh-ed25519 lines as KeyObjects. */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyImportError } from '../../src/keys/import.js';
import { isOpenSshPublicKey, parseOpenSshPublicKey } from '../../src/keys/openssh.js';

/** Reads a key file of the asymmetric JWT fixtures. */
const keyText = (name: string): string => readFileSync(join(process.cwd(), 'test/fixtures/asymmetric-jwt/keys', name), 'utf8');

describe('OpenSSH public keys', () => {
  it('parses ssh-rsa and ssh-ed25519 lines to the same key as the PEM form', () => {
    for (const name of ['rsa', 'ed25519', 'wrong_rsa']) {
      const parsed = parseOpenSshPublicKey(keyText(`${name}_public.openssh`));
      expect(parsed.key.export({ type: 'spki', format: 'pem' })).toBe(
        createPublicKey(keyText(`${name}_public.pem`)).export({ type: 'spki', format: 'pem' }),
      );
      expect(parsed.comment).toBe(keyText(`${name}_public.openssh`).trim().split(' ')[2]);
      expect(parsed.comment).toMatch(/@vectors$/);
    }
  });

  it('rejects a blob whose type differs from the prefix, trailing bytes, truncation and other types', () => {
    const [, rsaBlob] = keyText('rsa_public.openssh').split(' ') as [string, string];
    const [, edBlob] = keyText('ed25519_public.openssh').split(' ') as [string, string];
    expect(() => parseOpenSshPublicKey(`ssh-ed25519 ${rsaBlob}`)).toThrow(KeyImportError);
    const trailing = Buffer.concat([Buffer.from(edBlob, 'base64'), Buffer.from([0, 0, 0, 1, 7])]).toString('base64');
    expect(() => parseOpenSshPublicKey(`ssh-ed25519 ${trailing}`)).toThrow(/32-byte/);
    const truncated = Buffer.from(rsaBlob, 'base64').subarray(0, 40).toString('base64');
    expect(() => parseOpenSshPublicKey(`ssh-rsa ${truncated}`)).toThrow(/truncated/);
    expect(() => parseOpenSshPublicKey('ecdsa-sha2-nistp256 AAAA')).toThrow(expect.objectContaining({ code: 'key_unsupported' }));
    expect(() => parseOpenSshPublicKey('not a key')).toThrow(expect.objectContaining({ code: 'key_unreadable' }));
  });

  it('a weak (1024-bit) ssh-rsa key is refused by the shared policy', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = publicKey.export({ format: 'jwk' });
    const field = (b: Buffer): Buffer => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(b.length);
      return Buffer.concat([length, b]);
    };
    const mpint = (b64: string): Buffer => {
      const raw = Buffer.from(b64, 'base64url');
      return (raw[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), raw]) : raw;
    };
    const blob = Buffer.concat([field(Buffer.from('ssh-rsa')), field(mpint(jwk.e as string)), field(mpint(jwk.n as string))]);
    expect(() => parseOpenSshPublicKey(`ssh-rsa ${blob.toString('base64')}`)).toThrow(expect.objectContaining({ code: 'key_weak' }));
  });
});

describe('OpenSSH lines: recognising and their fields', () => {
  it('isOpenSshPublicKey recognises the ssh- prefix only, not PEM or JWK text', () => {
    expect(isOpenSshPublicKey(keyText('ed25519_public.openssh'))).toBe(true);
    expect(isOpenSshPublicKey('  ssh-dss AAAA x')).toBe(true);
    expect(isOpenSshPublicKey(keyText('ed25519_public.pem'))).toBe(false);
    expect(isOpenSshPublicKey('{"kty":"OKP"}')).toBe(false);
    expect(isOpenSshPublicKey('ssh-ed25519')).toBe(false);
  });

  it('a line without a comment has none; surrounding white space is ignored', () => {
    const [type, blob] = keyText('ed25519_public.openssh').trim().split(' ') as [string, string];
    const parsed = parseOpenSshPublicKey(`\n  ${type} ${blob}  \n`);
    expect(parsed).toMatchObject({ type: 'ssh-ed25519', comment: undefined });
    expect(parsed.key.equals(createPublicKey(keyText('ed25519_public.pem')))).toBe(true);
  });

  it('an RSA integer with its sign bit set (a negative mpint) is refused', () => {
    const [, blob] = keyText('rsa_public.openssh').split(' ') as [string, string];
    const raw = Buffer.from(blob, 'base64');
    // Fields: "ssh-rsa", e, n; n is written with a leading 0x00 so that it reads as positive.
    const nOffset = 4 + 7 + 4 + raw.readUInt32BE(11);
    expect(raw[nOffset + 4]).toBe(0);
    const nLength = raw.readUInt32BE(nOffset);
    const n = raw.subarray(nOffset + 5, nOffset + 4 + nLength);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(n.length);
    const negative = Buffer.concat([raw.subarray(0, nOffset), length, n]).toString('base64');
    expect(() => parseOpenSshPublicKey(`ssh-rsa ${negative}`)).toThrow(
      expect.objectContaining({ code: 'key_unreadable', message: expect.stringContaining('invalid RSA integer') }),
    );
  });
});
