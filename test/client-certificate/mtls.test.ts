/**
 * clientCertificateScheme over real TLS on loopback: Node's https client, curl and openssl s_client
 * present certificates to a Node HTTPS server; a real TLS-terminating Node proxy forwards them to a
 * plain HTTP backend in Envoy's x-forwarded-client-cert; the nginx and RFC 9440 header forms, and
 * every refusal, each with its documented status and reason.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { connect as connectHttp2, createSecureServer } from 'node:http2';
import { generateKeyPairSync, X509Certificate as Certificate, type KeyObject, type X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { Agent, createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import {
  authenticate,
  clientCertificateScheme,
  getPrincipal,
  type AuthScheme,
  type ClientCertificateSchemeOptions,
} from '../../src/index.js';
import { createCertificate, type CertificateInit } from '../../src/lib/x509.js';
import { toyScheme } from '../helpers/toy-scheme.js';
import { issueTestCertificate, testCertificates, type TestCertificate } from '../helpers/certificates.js';

const certs = testCertificates();
const BILLING = 'spiffe://example.org/ns/prod/sa/billing';
const dir = mkdtempSync(join(tmpdir(), 'mtls-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** The CA, billing certificate and key files, after the flags that name them (curl's or openssl's). */
function billingFiles(caFlag: string, certFlag: string, keyFlag: string): string[] {
  return [
    caFlag,
    file('ca.pem', certs.ca.cert),
    certFlag,
    file('billing.pem', certs.billing.cert),
    keyFlag,
    file('billing.key', certs.billing.key),
  ];
}

/** The test server's TLS options, asking for client certificates of `ca`. */
function serverTls(ca: string | string[], rejectUnauthorized: boolean): import('node:https').ServerOptions {
  return { key: certs.server.key, cert: certs.server.cert, ca, requestCert: true, rejectUnauthorized };
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly challenge: string | undefined;
  readonly retryAfter?: string | undefined;
}

function appWith(scheme: AuthScheme): express.Express {
  const app = express();
  app.get('/whoami', authenticate([scheme]), (req, res) => {
    const p = getPrincipal(req);
    res.json({ subject: p?.subject, scopes: p?.scopes, details: p?.details });
  });
  return app;
}

const allowBilling: ClientCertificateSchemeOptions['allow'] = [
  { spiffeId: BILLING, scopes: ['invoices:read'] },
  { spiffeIdPrefix: 'spiffe://example.org/ns/staging', scopes: ['staging'] },
  { dns: 'worker.internal', subject: 'worker', scopes: ['jobs'] },
];

async function listening<T extends HttpServer | HttpsServer>(server: T, host = '127.0.0.1'): Promise<{ server: T; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const close = (server: HttpServer | HttpsServer): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

function collect(res: import('node:http').IncomingMessage, resolve: (a: Answer) => void): void {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (body += c));
  res.on('end', () =>
    resolve({ status: res.statusCode ?? 0, body, challenge: res.headers['www-authenticate'], retryAfter: res.headers['retry-after'] }),
  );
}

function httpsGet(port: number, client?: TestCertificate): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/whoami',
        ca: certs.ca.cert,
        agent: false,
        ...(client ? { cert: client.cert, key: client.key } : {}),
      },
      (res) => collect(res, resolve),
    );
    r.on('error', reject);
    r.end();
  });
}

function httpGet(port: number, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: '127.0.0.1', port, path: '/whoami', headers, localAddress, agent: false }, (res) =>
      collect(res, resolve),
    );
    r.on('error', reject);
    r.end();
  });
}

const reasonOf = (a: Answer): unknown => (JSON.parse(a.body) as { reason?: unknown }).reason;

