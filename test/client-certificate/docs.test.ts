/**
 * docs/mtls.md as a reader uses it: the SPIFFE server block serves real mutual TLS, the Envoy,
 * nginx and `trust proxy` blocks accept their proxy's header from the proxy and refuse it from
 * anyone else, the `sh` block's `authnz cert` lines (run from the build) make certificates that its
 * curl line presents, and the proxy configurations name what the code reads.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express, { type Express } from 'express';
import { authenticate, getPrincipal, type AuthScheme } from '../../src/index.js';
import { ROOT, loadSnippet } from '../docs/snippets.js';
import { testCertificates, type TestCertificate } from '../helpers/certificates.js';

const certs = testCertificates();
const page = readFileSync(join(ROOT, 'docs/mtls.md'), 'utf8');
const run = promisify(execFile);
const dirFed = mkdtempSync(join(tmpdir(), 'mtls-docs-fed-'));
afterAll(() => rmSync(dirFed, { recursive: true, force: true }));

interface MeshBlock {
  serve(tls: { key: string; cert: string; ca: string }): HttpsServer;
}

async function listen(server: Server | HttpsServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
const close = (server: Server | HttpsServer): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
  const lines = stdout.split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

/** A backend with `scheme` on `/invoices`, answering the principal's subject and scopes. */
function backend(scheme: AuthScheme, app: Express = express()): Server {
  app.get('/invoices', authenticate([scheme]), (req, res) => {
    res.json({ subject: getPrincipal(req)?.subject, scopes: getPrincipal(req)?.scopes });
  });
  return createServer(app);
}

