import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';
import { Introspector } from '../../src/protocols/oauth/index.js';
import { startProvider, SECRETS, type TestProvider } from '../helpers/oauth-provider.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

describe('authnz oauth token', () => {
  let as: TestProvider;
  let dir: string;
  beforeAll(async () => {
    as = await startProvider();
    dir = mkdtempSync(join(tmpdir(), 'authnz-cli-'));
  });
  afterAll(async () => {
    delete process.env['AUTHNZ_CLIENT_SECRET'];
    rmSync(dir, { recursive: true, force: true });
    await as.close();
  });

  it('fetches a client_credentials token with the secret from the environment', async () => {
    process.env['AUTHNZ_CLIENT_SECRET'] = SECRETS.svc;
    const r = await run(['oauth', 'token', '--issuer', as.issuer, '--client-id', 'svc', '--scope', 'read']);
    expect(r.code).toBe(0);
    const token = r.out.trim();
    const verified = await new Introspector({
      issuer: as.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: SECRETS.rs },
    }).verify(token);
    expect(verified).toMatchObject({ clientId: 'svc', scopes: ['read'] });
  });

  it('--json prints the token response; private_key_jwt from a key file', async () => {
    const file = join(dir, 'client.pem');
    writeFileSync(file, as.clientKey.export({ format: 'pem', type: 'pkcs8' }));
    const r = await run([
      'oauth',
      'token',
      '--issuer',
      as.issuer,
      '--client-id',
      'svc-pk',
      '--private-key',
      file,
      '--scope',
      'read write',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ token_type: 'Bearer', scope: 'read write', expires_in: 600 });
  });

  it('reports a server error with exit code 1 and usage errors with 2', async () => {
    process.env['AUTHNZ_CLIENT_SECRET'] = 'wrong';
    const bad = await run(['oauth', 'token', '--issuer', as.issuer, '--client-id', 'svc']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('invalid_client');
    expect(bad.err).not.toContain('wrong');
    const usage = await run(['oauth', 'token', '--client-id', 'svc']);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('--issuer or --token-endpoint is required');
  });
});

describe('authnz jwks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'authnz-jwks-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the public JWK Set of a key directory', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'a.pem'), ec.privateKey.export({ format: 'pem', type: 'sec1' }));
    writeFileSync(join(dir, 'b.jwk'), JSON.stringify({ ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed-1' }));
    const r = await run(['jwks', dir]);
    expect(r.code).toBe(0);
    const jwks = JSON.parse(r.out) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: 'EC', kid: jwkThumbprint(ec.publicKey), alg: 'ES256', use: 'sig' }),
      expect.objectContaining({ kty: 'OKP', kid: 'ed-1', alg: 'EdDSA', use: 'sig' }),
    ]);
    expect(r.out).not.toContain('"d"');
  });

  it('names an unreadable file', async () => {
    writeFileSync(join(dir, 'broken.pem'), '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n');
    const r = await run(['jwks', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('broken.pem');
  });
});