describe('Node terminates TLS (source: socket)', () => {
  let server: HttpsServer;
  let port: number;
  let revoked = new Set<string>();
  let revocationDown = false;
  let revocationAnswer: { value: unknown } | undefined;

  beforeAll(async () => {
    const scheme = clientCertificateScheme({
      allow: allowBilling,
      realm: 'mesh',
      isRevoked: (c) => {
        if (revocationDown) throw new Error('CRL service down');
        if (revocationAnswer !== undefined) return revocationAnswer.value as boolean;
        return revoked.has(c.thumbprint);
      },
    });
    const tls = serverTls(certs.ca.cert, false);
    ({ server, port } = await listening(createHttpsServer(tls, appWith(scheme))));
  });
  afterAll(() => close(server));
  afterEach(() => {
    revoked = new Set();
    revocationDown = false;
    revocationAnswer = undefined;
  });

  it("Node's https client with a SPIFFE certificate: the principal carries the identity", async () => {
    const answer = await httpsGet(port, certs.billing);
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.body) as { subject: string; scopes: string[]; details: Record<string, unknown> };
    expect(body.subject).toBe(BILLING);
    expect(body.scopes).toEqual(['invoices:read']);
    expect(body.details).toMatchObject({
      spiffeId: BILLING,
      dns: ['billing.internal'],
      email: ['billing@example.org'],
      uri: [BILLING],
      certificateSubject: 'CN=billing',
      notAfter: Math.floor(Date.parse(certs.billing.certificate.validTo) / 1000),
    });
    const fingerprint = Buffer.from(certs.billing.certificate.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');
    expect(body.details['x5t#S256']).toBe(fingerprint);
  });

  it('a resumed TLS session still presents the authorized certificate', async () => {
    const agent = new Agent({ keepAlive: false, maxCachedSessions: 10 });
    const resumed: boolean[] = [];
    for (let i = 0; i < 2; i++) {
      const answer = await new Promise<Answer>((resolve, reject) => {
        const r = httpsRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/whoami',
            ca: certs.ca.cert,
            cert: certs.billing.cert,
            key: certs.billing.key,
            agent,
            servername: 'localhost',
          },
          (res) => {
            resumed.push((res.socket as TLSSocket).isSessionReused());
            collect(res, resolve);
          },
        );
        r.on('error', reject);
        r.end();
      });
      expect(JSON.parse(answer.body)).toMatchObject({ subject: BILLING });
    }
    expect(resumed).toEqual([false, true]);
    agent.destroy();
  });

  it('curl presents the certificate', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'curl',
        ['-sS', ...billingFiles('--cacert', '--cert', '--key'), '-w', '\n%{http_code}', `https://localhost:${port}/whoami`],
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    );
    expect(out.split('\n').at(-1)).toBe('200');
    expect(out).toContain(`"subject":"${BILLING}"`);
  });

  it('openssl s_client presents the certificate (an HTTP request piped into it)', async () => {
    const child = spawn('openssl', [
      's_client',
      '-quiet',
      '-connect',
      `127.0.0.1:${port}`,
      '-servername',
      'localhost',
      ...billingFiles('-CAfile', '-cert', '-key'),
      '-verify_return_error',
    ]);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stdin.end('GET /whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await new Promise((resolve) => child.on('close', resolve));
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(out).toContain(`"subject":"${BILLING}"`);
  });

  it('SPIFFE prefix on segment boundaries, and a DNS SAN mapping', async () => {
    expect(JSON.parse((await httpsGet(port, certs.dnsOnly)).body)).toMatchObject({ subject: 'worker', scopes: ['jobs'] });
    const below = issueTestCertificate('job', { uri: ['spiffe://example.org/ns/staging/sa/job'] });
    expect(JSON.parse((await httpsGet(port, below)).body)).toMatchObject({
      subject: 'spiffe://example.org/ns/staging/sa/job',
      scopes: ['staging'],
    });
    const exact = issueTestCertificate('staging', { uri: ['spiffe://example.org/ns/staging'] });
    expect((await httpsGet(port, exact)).status).toBe(200);
    for (const id of [
      'spiffe://example.org/ns/staging-evil/sa/job',
      'spiffe://example.org/ns/stagingx',
      'spiffe://example.org.evil/ns/staging/sa/job',
    ]) {
      const answer = await httpsGet(port, issueTestCertificate('x', { uri: [id] }));
      expect({ id, status: answer.status, reason: reasonOf(answer) }).toEqual({ id, status: 401, reason: 'identity_not_allowed' });
    }
    const upper = issueTestCertificate('w', { dns: ['WORKER.internal'] });
    expect(JSON.parse((await httpsGet(port, upper)).body)).toMatchObject({ subject: 'worker' });
  });

  it.each([
    ['an upper-case trust domain', 'spiffe://Example.org/ns/prod/sa/billing'],
    ['a dot segment', 'spiffe://example.org/ns/../sa/billing'],
    ['a trailing slash', 'spiffe://example.org/ns/prod/sa/billing/'],
    ['a query', 'spiffe://example.org/ns/prod/sa/billing?x=1'],
    ['a port', 'spiffe://example.org:443/ns/prod/sa/billing'],
    ['user info', 'spiffe://u@example.org/ns/prod/sa/billing'],
  ])('a SPIFFE ID with %s is no X.509-SVID: 401 spiffe_id_invalid', async (_, id) => {
    const answer = await httpsGet(port, issueTestCertificate('bad', { uri: [id] }));
    expect([answer.status, reasonOf(answer)]).toEqual([401, 'spiffe_id_invalid']);
  });

  it.each([
    ['an untrusted CA', 'untrusted', 401, 'certificate_untrusted'],
    ['an expired certificate', 'expired', 401, 'certificate_untrusted'],
    ['a not-yet-valid certificate', 'notYetValid', 401, 'certificate_untrusted'],
    ['another SPIFFE ID', 'reports', 401, 'identity_not_allowed'],
    ['the same path in another trust domain', 'foreignDomain', 401, 'identity_not_allowed'],
    ['two URI SANs (not an X.509-SVID)', 'twoUris', 401, 'spiffe_id_invalid'],
  ] as const)('%s is refused', async (_, which, status, reason) => {
    const answer = await httpsGet(port, certs[which]);
    expect([answer.status, reasonOf(answer)]).toEqual([status, reason]);
    expect(answer.challenge).toMatch(/^ClientCertificate realm="mesh", error="invalid_token"/);
  });

  it('no certificate: 401 with the challenge', async () => {
    const answer = await httpsGet(port);
    expect([answer.status, answer.challenge]).toEqual([401, 'ClientCertificate realm="mesh"']);
  });

  it('a revoked certificate is refused; a revocation check that fails is a 503', async () => {
    revoked.add(Buffer.from(certs.billing.certificate.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url'));
    const refused = await httpsGet(port, certs.billing);
    expect([refused.status, reasonOf(refused)]).toEqual([401, 'revoked']);
    revoked = new Set();
    revocationDown = true;
    const down = await httpsGet(port, certs.billing);
    expect([down.status, reasonOf(down), down.retryAfter]).toEqual([503, 'revocation_unavailable', expect.stringMatching(/^\d+$/)]);
  });

  it('a revocation check that answers neither true nor false is a 503, never a pass', async () => {
    for (const value of [undefined, 'revoked', 1, 0, null, {}]) {
      revocationAnswer = { value };
      const answer = await httpsGet(port, certs.billing);
      expect({ value, status: answer.status, reason: reasonOf(answer) }).toEqual({ value, status: 503, reason: 'revocation_unavailable' });
    }
    revocationAnswer = { value: false };
    expect((await httpsGet(port, certs.billing)).status).toBe(200);
  });
});

describe('SPIFFE federation: trustBundles', () => {
  const PARTNER = 'spiffe://partner.example/ns/prod/sa/reports';
  const partnerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const validity = { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000) };
  const fromOtherCa = (uri: string, signer: TestCertificate): TestCertificate => {
    const certificate = createCertificate({
      commonName: 'svc',
      publicKey: partnerKey.publicKey,
      signingKey: signer.privateKey,
      issuer: signer.certificate,
      subjectAltNames: { uri: [uri] },
      ...validity,
    });
    return {
      certificate,
      privateKey: partnerKey.privateKey,
      publicKey: partnerKey.publicKey,
      cert: certificate.toString(),
      key: partnerKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    };
  };
  let server: HttpsServer;
  let port: number;

  beforeAll(async () => {
    const scheme = clientCertificateScheme({
      trustBundles: { 'example.org': certs.ca.cert, 'partner.example': [certs.otherCa.cert] },
      allow: [
        ...(allowBilling ?? []),
        { spiffeIdPrefix: 'spiffe://partner.example/ns/prod', scopes: ['partner'] },
        { spiffeIdPrefix: 'spiffe://third.example' },
      ],
    });
    // The TLS server trusts both domains' CAs, as a federated server does.
    const tls = serverTls([certs.ca.cert, certs.otherCa.cert], false);
    ({ server, port } = await listening(createHttpsServer(tls, appWith(scheme))));
  });
  afterAll(() => close(server));

  it("an SVID chains to its own trust domain's bundle", async () => {
    expect(JSON.parse((await httpsGet(port, certs.billing)).body)).toMatchObject({ subject: BILLING });
    expect(JSON.parse((await httpsGet(port, fromOtherCa(PARTNER, certs.otherCa))).body)).toMatchObject({
      subject: PARTNER,
      scopes: ['partner'],
    });
    // No SPIFFE ID: the TLS stack's verification (and ca, when given) is what counts.
    expect((await httpsGet(port, certs.dnsOnly)).status).toBe(200);
  });

  it("the partner domain's CA issuing an example.org ID, or an ID of a domain without a bundle, is refused", async () => {
    const impersonation = await httpsGet(port, certs.untrusted);
    expect([impersonation.status, reasonOf(impersonation)]).toEqual([401, 'certificate_untrusted']);
    const unknownDomain = await httpsGet(port, fromOtherCa('spiffe://third.example/ns/x', certs.otherCa));
    expect([unknownDomain.status, reasonOf(unknownDomain)]).toEqual([401, 'certificate_untrusted']);
  });
});

