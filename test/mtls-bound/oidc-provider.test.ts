/**
 * Certificate-bound access tokens end to end (RFC 8705): a real oidc-provider over HTTPS with its
 * `mTLS` features issues them to our TokenClient (`tls_client_auth` and
 * `self_signed_tls_client_auth`, at the `mtls_endpoint_aliases` token endpoint), and a resource
 * server over real TLS accepts them only with the certificate they were issued for: JWT access
 * tokens through jwtBearerScheme, opaque ones through introspectionScheme, and through a trusted
 * proxy's forwarded-certificate header. Every refusal ends the chain: the permissive scheme after
 * them on each route never sees the token.
 */
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  authenticate,
  createMtlsFetch,
  introspectionScheme,
  isOAuthClientError,
  jwtBearerScheme,
  TokenClient,
  type AuthScheme,
  type MtlsFetch,
} from '../../src/index.js';
import { expectRefusal, listen, type Listening } from '../helpers/http.js';
import { testCertificates, type TestCertificate } from '../helpers/certificates.js';
import { toyScheme } from '../helpers/toy-scheme.js';
import { API, OPAQUE_API, RS_SECRET, startMtlsProvider, type MtlsProvider } from './provider.js';

const certs = testCertificates();
let as: MtlsProvider;
let api: Server;
let apiOrigin: string;
let plainApi: Server;
let plainOrigin: string;
let behindProxy: Listening;
const fetches: MtlsFetch[] = [];

/** A fetch presenting `client` and trusting the test CA (the AS's and the API's server certificates). */
function mtlsFetch(client: TestCertificate): MtlsFetch {
  const f = createMtlsFetch({ cert: client.cert, key: client.key, ca: certs.ca.cert });
  fetches.push(f);
  return f;
}

function tokenClient(method: 'tls_client_auth' | 'self_signed_tls_client_auth', clientId: string, client: TestCertificate): TokenClient {
  return new TokenClient({
    issuer: as.issuer,
    clientAuth: { method, clientId },
    tls: { cert: client.cert, key: client.key, ca: certs.ca.cert },
  });
}

function listenTls(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

beforeAll(async () => {
  as = await startMtlsProvider();
  // The API's own transport to the AS (discovery, JWKS, introspection): trusts the test CA.
  const toAs = mtlsFetch(certs.proxy);
  const anything = toyScheme('anything', 'Bearer');
  const routes = (certificateSource: Parameters<typeof jwtBearerScheme>[0]['clientCertificate']): express.Express => {
    const jwt: AuthScheme = jwtBearerScheme({
      issuer: as.issuer,
      audience: API,
      dpop: { mode: 'disabled' },
      clientCertificate: certificateSource,
      discovery: { fetch: toAs },
      jwks: { fetch: toAs },
    });
    const opaque: AuthScheme = introspectionScheme({
      issuer: as.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: 'orders-api', clientSecret: RS_SECRET },
      clientCertificate: certificateSource,
      fetch: toAs,
    });
    const e = express();
    e.get('/jwt', authenticate([jwt, anything]), (req, res) => {
      res.json(req.principal);
    });
    e.get('/opaque', authenticate([opaque, anything]), (req, res) => {
      res.json(req.principal);
    });
    return e;
  };
  const app = routes({ source: 'socket' });
  // The API asks for a client certificate and trusts the test CA and svc-self's registered certificate.
  api = createServer(
    {
      cert: certs.server.cert,
      key: certs.server.key,
      ca: [certs.ca.cert, as.selfSigned.cert],
      requestCert: true,
      rejectUnauthorized: false,
    },
    app,
  );
  apiOrigin = await listenTls(api);
  // The same API on a listener that asks for no client certificate at all.
  plainApi = createServer({ cert: certs.server.cert, key: certs.server.key }, app);
  plainOrigin = await listenTls(plainApi);
  // Behind a TLS-terminating proxy on loopback (the test plays the proxy): Envoy's XFCC header.
  behindProxy = await listen(routes({ source: 'xfcc', trustedProxies: ['127.0.0.1'] }));
});

afterAll(async () => {
  for (const f of fetches) f.agent.destroy();
  for (const s of [api, plainApi]) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  await behindProxy.close();
  await as.close();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}
async function call(url: string, token: string, client: TestCertificate | undefined, extra: Record<string, string> = {}): Promise<Answer> {
  const headers = { authorization: `Bearer ${token}`, ...extra };
  // Without a certificate: the test CA's trust only, through the same kind of agent.
  const res = client === undefined ? await caOnly(url, headers) : await mtlsFetch(client)(url, { headers });
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
}
async function caOnly(url: string, headers: Record<string, string>): Promise<Response> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ca: certs.ca.cert, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: res.headers as Record<string, string> })),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
const refused = (answer: Answer, reason: string, status = 401): void => {
  const problem = expectRefusal(answer, 'Bearer', { status });
  expect(problem.reason).toBe(reason);
};
const payloadOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

