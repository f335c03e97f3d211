/** `authnz jwt header` and the example app's asymmetric JWT routes (including the JWKS-trusted caller). */
import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountAsymmetricJwt } from '../../examples/express-app/routes/asymmetric-jwt.js';
import { runCli } from '../../src/cli/main.js';
import { FIXTURES, appWith, keyText } from './helpers.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** Runs `fn` with $AUTHNZ_KEY_PASSPHRASE set (the CLI takes passphrases from the environment or a file, never argv). */
async function withPassphrase<T>(passphrase: string, fn: () => Promise<T>): Promise<T> {
  process.env['AUTHNZ_KEY_PASSPHRASE'] = passphrase;
  try {
    return await fn();
  } finally {
    delete process.env['AUTHNZ_KEY_PASSPHRASE'];
  }
}

describe('authnz jwt header', () => {
  it('prints a header that the scheme accepts, from an encrypted key', async () => {
    const { code, out } = await withPassphrase('correct horse', () =>
      cli(['jwt', 'header', '--subject', 'svc-client', '--private-key', join(FIXTURES, 'keys/rsa_private_encrypted.pem')]),
    );
    expect(code).toBe(0);
    expect(out).toMatch(/^JWT [\w-]+\.[\w-]+\.[\w-]+\n$/);
    const app = appWith({ users: { 'svc-client': { publicKeys: [keyText('rsa_public.openssh')] } } });
    const { default: request } = await import('supertest');
    expect((await request(app).get('/whoami').set('Authorization', out.trim())).status).toBe(200);
  });

  it('usage errors exit 2; a wrong passphrase exits 1 without echoing it', async () => {
    expect((await cli(['jwt', 'header', '--subject', 'x'])).code).toBe(2);
    const wrong = await withPassphrase('hunter2', () =>
      cli(['jwt', 'header', '--subject', 'x', '--private-key', join(FIXTURES, 'keys/rsa_private_encrypted.pem')]),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.err).not.toContain('hunter2');
  });
});

describe('example routes', () => {
  let server: Server;
  let base: string;
  let devDir: string;

  beforeAll(async () => {
    devDir = mkdtempSync(join(tmpdir(), 'ajwt-example-'));
    const app = express();
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const curls = await mountAsymmetricJwt(app, { devDir, baseUrl: base, onClose: () => undefined });
    expect(curls.join('\n')).toContain('jwt header --subject svc-client');
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(devDir, { recursive: true, force: true });
  });

  async function call(
    user: string,
    key: string,
    path = '/asymmetric-jwt/orders',
  ): Promise<{ status: number; body: { code?: string; principal?: { subject: string; details: { via: string } } } }> {
    const { out } = await cli(['jwt', 'header', '--subject', user, '--private-key', join(devDir, `${key}_private.pem`)]);
    const res = await fetch(`${base}${path}`, { headers: { authorization: out.trim() } });
    return { status: res.status, body: (await res.json()) as { code?: string } };
  }

  it('svc-client (stored Ed25519 key) gets 200 with its scope', async () => {
    const res = await call('svc-client', 'asymmetric_jwt_svc');
    expect(res.status).toBe(200);
    expect(res.body.principal?.subject).toBe('svc-client');
  });

  it('jwks-client is verified through the published JWKS, then lacks the scope (403)', async () => {
    const who = await call('jwks-client', 'asymmetric_jwt_peer', '/asymmetric-jwt/whoami');
    expect(who.status).toBe(200);
    expect(who.body.principal?.details.via).toBe('jwks');
    expect((await call('jwks-client', 'asymmetric_jwt_peer')).status).toBe(403);
  });

  it("a caller signing with another user's key is rejected", async () => {
    const res = await call('svc-client', 'asymmetric_jwt_peer');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('token_invalid');
  });
});