describe('rejectUnauthorized: true', () => {
  it('ends the handshake for an untrusted or missing certificate; a trusted one reaches the scheme and its allow-list', async () => {
    const scheme = clientCertificateScheme({ allow: allowBilling });
    const app = appWith(scheme);
    let reached = 0;
    const tls = serverTls(certs.ca.cert, true);
    const { server, port } = await listening(
      createHttpsServer(tls, (req, res) => {
        reached++;
        app(req, res);
      }),
    );
    try {
      expect((await httpsGet(port, certs.billing)).status).toBe(200);
      const other = await httpsGet(port, certs.reports);
      expect([other.status, reasonOf(other)]).toEqual([401, 'identity_not_allowed']);
      // No HTTP answer: the client sees the TLS alert or the closed connection (TLS 1.3 ends it after the handshake).
      const noAnswer = { code: expect.stringMatching(/^(ECONNRESET|ERR_SSL_)/) as unknown };
      await expect(httpsGet(port, certs.untrusted)).rejects.toMatchObject(noAnswer);
      await expect(httpsGet(port)).rejects.toMatchObject(noAnswer);
      expect(reached).toBe(2);
    } finally {
      await close(server);
    }
  });
});

describe('a proxy terminates TLS and forwards the certificate', () => {
  let backend: HttpServer;
  let backendPort: number;
  let proxy: HttpsServer;
  let proxyPort: number;
  let nginxBackend: HttpServer;
  let nginxPort: number;
  let rfcBackend: HttpServer;
  let rfcPort: number;

  const base = { ca: certs.ca.cert, allow: allowBilling, trustedProxies: ['127.0.0.1'] } as const;

  beforeAll(async () => {
    ({ server: backend, port: backendPort } = await listening(
      createHttpServer(appWith(clientCertificateScheme({ ...base, source: 'xfcc' }))),
    ));
    ({ server: nginxBackend, port: nginxPort } = await listening(
      createHttpServer(appWith(clientCertificateScheme({ ...base, source: 'escaped-pem', clockToleranceSeconds: 0 }))),
    ));
    ({ server: rfcBackend, port: rfcPort } = await listening(
      createHttpServer(appWith(clientCertificateScheme({ ...base, source: 'rfc9440' }))),
    ));
    // The proxy: verifies the client (any CA, so that the backend's own check is what refuses),
    // replaces any incoming XFCC with its own (Envoy's SANITIZE_SET), and forwards.
    const tls = serverTls([certs.ca.cert, certs.otherCa.cert], true);
    ({ server: proxy, port: proxyPort } = await listening(
      createHttpsServer(tls, (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
        const headers = { ...req.headers };
        delete headers['x-forwarded-client-cert'];
        if (peer)
          headers['x-forwarded-client-cert'] = `By=spiffe://example.org/ns/edge/sa/proxy;Cert="${encodeURIComponent(peer.toString())}"`;
        const upstream = httpRequest({ host: '127.0.0.1', port: backendPort, path: req.url, method: req.method, headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(upstream);
      }),
    ));
  });
  afterAll(async () => {
    await Promise.all([close(proxy), close(backend), close(nginxBackend), close(rfcBackend)]);
  });

  it('end to end: client certificate → Node TLS proxy → XFCC → backend principal', async () => {
    const answer = await httpsGet(proxyPort, certs.billing);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ subject: BILLING, scopes: ['invoices:read'] });
  });

  it("the proxy forwards a certificate of a CA the backend does not trust: the backend's ca refuses it", async () => {
    const answer = await httpsGet(proxyPort, certs.untrusted);
    expect([answer.status, reasonOf(answer)]).toEqual([401, 'certificate_untrusted']);
  });

  it('a forged XFCC header from an untrusted address is refused with 400', async () => {
    const forged = await httpGet(
      backendPort,
      { 'x-forwarded-client-cert': `Cert="${encodeURIComponent(certs.billing.cert)}"` },
      '127.0.0.2',
    );
    expect([forged.status, reasonOf(forged)]).toEqual([400, 'certificate_header_untrusted']);
  });

  it('a malformed XFCC header from the trusted proxy is refused with 400', async () => {
    const bad = await httpGet(backendPort, { 'x-forwarded-client-cert': 'Cert="%ZZ"' });
    expect([bad.status, reasonOf(bad)]).toEqual([400, 'certificate_header_malformed']);
  });

  it('nginx escaped PEM from the trusted proxy; expired and not-yet-valid forwarded certificates are refused', async () => {
    const ok = await httpGet(nginxPort, { 'x-ssl-client-cert': encodeURIComponent(certs.billing.cert) });
    expect(JSON.parse(ok.body)).toMatchObject({ subject: BILLING });
    const expired = await httpGet(nginxPort, { 'x-ssl-client-cert': encodeURIComponent(certs.expired.cert) });
    expect([expired.status, reasonOf(expired)]).toEqual([401, 'expired']);
    const early = await httpGet(nginxPort, { 'x-ssl-client-cert': encodeURIComponent(certs.notYetValid.cert) });
    expect([early.status, reasonOf(early)]).toEqual([401, 'not_yet_valid']);
    const forged = await httpGet(nginxPort, { 'x-ssl-client-cert': encodeURIComponent(certs.billing.cert) }, '127.0.0.2');
    expect([forged.status, reasonOf(forged)]).toEqual([400, 'certificate_header_untrusted']);
  });

  it('a CA certificate with a SPIFFE ID is no X.509-SVID (a leaf SVID is no CA)', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const caSvid = createCertificate({
      commonName: 'billing',
      publicKey,
      signingKey: certs.ca.privateKey,
      issuer: certs.ca.certificate,
      ca: true,
      subjectAltNames: { uri: [BILLING] },
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
    });
    const answer = await httpGet(nginxPort, { 'x-ssl-client-cert': encodeURIComponent(caSvid.toString()) });
    expect([answer.status, reasonOf(answer)]).toEqual([401, 'spiffe_id_invalid']);
  });

  it('RFC 9440 Client-Cert from the trusted proxy', async () => {
    const ok = await httpGet(rfcPort, { 'client-cert': `:${certs.billing.certificate.raw.toString('base64')}:` });
    expect(JSON.parse(ok.body)).toMatchObject({ subject: BILLING });
    const other = await httpGet(rfcPort, { 'client-cert': `:${certs.reports.certificate.raw.toString('base64')}:` });
    expect([other.status, reasonOf(other)]).toEqual([401, 'identity_not_allowed']);
  });
});

