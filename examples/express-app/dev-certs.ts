/**
 * Development certificates for the example's HTTPS listener: a CA, a server certificate for
 * 127.0.0.1 and localhost, and one client certificate with a SPIFFE ID, made on first start under
 * `<devDir>/mtls/` (private keys mode 0600) and reused after, as the development keys are.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFileNames, issueDevCertificate, writeDevCertificate } from '../../src/cli/commands/cert.js';
import { importPrivateKey } from '../../src/keys/import.js';

/** The SPIFFE ID of the example's client certificate. */
export const DEV_SPIFFE_ID = 'spiffe://example.org/ns/dev/sa/example-client';

/** Paths of the example's certificate files. */
export interface DevCertificateFiles {
  readonly dir: string;
  readonly ca: string;
  readonly caKey: string;
  readonly server: string;
  readonly serverKey: string;
  readonly client: string;
  readonly clientKey: string;
}

/** The files, made on first use. */
export function devCertificates(devDir: string): DevCertificateFiles {
  const dir = join(devDir, 'mtls');
  const path = (name: string): { cert: string; key: string } => {
    const names = certFileNames(name);
    return { cert: join(dir, names.cert), key: join(dir, names.key) };
  };
  const ca = path('ca');
  const server = path('server');
  const client = path('example-client');
  if (![ca, server, client].every((p) => existsSync(p.cert) && existsSync(p.key))) {
    const made = issueDevCertificate({ kind: 'ca', commonName: 'authnz-express example CA', lifetimeSeconds: 365 * 86_400 });
    writeDevCertificate(dir, 'ca', made);
    const issuer = { certificate: new X509Certificate(made.cert), privateKey: importPrivateKey(made.key) };
    const lifetimeSeconds = 90 * 86_400;
    const names = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };
    writeDevCertificate(
      dir,
      'server',
      issueDevCertificate({ kind: 'server', commonName: 'localhost', issuer, subjectAltNames: names, lifetimeSeconds }),
    );
    const clientNames = { uri: [DEV_SPIFFE_ID] };
    writeDevCertificate(
      dir,
      'example-client',
      issueDevCertificate({ kind: 'client', commonName: 'example-client', issuer, subjectAltNames: clientNames, lifetimeSeconds }),
    );
  }
  return { dir, ca: ca.cert, caKey: ca.key, server: server.cert, serverKey: server.key, client: client.cert, clientKey: client.key };
}

/** `https.createServer()` options of the example's mutual TLS listener. */
export function devTlsOptions(files: DevCertificateFiles): {
  key: string;
  cert: string;
  ca: string;
  requestCert: true;
  rejectUnauthorized: false;
} {
  // rejectUnauthorized: false lets requests without (or with a wrong) certificate reach the app, which
  // answers them with a 401 and a challenge instead of a failed handshake.
  return {
    key: readFileSync(files.serverKey, 'utf8'),
    cert: readFileSync(files.server, 'utf8'),
    ca: readFileSync(files.ca, 'utf8'),
    requestCert: true,
    rejectUnauthorized: false,
  };
}
