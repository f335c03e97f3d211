/**
 * The installed package with nothing but `express` beside it: ESM + Express 5 and CommonJS + Express 4
 * apps load the main entry, protect a route over HTTP, and run the `authnz` CLI through `npx`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { consumerApp, devVersion, type ConsumerApp } from './harness.js';

interface Answer {
  status: number;
  code?: string;
  body: Record<string, unknown>;
  wwwAuthenticate: string | null;
  contentType: string | null;
}
interface BasicReport {
  ok: Answer;
  missing: Answer;
  wrongScope: Answer;
  forged: Answer;
  authErrorBrand: boolean;
  peers: Record<string, boolean>;
}

/** Each `npx` call starts npm and then node; under a loaded CI machine that takes seconds, not ms. */
const CLI_MS = 120_000;

const apps: Array<{ label: string; type: 'module' | 'commonjs'; express: string; program: string }> = [
  { label: 'esm-express5', type: 'module', express: `express@${devVersion('express')}`, program: 'main.mjs' },
  { label: 'cjs-express4', type: 'commonjs', express: `express@${devVersion('express4')}`, program: 'main.cjs' },
];

describe.each(apps)('$label app with only authnz-express and express installed', ({ label, type, express, program }) => {
  let app: ConsumerApp;
  beforeAll(async () => {
    app = await consumerApp(label, type, [express]);
  }, 300_000);
  afterAll(() => app?.remove());

  it('loads the main entry and protects a route: 200 with a good token, 401/403 problem+json otherwise', async () => {
    const report = await app.program<BasicReport>(program, ['basic']);
    expect(report.ok.status).toBe(200);
    expect(report.ok.body).toEqual({ subject: 'alice', frozen: true });
    expect([report.missing.status, report.missing.code, report.missing.wwwAuthenticate]).toEqual([
      401,
      'credentials_missing',
      expect.stringMatching(/^Bearer\b/),
    ]);
    expect(report.missing.contentType).toMatch(/^application\/problem\+json/);
    expect([report.wrongScope.status, report.wrongScope.code]).toEqual([403, 'insufficient_scope']);
    expect([report.forged.status, report.forged.code]).toEqual([401, 'token_invalid']);
    expect(report.authErrorBrand).toBe(true);
    // Nothing optional came along with the install.
    expect(report.peers).toEqual({ ioredis: false, redis: false, '@aws-sdk/client-kms': false, 'rate-limiter-flexible': false });
  });

  it(
    '`npx authnz --help` exits 0 and lists the commands',
    async () => {
      const help = await app.authnz(['--help']);
      expect([help.code, help.stderr]).toEqual([0, '']);
      expect(help.stdout).toContain('usage: authnz');
      for (const command of ['keygen', 'apijwt mint', 'jwt header', 'kms token']) expect(help.stdout).toContain(command);
    },
    CLI_MS,
  );

  it(
    '`npx authnz keygen`, `apijwt mint` and `jwt header` work and exit 0',
    async () => {
      const keys = join(app.dir, 'keys');
      mkdirSync(keys);
      const rsa = await app.authnz(['keygen', '--type', 'rsa', '--out', keys, '--name', 'rsa']);
      const ed = await app.authnz(['keygen', '--type', 'ed25519', '--out', keys, '--name', 'ed']);
      expect([rsa.code, ed.code]).toEqual([0, 0]);
      expect(createPublicKey(readFileSync(join(keys, 'rsa_public.pem'), 'utf8')).asymmetricKeyType).toBe('rsa');

      const mint = await app.authnz([
        'apijwt',
        'mint',
        '--private-key',
        join(keys, 'rsa_private.pem'),
        '--subject',
        'alice',
        '--scope',
        'orders:read',
      ]);
      expect([mint.code, mint.stderr]).toEqual([0, '']);
      const [, payload] = mint.stdout.trim().split('.');
      expect(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'))).toMatchObject({
        iss: 'auth_user',
        sub: 'alice',
        scopes: 'orders:read',
      });

      const header = await app.authnz(['jwt', 'header', '--subject', 'svc', '--private-key', join(keys, 'ed_private.pem')]);
      expect([header.code, header.stderr]).toEqual([0, '']);
      expect(header.stdout.trim()).toMatch(/^JWT [\w-]+\.[\w-]+\.[\w-]+$/);
    },
    CLI_MS,
  );

  it(
    '`npx authnz kms token` without @aws-sdk/client-kms fails with a message, not a crash at start',
    async () => {
      const kms = await app.authnz([
        'kms',
        'token',
        '--kms-key',
        'alias/x',
        '--subject',
        'a',
        '--audience',
        'b',
        '--endpoint',
        'http://127.0.0.1:9',
      ]);
      expect(kms.code).toBe(1);
      expect(kms.stderr).toContain('@aws-sdk/client-kms');
    },
    CLI_MS,
  );

  it(
    '`npx authnz kms token` and `kms local` without @aws-sdk/client-kms say how to install it',
    async () => {
      for (const args of [
        ['kms', 'token', '--kms-key', 'alias/x', '--subject', 'a', '--audience', 'b', '--endpoint', 'http://127.0.0.1:9'],
        ['kms', 'local', '--port', '0'],
      ]) {
        const run = await app.authnz(args);
        expect([args[1], run.code]).toEqual([args[1], 1]);
        expect(run.stderr).toBe(
          `authnz ${args.slice(0, 2).join(' ')}: this command needs the AWS SDK's KMS client, which is not installed: npm install @aws-sdk/client-kms\n`,
        );
      }
    },
    CLI_MS,
  );
});