describe('a forwarded chain through an intermediate CA', () => {
  const hour = 3_600_000;
  const key = (): ReturnType<typeof generateKeyPairSync> => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const validity = { notBefore: new Date(Date.now() - hour), notAfter: new Date(Date.now() + hour) };
  const root = key();
  const rootCert = createCertificate({
    commonName: 'root',
    publicKey: root.publicKey,
    signingKey: root.privateKey,
    ca: true,
    pathLength: 1,
    ...validity,
  });
  /** A certificate for `publicKey` issued by `signer` (valid now unless `extra` says otherwise). */
  const issue = (
    commonName: string,
    publicKey: KeyObject,
    signer: { privateKey: KeyObject; certificate: X509Certificate },
    extra: Partial<CertificateInit> = {},
  ): X509Certificate =>
    createCertificate({ commonName, publicKey, signingKey: signer.privateKey, issuer: signer.certificate, ...validity, ...extra });
  const billingUri = { subjectAltNames: { uri: [BILLING] } };
  const inter = key();
  const interCert = issue('intermediate', inter.publicKey, { privateKey: root.privateKey, certificate: rootCert }, { ca: true });
  const leaf = issue('billing', key().publicKey, { privateKey: inter.privateKey, certificate: interCert }, billingUri);
  // An end-entity certificate of the intermediate whose key then signs another certificate.
  const notCa = issue('reports', certs.reports.publicKey, { privateKey: inter.privateKey, certificate: interCert });
  const forged = issue('billing', key().publicKey, { privateKey: certs.reports.privateKey, certificate: notCa }, billingUri);
  let server: HttpServer;
  let port: number;

  beforeAll(async () => {
    const scheme = clientCertificateScheme({ source: 'xfcc', trustedProxies: ['127.0.0.1'], ca: rootCert.toString(), allow: allowBilling });
    ({ server, port } = await listening(createHttpServer(appWith(scheme))));
  });
  afterAll(() => close(server));

  const xfcc = (cert: X509Certificate, chain: readonly X509Certificate[]): Record<string, string> => ({
    'x-forwarded-client-cert': `Cert="${encodeURIComponent(cert.toString())}"${chain.length > 0 ? `;Chain="${encodeURIComponent(chain.map((c) => c.toString()).join(''))}"` : ''}`,
  });

  it('OpenSSL and the scheme agree: through the forwarded intermediate 200, without it 401', async () => {
    const args = [
      'verify',
      '-CAfile',
      file('root.pem', rootCert.toString()),
      '-untrusted',
      file('inter.pem', interCert.toString()),
      file('leaf.pem', leaf.toString()),
    ];
    expect(execFileSync('openssl', args, { encoding: 'utf8' })).toMatch(/: OK/);
    expect(JSON.parse((await httpGet(port, xfcc(leaf, [interCert]))).body)).toMatchObject({ subject: BILLING });
    const alone = await httpGet(port, xfcc(leaf, []));
    expect([alone.status, reasonOf(alone)]).toEqual([401, 'certificate_untrusted']);
  });

  it('an expired intermediate does not count', async () => {
    const old = key();
    const past = { notBefore: new Date(Date.now() - 3 * hour), notAfter: new Date(Date.now() - 2 * hour) };
    const oldInter = issue(
      'old intermediate',
      old.publicKey,
      { privateKey: root.privateKey, certificate: rootCert },
      { ca: true, ...past },
    );
    const oldLeaf = issue('billing', key().publicKey, { privateKey: old.privateKey, certificate: oldInter }, billingUri);
    const answer = await httpGet(port, xfcc(oldLeaf, [oldInter]));
    expect([answer.status, reasonOf(answer)]).toEqual([401, 'certificate_untrusted']);
  });

  it('an issuer in the forwarded chain that is no CA does not count (OpenSSL refuses it too)', async () => {
    // Signed by that key and naming it as issuer; neither OpenSSL's issuer check nor the CA flag lets it issue.
    expect([forged.verify(notCa.publicKey), notCa.ca, forged.checkIssued(notCa)]).toEqual([true, false, false]);
    const args = [
      'verify',
      '-CAfile',
      file('root2.pem', rootCert.toString()),
      '-untrusted',
      file('chain.pem', `${notCa.toString()}${interCert.toString()}`),
      file('forged.pem', forged.toString()),
    ];
    expect(() => execFileSync('openssl', args, { stdio: 'pipe' })).toThrow();
    const answer = await httpGet(port, xfcc(forged, [notCa, interCert]));
    expect([answer.status, reasonOf(answer)]).toEqual([401, 'certificate_untrusted']);
  });
  describe("certificate purpose: OpenSSL's sslclient rules, for the socket and for a forwarded certificate alike", () => {
    let socketServer: HttpsServer;
    let socketPort: number;
    beforeAll(async () => {
      const tls = { key: certs.server.key, cert: certs.server.cert, ca: rootCert.toString(), requestCert: true, rejectUnauthorized: false };
      const scheme = clientCertificateScheme({ allow: allowBilling });
      ({ server: socketServer, port: socketPort } = await listening(createHttpsServer(tls, appWith(scheme))));
    });
    afterAll(() => close(socketServer));

    /** What `openssl verify -purpose sslclient`, the TLS socket and the forwarded header each say of one chain. */
    async function verdicts(leafCert: X509Certificate, leafKey: KeyObject, chain: readonly X509Certificate[]): Promise<unknown[]> {
      const name = `purpose-${Math.random().toString(36).slice(2)}`;
      const args = ['verify', '-purpose', 'sslclient', '-CAfile', file(`${name}-root.pem`, rootCert.toString())];
      if (chain.length > 0) args.push('-untrusted', file(`${name}-chain.pem`, chain.map((c) => c.toString()).join('')));
      args.push(file(`${name}-leaf.pem`, leafCert.toString()));
      let openssl: string;
      try {
        execFileSync('openssl', args, { stdio: 'pipe' });
        openssl = 'OK';
      } catch {
        openssl = 'refused';
      }
      const socket = await new Promise<Answer>((resolve, reject) => {
        const r = httpsRequest(
          {
            host: '127.0.0.1',
            port: socketPort,
            path: '/whoami',
            ca: certs.ca.cert,
            agent: false,
            cert: [leafCert, ...chain].map((c) => c.toString()).join(''),
            key: leafKey.export({ type: 'pkcs8', format: 'pem' }),
          },
          (res) => collect(res, resolve),
        );
        r.on('error', reject);
        r.end();
      });
      const header = await httpGet(port, xfcc(leafCert, chain));
      return [openssl, [socket.status, reasonOf(socket)], [header.status, reasonOf(header)]];
    }
    const ok = ['OK', [200, undefined], [200, undefined]];
    const refused = ['refused', [401, 'certificate_untrusted'], [401, 'certificate_untrusted']];

    it('a leaf whose extKeyUsage names serverAuth only is refused; clientAuth only passes', async () => {
      for (const [usage, verdict] of [
        ['serverAuth', refused],
        ['clientAuth', ok],
      ] as const) {
        const k = key();
        const leafFor = issue(
          'billing',
          k.publicKey,
          { privateKey: inter.privateKey, certificate: interCert },
          { ...billingUri, usages: [usage] },
        );
        expect({ usage, verdict: await verdicts(leafFor, k.privateKey, [interCert]) }).toEqual({ usage, verdict });
      }
    });

    it('a leaf whose keyUsage allows neither digitalSignature nor keyAgreement is refused', async () => {
      const k = key();
      const interKey = file('purpose-inter.key', inter.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
      const leafKey = file('purpose-leaf.key', k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
      const csr = execFileSync('openssl', ['req', '-new', '-key', leafKey, '-subj', '/CN=billing'], { stdio: 'pipe' });
      const ext = file('purpose.ext', `keyUsage=critical,keyEncipherment\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:${BILLING}\n`);
      const pem = execFileSync(
        'openssl',
        ['x509', '-req', '-CA', file('purpose-inter.pem', interCert.toString()), '-CAkey', interKey, '-days', '1', '-extfile', ext],
        { input: csr, stdio: 'pipe' },
      );
      const noSignature = new Certificate(pem);
      expect(await verdicts(noSignature, k.privateKey, [interCert])).toEqual(refused);
    });

    it('pathLenConstraint: an intermediate with 0 issuing another CA, or a root with 1 above two intermediates, is refused', async () => {
      const zero = key();
      const zeroCert = issue('zero', zero.publicKey, { privateKey: root.privateKey, certificate: rootCert }, { ca: true, pathLength: 0 });
      const sub = key();
      const subCert = issue('sub', sub.publicKey, { privateKey: zero.privateKey, certificate: zeroCert }, { ca: true, pathLength: 0 });
      const k = key();
      const deep = issue('billing', k.publicKey, { privateKey: sub.privateKey, certificate: subCert }, billingUri);
      expect(await verdicts(deep, k.privateKey, [subCert, zeroCert])).toEqual(refused);
      // The same depth under an intermediate without a constraint exceeds the root's pathLenConstraint of 1.
      const open = key();
      const openCert = issue('open', open.publicKey, { privateKey: root.privateKey, certificate: rootCert }, { ca: true, pathLength: 5 });
      const sub2 = key();
      const sub2Cert = issue('sub2', sub2.publicKey, { privateKey: open.privateKey, certificate: openCert }, { ca: true });
      const k2 = key();
      const deep2 = issue('billing', k2.publicKey, { privateKey: sub2.privateKey, certificate: sub2Cert }, billingUri);
      expect(await verdicts(deep2, k2.privateKey, [sub2Cert, openCert])).toEqual(refused);
    });

    it('an intermediate whose extKeyUsage names serverAuth only issues no client certificates; clientAuth does', async () => {
      for (const [usage, verdict] of [
        ['serverAuth', refused],
        ['clientAuth', ok],
      ] as const) {
        const issuer = key();
        const issuerCert = issue(
          `${usage} CA`,
          issuer.publicKey,
          { privateKey: root.privateKey, certificate: rootCert },
          {
            ca: true,
            usages: [usage],
          },
        );
        const k = key();
        const leafOfIssuer = issue('billing', k.publicKey, { privateKey: issuer.privateKey, certificate: issuerCert }, billingUri);
        expect({ usage, verdict: await verdicts(leafOfIssuer, k.privateKey, [issuerCert]) }).toEqual({ usage, verdict });
      }
    });
  });
});

describe('mapPrincipal, clock tolerance and level', () => {
  const servers: HttpServer[] = [];
  afterAll(() => Promise.all(servers.map(close)));
  const backendWith = async (options: Partial<ClientCertificateSchemeOptions>): Promise<number> => {
    const scheme = clientCertificateScheme({
      source: 'escaped-pem',
      trustedProxies: ['127.0.0.1'],
      ca: certs.ca.cert,
      ...options,
    } as ClientCertificateSchemeOptions);
    const app = express();
    app.get('/whoami', authenticate([scheme]), (req, res) => {
      res.json(getPrincipal(req));
    });
    const { server, port } = await listening(createHttpServer(app));
    servers.push(server);
    return port;
  };
  const send = (port: number, c: TestCertificate): Promise<Answer> => httpGet(port, { 'x-ssl-client-cert': encodeURIComponent(c.cert) });

  it('mapPrincipal maps the verified certificate (async), undefined refuses', async () => {
    const port = await backendWith({
      mapPrincipal: async (c) =>
        c.names.dns.includes('worker.internal')
          ? { subject: `dns:${c.names.dns[0] ?? ''}`, kind: 'service', scheme: 'mesh-dns', scopes: ['jobs'], details: { team: 'batch' } }
          : undefined,
    });
    const ok = JSON.parse((await send(port, certs.dnsOnly)).body) as { subject: string; scheme: string; details: Record<string, unknown> };
    expect(ok).toMatchObject({ subject: 'dns:worker.internal', scheme: 'mesh-dns', scopes: ['jobs'] });
    expect(ok.details).toMatchObject({ team: 'batch', dns: ['worker.internal'], email: ['worker@example.org'] });
    const refused = await send(port, certs.billing);
    expect([refused.status, reasonOf(refused)]).toEqual([401, 'identity_not_allowed']);
  });

  it('clockToleranceSeconds admits a certificate expired within it; level is the default assurance level', async () => {
    const tolerant = await backendWith({ allow: allowBilling, clockToleranceSeconds: 7200, level: 2 });
    expect(JSON.parse((await send(tolerant, certs.expired)).body)).toMatchObject({ subject: BILLING, kind: 'service', level: 2 });
    const strict = await backendWith({ allow: allowBilling, clockToleranceSeconds: 1800 });
    expect((await send(strict, certs.expired)).status).toBe(401);
    const later = await backendWith({ allow: allowBilling, clock: () => Date.now() + 2 * 3_600_000 });
    expect(JSON.parse((await send(later, certs.notYetValid)).body)).toMatchObject({ subject: BILLING });
  });
});

describe('beside another scheme on one route', () => {
  it('an unknown identity falls through to the next scheme; a revoked certificate ends the chain', async () => {
    const mesh = clientCertificateScheme({
      source: 'escaped-pem',
      trustedProxies: ['127.0.0.1'],
      ca: certs.ca.cert,
      allow: allowBilling,
      isRevoked: (c) => c.names.uri.includes(BILLING),
    });
    const app = express();
    app.get('/whoami', authenticate([mesh, toyScheme()]), (req, res) => {
      res.json({ subject: getPrincipal(req)?.subject });
    });
    const { server, port } = await listening(createHttpServer(app));
    try {
      const other = await httpGet(port, { 'x-ssl-client-cert': encodeURIComponent(certs.reports.cert), authorization: 'Toy svc' });
      expect(JSON.parse(other.body)).toEqual({ subject: 'svc' });
      const revoked = await httpGet(port, { 'x-ssl-client-cert': encodeURIComponent(certs.billing.cert), authorization: 'Toy svc' });
      expect([revoked.status, reasonOf(revoked)]).toEqual([401, 'revoked']);
    } finally {
      await close(server);
    }
  });
});

describe('configuration', () => {
  it.each([
    [
      { allow: allowBilling, source: 'xfcc', trustedProxies: ['127.0.0.1'] },
      'clientCertificateScheme(): "ca" must be given with a header source',
    ],
    [
      { allow: allowBilling, source: 'xfcc', trustedProxies: ['127.0.0.1'], trustBundles: { 'example.org': certs.ca.cert } },
      'clientCertificateScheme(): "ca" must be given with a header source',
    ],
    [{}, 'clientCertificateScheme(): one of "allow", "mapPrincipal" is required'],
    [
      { allow: allowBilling, trustBundles: { 'Example.org': certs.ca.cert } },
      '"trustBundles" must be an object of trust domain → PEM CA certificates (a trust domain in lower case)',
    ],
    [{ allow: allowBilling, trustBundles: { 'example.org': 'not pem' } }, '"trustBundles.example.org" must be PEM CA certificates'],
    [{ allow: [{ spiffeId: 'spiffe://Example.org/x' }] }, '"allow[0].spiffeId" must be a SPIFFE ID (spiffe://trust-domain/path)'],
    [{ allow: [{ spiffeIdPrefix: 'spiffe://example.org/x/' }] }, '"allow[0].spiffeIdPrefix" must be a SPIFFE ID'],
    [{ allow: [{ dns: 'a', email: 'b' }] }, 'give "spiffeId" or "spiffeIdPrefix" or "dns" or "email" or "uri", not both'],
    [{ allow: [{ dns: '*.example.org' }] }, '"allow[0].dns" must be an exact DNS name (no wildcard, no trailing dot)'],
    [{ allow: [{ dns: 'worker.internal.' }] }, '"allow[0].dns" must be an exact DNS name (no wildcard, no trailing dot)'],
    [{ allow: [{ dns: 'a..b' }] }, '"allow[0].dns" must be an exact DNS name'],
  ] as const)('%j is refused', (options, message) => {
    expect(() => clientCertificateScheme(options as ClientCertificateSchemeOptions)).toThrow(message);
  });

  it('warns about unknown options, naming where a TLS server option belongs', () => {
    const lines: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (_: unknown, m?: string) => void lines.push(m ?? ''),
    };
    clientCertificateScheme({ allow: allowBilling, logger, ...({ rejectUnauthorized: false, alow: [] } as object) });
    clientCertificateScheme({ allow: [{ spiffeId: BILLING, ...({ scope: ['a'] } as object) }], logger });
    expect(lines).toEqual([
      'clientCertificateScheme(): unknown option "rejectUnauthorized" (a TLS server option: give it to https.createServer() (false lets the scheme answer 401 with a challenge)); it is ignored',
      'clientCertificateScheme(): unknown option "alow" (did you mean "allow"?); it is ignored',
      'clientCertificateScheme(): unknown option "allow[0].scope" (did you mean "allow[0].scopes"?); it is ignored',
    ]);
  });
});

describe('HTTP/2 (http2.createSecureServer, compatibility API)', () => {
  it("reads the certificate of the HTTP/2 session's TLS socket: authorized 200, unauthorized 401, none is no credential", async () => {
    const scheme = clientCertificateScheme({ allow: allowBilling });
    const server = createSecureServer(serverTls(certs.ca.cert, false), (req, res) => {
      scheme.authenticate(req).then(
        (principal) => res.end(JSON.stringify({ status: 200, subject: principal?.subject })),
        (error: { status?: number; reason?: string }) => res.end(JSON.stringify({ status: error.status, reason: error.reason })),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const ask = async (client?: TestCertificate): Promise<unknown> => {
      const session = connectHttp2(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, {
        ca: certs.ca.cert,
        ...(client ? { cert: client.cert, key: client.key } : {}),
      });
      const stream = session.request({ ':path': '/whoami' });
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (body += c));
      await new Promise((resolve) => stream.on('end', resolve));
      session.close();
      return JSON.parse(body);
    };
    try {
      expect(await ask(certs.billing)).toEqual({ status: 200, subject: BILLING });
      expect(await ask(certs.untrusted)).toEqual({ status: 401, reason: 'certificate_untrusted' });
      // No certificate: the scheme answers undefined ("not mine"), so authenticate() would answer 401.
      expect(await ask()).toEqual({ status: 200 });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
