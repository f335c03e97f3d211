/**
 * `authnz cert ca|server|client` run from the build: OpenSSL verifies what it writes for the right
 * purposes only, Node reads the SANs and the printed thumbprint, and the files serve real mutual TLS.
 */
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { certificateThumbprint, clientCertificateScheme } from '../../src/index.js';

const BIN = join(process.cwd(), 'dist/cli/main.js');
const SPIFFE = 'spiffe://example.org/ns/prod/sa/billing';
const dir = mkdtempSync(join(tmpdir(), 'authnz-cert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function authnz(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...argv]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const at = (name: string): string => join(dir, name);
const ca = ['--ca-cert', at('ca.pem'), '--ca-private-key', at('ca_private.pem')];
const verify = (purpose: string, file: string): boolean => {
  try {
    execFileSync('openssl', ['verify', '-CAfile', at('ca.pem'), '-purpose', purpose, at(file)], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};

describe('authnz cert', () => {
  let clientThumbprint: string;

  beforeAll(async () => {
    expect((await authnz('cert', 'ca', '--out', dir, '--lifetime-seconds', '2d')).code).toBe(0);
    expect((await authnz('cert', 'server', ...ca, '--dns', 'localhost', '--ip', '127.0.0.1,::1', '--out', dir)).code).toBe(0);
    const client = await authnz(
      'cert',
      'client',
      ...ca,
      '--spiffe-id',
      SPIFFE,
      '--email',
      'billing@example.org',
      '--name',
      'billing',
      '--out',
      dir,
    );
    expect(client.code).toBe(0);
    clientThumbprint = (/^x5t#S256 (\S+)$/m.exec(client.stdout) as RegExpExecArray)[1] as string;
  });

  it('writes a CA, a server and a client certificate that OpenSSL verifies for their purposes only', () => {
    expect(verify('sslserver', 'server.pem')).toBe(true);
    expect(verify('sslclient', 'billing.pem')).toBe(true);
    expect(verify('sslserver', 'billing.pem')).toBe(false);
    expect(verify('sslclient', 'server.pem')).toBe(false);
    for (const key of ['ca_private.pem', 'server_private.pem', 'billing_private.pem']) expect(statSync(at(key)).mode & 0o777).toBe(0o600);
  });

  it('the names, lifetime and printed thumbprint are what Node reads', () => {
    const client = new X509Certificate(readFileSync(at('billing.pem')));
    expect(client.subjectAltName).toBe(`email:billing@example.org, URI:${SPIFFE}`);
    expect(certificateThumbprint(client)).toBe(clientThumbprint);
    const server = new X509Certificate(readFileSync(at('server.pem')));
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    const caCert = new X509Certificate(readFileSync(at('ca.pem')));
    expect(caCert.ca).toBe(true);
    expect(Date.parse(caCert.validTo) - Date.parse(caCert.validFrom)).toBe(2 * 86_400_000 + 60_000);
  });

  it('the files serve mutual TLS: the client is authenticated by its SPIFFE ID', async () => {
    const scheme = clientCertificateScheme({ allow: [{ spiffeId: SPIFFE }] });
    const server = createServer(
      {
        key: readFileSync(at('server_private.pem')),
        cert: readFileSync(at('server.pem')),
        ca: readFileSync(at('ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        scheme.authenticate(req).then(
          (p) => res.end(p?.subject),
          () => res.writeHead(401).end(),
        );
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const body = await new Promise<string>((resolve, reject) => {
      const r = request(
        {
          host: 'localhost',
          port,
          ca: readFileSync(at('ca.pem')),
          cert: readFileSync(at('billing.pem')),
          key: readFileSync(at('billing_private.pem')),
          agent: false,
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        },
      );
      r.on('error', reject);
      r.end();
    });
    await new Promise((resolve) => server.close(resolve));
    expect(body).toBe(SPIFFE);
  });

  it.each([
    [['cert', 'client', ...ca, '--spiffe-id', 'spiffe://Example.org/x', '--out', dir], '--spiffe-id must be a SPIFFE ID'],
    [['cert', 'server', ...ca, '--out', dir], 'a server certificate needs --dns or --ip'],
    [['cert', 'server', ...ca, '--ip', 'localhost', '--out', dir], '--ip must be an IP address'],
    [
      ['cert', 'client', '--ca-cert', at('billing.pem'), '--ca-private-key', at('billing_private.pem'), '--out', dir],
      '--ca-cert is not a CA certificate',
    ],
    [
      ['cert', 'client', '--ca-cert', at('ca.pem'), '--ca-private-key', at('server_private.pem'), '--out', dir],
      "--ca-private-key is not the CA certificate's key",
    ],
  ])('%j is a usage error', async (argv, message) => {
    const result = await authnz(...argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