describe('tls_client_auth: a JWT access token bound to certificate A', () => {
  let token: string;
  let client: TokenClient;

  beforeAll(async () => {
    client = tokenClient('tls_client_auth', 'billing', certs.billing);
    token = (await client.grantClient({ resource: API, scopes: ['read'] })).accessToken;
  });

  it('is issued at the mTLS alias of the token endpoint, bound to A (cnf x5t#S256)', () => {
    expect(as.hits.get('mtls /token')).toBeGreaterThanOrEqual(1);
    expect(as.hits.get('main /token')).toBeUndefined();
    expect(payloadOf(token)).toMatchObject({ aud: API, client_id: 'billing', cnf: { 'x5t#S256': client.certificateThumbprint } });
    expect(client.certificateThumbprint).toBe(mtlsFetch(certs.billing).thumbprint);
  });

  it('is accepted with certificate A', async () => {
    const res = await call(`${apiOrigin}/jwt`, token, certs.billing);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ subject: 'billing', scheme: 'jwt-bearer' });
  });

  it('with certificate B → 401 certificate_mismatch (not the permissive scheme after it)', async () => {
    refused(await call(`${apiOrigin}/jwt`, token, certs.reports), 'certificate_mismatch');
  });

  it('without a certificate → 401 certificate_missing', async () => {
    refused(await call(`${apiOrigin}/jwt`, token, undefined), 'certificate_missing');
  });

  it('as plain Bearer to a listener that asks for no client certificate → 401 certificate_missing', async () => {
    refused(await call(`${plainOrigin}/jwt`, token, certs.billing), 'certificate_missing');
  });

  it('the server refuses tls_client_auth with a certificate whose SPIFFE ID is not the registered one', async () => {
    const wrong = tokenClient('tls_client_auth', 'billing', certs.reports);
    const failure: unknown = await wrong.grantClient({ resource: API, scopes: ['read'] }).catch((e: unknown) => e);
    expect(isOAuthClientError(failure) && failure.code === 'oauth_error' && failure.error === 'invalid_client').toBe(true);
  });
});

describe('tls_client_auth: an opaque token bound to certificate A, through introspection', () => {
  let token: string;

  beforeAll(async () => {
    token = (await tokenClient('tls_client_auth', 'billing', certs.billing).grantClient({ resource: OPAQUE_API, scopes: ['read'] }))
      .accessToken;
  });

  it('is accepted with A, twice (the second from the introspection cache)', async () => {
    for (let i = 0; i < 2; i++) expect((await call(`${apiOrigin}/opaque`, token, certs.billing)).status).toBe(200);
  });

  it('with B → 401 certificate_mismatch; without a certificate → 401 certificate_missing', async () => {
    refused(await call(`${apiOrigin}/opaque`, token, certs.reports), 'certificate_mismatch');
    refused(await call(`${apiOrigin}/opaque`, token, undefined), 'certificate_missing');
  });
});

describe('self_signed_tls_client_auth', () => {
  it('gets a token bound to the self-signed certificate, accepted with it and refused with A', async () => {
    const client = tokenClient('self_signed_tls_client_auth', 'svc-self', as.selfSigned);
    const token = (await client.grantClient({ resource: API, scopes: ['read'] })).accessToken;
    expect(payloadOf(token)).toMatchObject({ client_id: 'svc-self', cnf: { 'x5t#S256': client.certificateThumbprint } });
    expect((await call(`${apiOrigin}/jwt`, token, as.selfSigned)).status).toBe(200);
    refused(await call(`${apiOrigin}/jwt`, token, certs.billing), 'certificate_mismatch');
  });
});

describe('behind a trusted proxy (x-forwarded-client-cert)', () => {
  const xfcc = (c: TestCertificate): Record<string, string> => ({ 'x-forwarded-client-cert': `Cert="${encodeURIComponent(c.cert)}"` });

  it('the bound token is accepted with the forwarded certificate A and refused with B or none', async () => {
    const token = (await tokenClient('tls_client_auth', 'billing', certs.billing).grantClient({ resource: API, scopes: ['read'] }))
      .accessToken;
    const url = `${behindProxy.url}/jwt`;
    const get = async (headers: Record<string, string>): Promise<Answer> => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
      return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
    };
    expect((await get(xfcc(certs.billing))).status).toBe(200);
    refused(await get(xfcc(certs.reports)), 'certificate_mismatch');
    refused(await get({}), 'certificate_missing');
  });
});
