/**
 * A real OAuth server with mutual TLS (RFC 8705): oidc-provider 9 over HTTPS on 127.0.0.1 with
 * `features.mTLS` (certificate-bound access tokens, `tls_client_auth`, `self_signed_tls_client_auth`).
 * The issuer's own listener asks for no client certificate; a second listener, published as
 * `mtls_endpoint_aliases` (RFC 8705 §5), asks for one (and lets the provider judge it). Resource
 * indicators as in ../jwt-bearer/provider.ts: `API` gets JWT access tokens, `OPAQUE_API` opaque ones.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { generateKeyPairSync, X509Certificate, type JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Provider from 'oidc-provider';
import { createCertificate } from '../../src/lib/x509.js';
import { loopbackFetch, quietProviderNotices } from '../helpers/oauth-provider.js';
import { RESOURCE_INDICATORS } from '../jwt-bearer/provider.js';
import { testCertificates, type TestCertificate } from '../helpers/certificates.js';

export { API, OPAQUE_API } from '../jwt-bearer/provider.js';
export const RS_SECRET = 'rs-secret-0123456789abcdef';
/** The SPIFFE ID the `billing` client is registered with (`tls_client_auth_san_uri`): the `billing` test certificate's. */
export const BILLING_SPIFFE_ID = 'spiffe://example.org/ns/prod/sa/billing';

/** A running provider. */
export interface MtlsProvider {
  /** `https://127.0.0.1:<port>`, the listener without client certificates. */
  readonly issuer: string;
  /** Origin of the listener that asks for client certificates (the mTLS aliases). */
  readonly mtlsOrigin: string;
  /** The self-signed client certificate registered for `svc-self` (RFC 8705 §2.2). */
  readonly selfSigned: TestCertificate;
  /** Requests seen per listener and path, e.g. `mtls /token`. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** The URI SANs of a certificate (`URI:` entries of Node's `subjectAltName` text). */
function uriNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
}

interface KoaLike {
  readonly socket: TLSSocket;
}

/** Starts the provider and its two listeners on free loopback ports. */
export async function startMtlsProvider(): Promise<MtlsProvider> {
  const certs = testCertificates();
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const selfCertificate = createCertificate({
    commonName: 'svc-self',
    publicKey: keyPair.publicKey,
    signingKey: keyPair.privateKey,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 86_400_000),
  });
  const selfSigned: TestCertificate = {
    certificate: selfCertificate,
    privateKey: keyPair.privateKey,
    publicKey: keyPair.publicKey,
    cert: selfCertificate.toString(),
    key: keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
  // svc-self's registered key set, served on loopback (inline `jwks` objects made in jest's vm realm
  // fail oidc-provider's `constructor === Object` check).
  const selfJwks = JSON.stringify({
    keys: [{ ...(keyPair.publicKey.export({ format: 'jwk' }) as JsonWebKey), x5c: [selfCertificate.raw.toString('base64')] }],
  });
  const jwksServer = createHttpServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(selfJwks);
  });
  const jwksPort = await listen(jwksServer);

  const hits = new Map<string, number>();
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
  const counted =
    (listener: string) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      const key = `${listener} ${(req.url ?? '').split('?')[0] ?? ''}`;
      hits.set(key, (hits.get(key) ?? 0) + 1);
      handle(req, res);
    };
  const tls = { cert: certs.server.cert, key: certs.server.key };
  const main = createServer(tls, counted('main'));
  // Asks for a certificate without requiring one from the test CA: a self-signed one is judged by
  // the provider (`self_signed_tls_client_auth`), a CA-issued one by `certificateAuthorized`.
  const mtls = createServer({ ...tls, ca: certs.ca.cert, requestCert: true, rejectUnauthorized: false }, counted('mtls'));
  const issuer = `https://127.0.0.1:${await listen(main)}`;
  const mtlsOrigin = `https://127.0.0.1:${await listen(mtls)}`;

  const loud = quietProviderNotices();
  const signing = {
    ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
    kid: 'as-1',
    alg: 'ES256',
    use: 'sig',
  };
  const peer = (ctx: unknown): X509Certificate | undefined => {
    const socket = (ctx as KoaLike).socket;
    return typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  };
  const provider = new Provider(issuer, {
    scopes: ['read', 'write'],
    jwks: { keys: [signing] },
    // The default list names only the methods without certificates.
    clientAuthMethods: ['client_secret_basic', 'tls_client_auth', 'self_signed_tls_client_auth'],
    discovery: {
      mtls_endpoint_aliases: { token_endpoint: `${mtlsOrigin}/token`, introspection_endpoint: `${mtlsOrigin}/token/introspection` },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx: unknown) => peer(ctx)?.toString(),
        certificateAuthorized: (ctx: unknown) => (ctx as KoaLike).socket.authorized === true,
        certificateSubjectMatches: (ctx: unknown, property: string, expected: string) => {
          const certificate = peer(ctx);
          return property === 'tls_client_auth_san_uri' && certificate !== undefined && uriNames(certificate).includes(expected);
        },
      },
      resourceIndicators: RESOURCE_INDICATORS,
    },
    ttl: { ClientCredentials: 600, AccessToken: 600 },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    clients: [
      { client_id: 'orders-api', client_secret: RS_SECRET, grant_types: [], redirect_uris: [], response_types: [] },
      {
        client_id: 'billing',
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_uri: BILLING_SPIFFE_ID,
        tls_client_certificate_bound_access_tokens: true,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read write',
      },
      {
        client_id: 'svc-self',
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        jwks_uri: `http://127.0.0.1:${jwksPort}/jwks`,
        tls_client_certificate_bound_access_tokens: true,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read write',
      },
    ],
    // svc-self's jwks_uri is on loopback.
    fetch: loopbackFetch,
  });
  handle = provider.callback();
  return {
    issuer,
    mtlsOrigin,
    selfSigned,
    hits,
    close: async () => {
      loud();
      for (const s of [main, mtls, jwksServer]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