function get(port: number, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path: '/invoices', headers, localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

function block(info: string): string {
  const start = page.indexOf(`\`\`\`${info}\n`);
  if (start === -1) throw new Error(`no ${info} block`);
  const from = start + info.length + 4;
  return page.slice(from, page.indexOf('```', from));
}

describe('docs/mtls.md', () => {
  it('"My mesh gives each service a SPIFFE ID": the server block serves mutual TLS (curl)', async () => {
    const { serve } = await loadSnippet<MeshBlock>('mtls-mesh');
    const server = serve({ key: certs.server.key, cert: certs.server.cert, ca: certs.ca.cert });
    const port = await listen(server);
    const dir = mkdtempSync(join(tmpdir(), 'mtls-docs-'));
    try {
      const files = (c: TestCertificate, name: string): string[] => {
        writeFileSync(join(dir, `${name}.pem`), c.cert);
        writeFileSync(join(dir, `${name}.key`), c.key);
        return ['--cert', join(dir, `${name}.pem`), '--key', join(dir, `${name}.key`)];
      };
      writeFileSync(join(dir, 'ca.pem'), certs.ca.cert);
      const url = `https://localhost:${port}/invoices`;
      const ok = await curl(['--cacert', join(dir, 'ca.pem'), ...files(certs.billing, 'billing'), url]);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toEqual({
        caller: 'spiffe://example.org/ns/prod/sa/billing',
        spiffeId: 'spiffe://example.org/ns/prod/sa/billing',
      });
      expect((await curl(['--cacert', join(dir, 'ca.pem'), ...files(certs.reports, 'reports'), url])).status).toBe(401);
      expect((await curl(['--cacert', join(dir, 'ca.pem'), ...files(certs.untrusted, 'untrusted'), url])).status).toBe(401);
      expect((await curl(['--cacert', join(dir, 'ca.pem'), url])).status).toBe(401);
    } finally {
      await close(server);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the Envoy block reads XFCC from the sidecar and refuses it from another address', async () => {
    const { envoyCallers } = await loadSnippet<{ envoyCallers(bundle: string): AuthScheme }>('mtls-envoy');
    const server = backend(envoyCallers(certs.ca.cert));
    const port = await listen(server);
    try {
      const xfcc = {
        'x-forwarded-client-cert': `By=spiffe://example.org/edge;Cert="${encodeURIComponent(certs.billing.cert)}";URI=spiffe://example.org/ns/prod/sa/billing`,
      };
      expect(JSON.parse((await get(port, xfcc)).body)).toEqual({
        subject: 'spiffe://example.org/ns/prod/sa/billing',
        scopes: ['invoices:read'],
      });
      expect((await get(port, xfcc, '127.0.0.2')).status).toBe(400);
      expect((await get(port, { 'x-forwarded-client-cert': 'Hash=00' })).status).toBe(400);
    } finally {
      await close(server);
    }
  });

  it('the nginx block reads the header its configuration sets; the configuration names the same header', async () => {
    const { nginxCallers } = await loadSnippet<{ nginxCallers(bundle: string): AuthScheme }>('mtls-nginx');
    const conf = block('nginx');
    const set = /proxy_set_header\s+(\S+)\s+\$ssl_client_escaped_cert;/.exec(conf);
    expect(set).not.toBeNull();
    expect(conf).toMatch(/ssl_verify_client on;/);
    const header = (set?.[1] as string).toLowerCase();
    expect(block('ts id=mtls-nginx')).toContain(`headerName: '${header}'`);
    const server = backend(nginxCallers(certs.ca.cert));
    const port = await listen(server);
    try {
      expect((await get(port, { [header]: encodeURIComponent(certs.dnsOnly.cert) })).status).toBe(401);
      const ok = await get(port, { [header]: encodeURIComponent(certs.billing.cert) });
      expect(JSON.parse(ok.body)).toEqual({ subject: 'billing', scopes: ['invoices:read'] });
      expect((await get(port, { [header]: encodeURIComponent(certs.billing.cert) }, '127.0.0.2')).status).toBe(400);
      // A certificate of another CA that a lax proxy passed on: the scheme's own ca check refuses it.
      expect((await get(port, { [header]: encodeURIComponent(certs.untrusted.cert) })).status).toBe(401);
    } finally {
      await close(server);
    }
  });

  it('the federation block: each trust domain by its own bundle', async () => {
    const { federated } = await loadSnippet<{ federated(b: { ours: string; partner: string }): AuthScheme }>('mtls-federation');
    // A server that trusts both domains' CAs, as a federated one does.
    const tlsApp = express();
    tlsApp.get('/invoices', authenticate([federated({ ours: certs.ca.cert, partner: certs.otherCa.cert })]), (req, res) => {
      res.json({ subject: getPrincipal(req)?.subject });
    });
    const tls = createHttpsServer(
      {
        key: certs.server.key,
        cert: certs.server.cert,
        ca: [certs.ca.cert, certs.otherCa.cert],
        requestCert: true,
        rejectUnauthorized: false,
      },
      tlsApp,
    );
    const port = await listen(tls);
    try {
      writeFileSync(join(dirFed, 'ca.pem'), certs.ca.cert);
      const args = (c: TestCertificate, name: string): string[] => {
        writeFileSync(join(dirFed, `${name}.pem`), c.cert);
        writeFileSync(join(dirFed, `${name}.key`), c.key);
        return [
          '--cacert',
          join(dirFed, 'ca.pem'),
          '--cert',
          join(dirFed, `${name}.pem`),
          '--key',
          join(dirFed, `${name}.key`),
          `https://localhost:${port}/invoices`,
        ];
      };
      expect((await curl(args(certs.billing, 'billing'))).status).toBe(200);
      expect((await curl(args(certs.untrusted, 'impersonation'))).status).toBe(401);
    } finally {
      await close(tls);
    }
  });

  it('the Envoy configuration sanitises and sets the certificate', () => {
    const yaml = block('yaml');
    expect(yaml).toMatch(/forward_client_cert_details: SANITIZE_SET/);
    expect(yaml).toMatch(/set_current_client_cert_details:\n\s+cert: true/);
  });

  it("the trust proxy block trusts what Express's trust proxy trusts", async () => {
    const { behindExpressProxies } = await loadSnippet<{ behindExpressProxies(app: Express, bundle: string): AuthScheme }>(
      'mtls-trust-proxy',
    );
    const app = express();
    app.set('trust proxy', '127.0.0.1');
    const server = backend(behindExpressProxies(app, certs.ca.cert), app);
    const port = await listen(server);
    try {
      const xfcc = { 'x-forwarded-client-cert': `Cert="${encodeURIComponent(certs.billing.cert)}"` };
      expect((await get(port, xfcc)).status).toBe(200);
      expect((await get(port, xfcc, '127.0.0.2')).status).toBe(400);
    } finally {
      await close(server);
    }
  });

  it('the "Development certificates" lines, run from the build, make certificates its curl line presents', async () => {
    const lines = block('sh').trim().split('\n');
    const dir = mkdtempSync(join(tmpdir(), 'mtls-docs-cli-'));
    const { serve } = await loadSnippet<MeshBlock>('mtls-mesh');
    let server: HttpsServer | undefined;
    try {
      for (const line of lines.filter((l) => l.startsWith('npx authnz '))) {
        const argv = line.slice('npx authnz '.length).split(' ');
        await run(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...argv], { cwd: dir });
      }
      const read = (name: string): string => readFileSync(join(dir, 'certs', name), 'utf8');
      server = serve({ key: read('server_private.pem'), cert: read('server.pem'), ca: read('ca.pem') });
      const port = await listen(server);
      const curlLine = lines.find((l) => l.startsWith('curl ')) as string;
      const args = curlLine.slice('curl '.length).replace('https://localhost:8443', `https://localhost:${port}`).split(' ');
      const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args], { cwd: dir });
      expect(stdout.split('\n').pop()).toBe('200');
    } finally {
      if (server) await close(server);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends with the section for certificate-bound tokens (test/mtls-bound/docs.test.ts runs it)', () => {
    expect(
      page
        .split('\n')
        .filter((line) => line.startsWith('## '))
        .at(-1),
    ).toBe('## My OAuth server binds tokens to certificates');
  });
});
