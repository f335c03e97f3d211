/**
 * The client side of mutual TLS (RFC 8705 §2): createMtlsFetch presents its certificate on a real
 * TLS connection and follows no redirect; TokenClient's `tls` and mTLS methods are checked when it
 * is built; the token endpoint is the `mtls_endpoint_aliases` one only when the server names it.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createMtlsFetch, introspectionScheme, jwtBearerScheme, TokenClient, type MtlsFetch } from '../../src/index.js';
import { testCertificates } from '../helpers/certificates.js';

const certs = testCertificates();
let server: Server;
let origin: string;
const seen: Array<{ path: string; subject: string | undefined; body: string; length?: string | undefined }> = [];
let metadata: Record<string, unknown> = {};
const fetches: MtlsFetch[] = [];
const mtls = (c = certs.billing): MtlsFetch => {
  const f = createMtlsFetch({ cert: c.cert, key: c.key, ca: certs.ca.cert });
  fetches.push(f);
  return f;
};

beforeAll(async () => {
  server = createServer(
    { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const socket = req.socket as TLSSocket;
        const path = req.url ?? '';
        seen.push({
          path,
          subject: socket.authorized ? socket.getPeerX509Certificate()?.subject : undefined,
          body,
          length: req.headers['content-length'],
        });
        res.setHeader('content-type', 'application/json');
        if (path === '/redirect') {
          res.statusCode = 302;
          res.setHeader('location', 'https://elsewhere.example/');
          res.end('{}');
        } else if (path === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer: origin, ...metadata }));
        else res.end(JSON.stringify({ access_token: `token-for-${path}`, token_type: 'Bearer', expires_in: 300 }));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const f of fetches) f.agent.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('createMtlsFetch', () => {
  it('presents the certificate on the connection; the server sees its subject', async () => {
    const res = await mtls()(`${origin}/hello`, { method: 'POST', body: new URLSearchParams({ a: '1' }) });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toEqual({ path: '/hello', subject: expect.stringContaining('CN=billing') as unknown, body: 'a=1', length: '3' });
  });

  it('its thumbprint is the x5t#S256 of the certificate (base64url SHA-256 of the DER)', () => {
    expect(mtls().thumbprint).toBe(createHash('sha256').update(certs.billing.certificate.raw).digest('base64url'));
  });

  it('returns a redirect as it is, never following it', async () => {
    const res = await mtls()(`${origin}/redirect`);
    expect(res.status).toBe(302);
    expect(seen.at(-1)?.path).toBe('/redirect');
  });

  it('refuses plain http URLs', async () => {
    await expect(mtls()('http://127.0.0.1:1/')).rejects.toThrow(/only https URLs/);
  });

  it('refuses, when built, a key that is not the certificate’s and a missing certificate', () => {
    expect(() => createMtlsFetch({ cert: certs.billing.cert, key: certs.reports.key })).toThrow(
      'createMtlsFetch(): "key" must be the private key of "cert" (the pair does not load)',
    );
    expect(() => createMtlsFetch({ key: certs.billing.key } as never)).toThrow('createMtlsFetch(): "cert" must be a PEM certificate');
    expect(() =>
      createMtlsFetch({ cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key: certs.billing.key }),
    ).toThrow('createMtlsFetch(): "cert" must be a PEM certificate (string or Buffer)');
  });
});

describe('TokenClient with tls', () => {
  const tls = { cert: certs.billing.cert, key: certs.billing.key, ca: certs.ca.cert };

  it('tls_client_auth sends client_id only, over the certificate, to the mtls alias the metadata names', async () => {
    metadata = { token_endpoint: `${origin}/token`, mtls_endpoint_aliases: { token_endpoint: `${origin}/mtls/token` } };
    const client = new TokenClient({ issuer: origin, clientAuth: { method: 'tls_client_auth', clientId: 'svc' }, tls });
    const token = await client.grantClient({ scopes: ['read'] });
    expect(token.accessToken).toBe('token-for-/mtls/token');
    const request = seen.at(-1);
    expect(request?.subject).toContain('CN=billing');
    expect(Object.fromEntries(new URLSearchParams(request?.body))).toEqual({
      grant_type: 'client_credentials',
      scope: 'read',
      client_id: 'svc',
    });
  });

  it('without an alias in the metadata, the token_endpoint', async () => {
    metadata = { token_endpoint: `${origin}/token` };
    const client = new TokenClient({ issuer: origin, clientAuth: { method: 'self_signed_tls_client_auth', clientId: 'svc' }, tls });
    expect((await client.grantClient()).accessToken).toBe('token-for-/token');
  });

  it('refuses an mTLS method without tls, tls beside fetch, and mTLS methods where no certificate is presented', () => {
    expect(() => new TokenClient({ issuer: origin, clientAuth: { method: 'tls_client_auth', clientId: 'svc' } })).toThrow(
      'new TokenClient(): "tls" must be the client certificate',
    );
    expect(
      () => new TokenClient({ issuer: origin, clientAuth: { method: 'tls_client_auth', clientId: 'svc' }, tls, fetch: mtls() as never }),
    ).toThrow('new TokenClient(): give "tls" or "fetch", not both');
    expect(() =>
      introspectionScheme({ endpoint: `${origin}/introspect`, clientAuth: { method: 'tls_client_auth', clientId: 'rs' } }),
    ).toThrow(/"clientAuth.method" must be one of/);
  });
});

describe('clientCertificate of the access-token schemes', () => {
  it('is checked when the scheme is built, its options named under clientCertificate', () => {
    const base = { issuer: 'https://issuer.example.test/', audience: 'https://api.example.test', publicKeys: [certs.billing.publicKey] };
    expect(() => jwtBearerScheme({ ...base, clientCertificate: 'xfcc' as never })).toThrow(
      'jwtBearerScheme(): "clientCertificate" must be an object such as { source: \'socket\' }',
    );
    expect(() => jwtBearerScheme({ ...base, clientCertificate: { source: 'xfcc' } })).toThrow(
      'jwtBearerScheme(): "clientCertificate.trustedProxies" must be',
    );
    expect(() => jwtBearerScheme({ ...base, clientCertificate: { source: 'socket', headerName: 'x-cert' } })).toThrow(
      'jwtBearerScheme(): "clientCertificate.headerName" must be absent with source "socket"',
    );
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (_f: object, m?: string) => void warnings.push(m ?? ''),
    };
    introspectionScheme({
      endpoint: `${origin}/introspect`,
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret-value' },
      clientCertificate: { source: 'socket', trustedProxy: ['10.0.0.1'] } as never,
      logger,
    });
    expect(warnings.join('\n')).toContain('clientCertificate.trustedProxy');
  });
});
