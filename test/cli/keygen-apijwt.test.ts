import { mkdtempSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { runCli } from '../../src/cli/main.js';
import { ApiJwtVerifier, createAuthHeader } from '../../src/index.js';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe('authnz keygen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authnz-keygen-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['rsa', 'ed25519', 'ec'])('writes a %s PEM pair with a 0600 private key', async (type) => {
    const c = capture();
    expect(await runCli(['keygen', '--type', type, '--out', dir, '--name', type], c.io)).toBe(0);
    const pub = createPublicKey(readFileSync(join(dir, `${type}_public.pem`), 'utf8'));
    expect(pub.asymmetricKeyType).toBe(type === 'ec' ? 'ec' : type);
    expect(statSync(join(dir, `${type}_private.pem`)).mode & 0o777).toBe(0o600);
  });

  it('labels both identifiers: kid is the RFC 7638 thumbprint, fingerprint is the kid createAuthHeader sends', async () => {
    const c = capture();
    expect(await runCli(['keygen', '--type', 'ed25519', '--out', dir, '--name', 'svc-client'], c.io)).toBe(0);
    const pub = createPublicKey(readFileSync(join(dir, 'svc-client_public.pem'), 'utf8'));
    const header = createAuthHeader({ username: 'svc-client', keyFile: join(dir, 'svc-client_private.pem') });
    const sentKid = (JSON.parse(Buffer.from(header.slice(4).split('.')[0] as string, 'base64url').toString()) as { kid: string }).kid;
    expect(c.out.join('')).toBe(`kid ${jwkThumbprint(pub)}\nfingerprint ${sentKid}\n`);
    expect(sentKid).not.toBe(jwkThumbprint(pub));
    expect(c.err.join('')).toContain(join(dir, 'svc-client_private.pem'));
  });

  it('prints JWKs with an RFC 7638 kid', async () => {
    const c = capture();
    expect(await runCli(['keygen', '--type', 'ed25519', '--format', 'jwk'], c.io)).toBe(0);
    const text = c.out.join('');
    const [priv, pub] = text.split(/\n(?=\{)/).map((j) => JSON.parse(j) as Record<string, string>);
    expect(priv?.['d']).toBeDefined();
    expect(pub?.['d']).toBeUndefined();
    expect(pub?.['kid']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pub?.['kid']).toBe(priv?.['kid']);
  });

  it('rejects weak RSA sizes and unknown types with exit code 2', async () => {
    expect(await runCli(['keygen', '--bits', '1024'], capture().io)).toBe(2);
    expect(await runCli(['keygen', '--type', 'dsa'], capture().io)).toBe(2);
  });
});

describe('authnz apijwt mint', () => {
  const here = new URL('../fixtures/apijwt/', import.meta.url);
  const priv = new URL('rsa_private.pem', here).pathname;
  const pub = readFileSync(new URL('rsa_public.pem', here), 'utf8');

  it('prints a token that the verifier accepts with the given claims', async () => {
    const c = capture();
    const code = await runCli(
      [
        'apijwt',
        'mint',
        '--private-key',
        priv,
        '--subject',
        'alice',
        '--scope',
        'orders:read,orders:write',
        '--level',
        '2',
        '--lifetime-seconds',
        '600',
      ],
      c.io,
    );
    expect(code).toBe(0);
    // Without --model the CLI lifts the allow-lists on level, dnt and scopes; the verifier must too.
    const result = await new ApiJwtVerifier({ publicKeys: [pub], allowed: { level: null, dnt: null, scopes: null } }).verify(
      c.out.join('').trim(),
    );
    expect(result.valid).toBe(true);
    if (result.valid) {
      expect(result.claims.id).toBe('alice');
      expect(result.claims.scopes).toEqual(['orders:read', 'orders:write']);
      expect(result.claims.level).toBe(2);
      expect(result.claims.raw['level']).toBe('2.0');
    }
  });

  it('needs a subject', async () => {
    const c = capture();
    expect(await runCli(['apijwt', 'mint', '--private-key', priv], c.io)).toBe(2);
    expect(c.err.join('')).toContain('--subject is required');
  });
});
