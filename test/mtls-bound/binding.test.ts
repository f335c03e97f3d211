/**
 * Certificate-bound access tokens (RFC 8705 §3) at the resource server, over real TLS on loopback:
 * jwtBearerScheme and introspectionScheme with `clientCertificate` accept a token whose
 * `cnf["x5t#S256"]` names the client certificate of the connection, and refuse it (ending the
 * chain: the permissive scheme after them never sees it) without a certificate, with another one,
 * with an unverified one, presented the DPoP way, or when the scheme has no certificate source.
 * DPoP-bound and certificate-bound tokens side by side on one route; the caches never skip the check.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  authenticate,
  createDpopProof,
  createMtlsFetch,
  dpopKey,
  introspectionScheme,
  JwtAccessTokenVerifier,
  jwtBearerScheme,
} from '../../src/index.js';
import { expectRefusal, introspectionStub, listen, type Listening } from '../helpers/http.js';
import { testCertificates, type TestCertificate } from '../helpers/certificates.js';
import { toyScheme } from '../helpers/toy-scheme.js';

const ISS = 'https://issuer.example.test/';
const AUD = 'https://api.example.test';
const certs = testCertificates();
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const holderKey = dpopKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
let serial = 0;
function jwt(claims: Record<string, unknown>): string {
  serial += 1;
  const payload = { iss: ISS, aud: AUD, sub: 'svc', client_id: 'svc', exp: now() + 300, iat: now() - 5, jti: `t${serial}`, ...claims };
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt' })}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}
const x5t = (c: TestCertificate): string => createMtlsFetch({ cert: c.cert, key: c.key }).thumbprint;
const boundTo = (c: TestCertificate): Record<string, unknown> => ({ cnf: { 'x5t#S256': x5t(c) } });

let server: ReturnType<typeof createServer>;
let origin: string;
let introspection: Listening;
const answers = new Map<string, Record<string, unknown>>();
const agents: HttpsAgent[] = [];

beforeAll(async () => {
  introspection = await introspectionStub(answers);
  const socket = { source: 'socket' } as const;
  const jwtOptions = { issuer: ISS, audience: AUD, publicKeys: [publicKey], dpop: { origins: ['https://127.0.0.1'] } };
  const introspect = {
    endpoint: `${introspection.url}/introspect`,
    clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret-value' },
    cacheSeconds: 60,
    timeoutMs: 2000,
  } as const;
  const e = express();
  // Each route ends with a scheme that takes any Bearer token: whatever reaches it is let in.
  const anything = toyScheme('anything', 'Bearer');
  e.get('/jwt', authenticate([jwtBearerScheme({ ...jwtOptions, clientCertificate: socket }), anything]), (req, res) => {
    res.json(req.principal);
  });
  e.get('/jwt-unconfigured', authenticate([jwtBearerScheme(jwtOptions), anything]), (req, res) => {
    res.json(req.principal);
  });
  e.get('/introspection', authenticate([introspectionScheme({ ...introspect, clientCertificate: socket }), anything]), (req, res) => {
    res.json(req.principal);
  });
  e.get('/introspection-unconfigured', authenticate([introspectionScheme(introspect), anything]), (req, res) => {
    res.json(req.principal);
  });
  // The client certificate is asked for but not required: its absence is the scheme's to judge.
  server = createServer(
    { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert, requestCert: true, rejectUnauthorized: false },
    e,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const agent of agents) agent.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await introspection.close();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** A GET over TLS presenting `client` (createMtlsFetch), or no certificate at all. */
async function call(path: string, headers: Record<string, string>, client?: TestCertificate): Promise<Answer> {
  if (client !== undefined) {
    const mtls = createMtlsFetch({ cert: client.cert, key: client.key, ca: certs.ca.cert });
    agents.push(mtls.agent);
    const res = await mtls(`${origin}${path}`, { headers });
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
  }
  return new Promise((resolve, reject) => {
    const req = request(`${origin}${path}`, { headers, ca: certs.ca.cert, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, text }));
    });
    req.on('error', reject);
    req.end();
  });
}
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const refused = (answer: Answer, reason: string, challenge = 'Bearer'): void => {
  expect(expectRefusal(answer, challenge, { status: 401 })).toMatchObject({ code: 'token_invalid', reason });
};

describe('jwtBearerScheme with clientCertificate: a token bound to certificate A', () => {
  it('is accepted over a connection presenting A, every time (also once the verified token is cached)', async () => {
    const token = jwt(boundTo(certs.billing));
    for (let i = 0; i < 3; i++) {
      const res = await call('/jwt', bearer(token), certs.billing);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ subject: 'svc', scheme: 'jwt-bearer', details: { 'x5t#S256': x5t(certs.billing) } });
    }
    // Now served from the verified-token cache: the binding is still checked.
    refused(await call('/jwt', bearer(token), certs.reports), 'certificate_mismatch');
    refused(await call('/jwt', bearer(token)), 'certificate_missing');
  });

  it('with certificate B (same CA) → 401 certificate_mismatch, not the fallback', async () => {
    refused(await call('/jwt', bearer(jwt(boundTo(certs.billing))), certs.reports), 'certificate_mismatch');
  });

  it('without a client certificate → 401 certificate_missing, not the fallback', async () => {
    refused(await call('/jwt', bearer(jwt(boundTo(certs.billing)))), 'certificate_missing');
  });

  it('with the very certificate it names, but one the TLS stack did not verify → refused, not the fallback', async () => {
    // `untrusted` is issued by a CA the server does not trust: the socket is not authorized.
    refused(await call('/jwt', bearer(jwt(boundTo(certs.untrusted))), certs.untrusted), 'certificate_untrusted');
  });

  it('an unbound token still passes with or without a certificate (control)', async () => {
    expect((await call('/jwt', bearer(jwt({})), certs.billing)).status).toBe(200);
    expect((await call('/jwt', bearer(jwt({})))).status).toBe(200);
  });

  it('a cnf naming both a DPoP key and a certificate → 401 cnf_unsupported (a token is bound one way)', async () => {
    const token = jwt({ cnf: { jkt: holderKey.jkt, 'x5t#S256': x5t(certs.billing) } });
    refused(await call('/jwt', bearer(token), certs.billing), 'cnf_unsupported');
  });

  it('a malformed x5t#S256 → 401 claim_invalid, not the fallback', async () => {
    refused(await call('/jwt', bearer(jwt({ cnf: { 'x5t#S256': 'not-a-thumbprint' } })), certs.billing), 'claim_invalid');
  });

  it('the thumbprint is compared as written: padded, base64, hex or non-string forms of the right one never match', async () => {
    const right = x5t(certs.billing);
    const digest = Buffer.from(right, 'base64url');
    const forms: unknown[] = [`${right}=`, digest.toString('base64'), digest.toString('hex'), right.toUpperCase(), '', [right], 1, null];
    for (const form of forms.filter((f) => f !== right)) {
      const res = await call('/jwt', bearer(jwt({ cnf: { 'x5t#S256': form } })), certs.billing);
      expect({ form, status: res.status }).toEqual({ form, status: 401 });
      refused(res, right.toUpperCase() === form ? 'certificate_mismatch' : 'claim_invalid');
    }
    // A cnf with another member beside x5t#S256 is no single confirmation method.
    refused(await call('/jwt', bearer(jwt({ cnf: { 'x5t#S256': right, x5u: 'https://x' } })), certs.billing), 'cnf_unsupported');
  });

  it('on a scheme without clientCertificate → 401 cnf_unsupported even with certificate A', async () => {
    refused(await call('/jwt-unconfigured', bearer(jwt(boundTo(certs.billing))), certs.billing), 'cnf_unsupported');
  });
});

describe('curl as the client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-bound-curl-'));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const curl = (token: string, client: TestCertificate): Promise<{ status: string; body: string }> =>
    new Promise((resolve, reject) =>
      execFile(
        'curl',
        [
          '-sS',
          '--cacert',
          file('ca.pem', certs.ca.cert),
          '--cert',
          file('client.pem', client.cert),
          '--key',
          file('client.key', client.key),
          '-H',
          `Authorization: Bearer ${token}`,
          '-w',
          '\n%{http_code}',
          `https://localhost:${origin.split(':')[2] ?? ''}/jwt`,
        ],
        (error, stdout) => {
          if (error) reject(error);
          else resolve({ status: stdout.split('\n').at(-1) ?? '', body: stdout });
        },
      ),
    );

  it('presenting certificate A with a token bound to A → 200; with B → 401 certificate_mismatch', async () => {
    const token = jwt(boundTo(certs.billing));
    expect((await curl(token, certs.billing)).status).toBe('200');
    const refusedAnswer = await curl(token, certs.reports);
    expect(refusedAnswer.status).toBe('401');
    expect(refusedAnswer.body).toContain('"reason":"certificate_mismatch"');
  });
});

describe('side by side with DPoP on one route', () => {
  const proof = (token: string): string => createDpopProof(holderKey, { method: 'GET', url: `https://127.0.0.1/jwt`, accessToken: token });

  it('a DPoP-bound token with its proof is accepted; the certificate on the connection does not matter', async () => {
    const token = jwt({ cnf: { jkt: holderKey.jkt } });
    const res = await call('/jwt', { authorization: `DPoP ${token}`, dpop: proof(token), host: '127.0.0.1' }, certs.billing);
    expect(res.status).toBe(200);
  });

  it('a DPoP-bound token sent as Bearer with a client certificate → 401 dpop_bound, not the fallback', async () => {
    refused(await call('/jwt', bearer(jwt({ cnf: { jkt: holderKey.jkt } })), certs.billing), 'dpop_bound', 'DPoP');
  });

  it('a certificate-bound token presented as DPoP, with a proof → 401 dpop_not_bound, not the fallback', async () => {
    const token = jwt(boundTo(certs.billing));
    const res = await call('/jwt', { authorization: `DPoP ${token}`, dpop: proof(token), host: '127.0.0.1' }, certs.billing);
    refused(res, 'dpop_not_bound', 'DPoP');
  });

  it('a certificate-bound token as Bearer with a stray DPoP proof → 401 dpop_not_bound, not the fallback', async () => {
    const token = jwt(boundTo(certs.billing));
    refused(await call('/jwt', { ...bearer(token), dpop: proof(token), host: '127.0.0.1' }, certs.billing), 'dpop_not_bound', 'DPoP');
  });
});

describe('introspectionScheme with clientCertificate: an answer with cnf x5t#S256 (RFC 8705 §3.2)', () => {
  const answer = (token: string, c: TestCertificate): void => {
    answers.set(token, { active: true, sub: 'svc', client_id: 'svc', scope: 'read', exp: now() + 300, cnf: { 'x5t#S256': x5t(c) } });
  };

  it('is accepted with certificate A, also from the introspection cache, and refused with B or none after it', async () => {
    answer('opaque-a', certs.billing);
    for (let i = 0; i < 2; i++) expect((await call('/introspection', bearer('opaque-a'), certs.billing)).status).toBe(200);
    refused(await call('/introspection', bearer('opaque-a'), certs.reports), 'certificate_mismatch');
    refused(await call('/introspection', bearer('opaque-a')), 'certificate_missing');
  });

  it('without clientCertificate on the scheme → 401 cnf_unsupported even with certificate A', async () => {
    answer('opaque-b', certs.billing);
    refused(await call('/introspection-unconfigured', bearer('opaque-b'), certs.billing), 'cnf_unsupported');
  });
});

describe('a forwarded certificate header from an address that is not a trusted proxy', () => {
  it('with a bound token → 400 certificate_header_untrusted, ending the chain (never read, never the fallback)', async () => {
    const e = express();
    const scheme = jwtBearerScheme({
      issuer: ISS,
      audience: AUD,
      publicKeys: [publicKey],
      dpop: { mode: 'disabled' },
      clientCertificate: { source: 'xfcc', trustedProxies: ['10.9.9.9'] },
    });
    e.get('/jwt', authenticate([scheme, toyScheme('anything', 'Bearer')]), (req, res) => {
      res.json(req.principal);
    });
    const plain = await listen(e);
    try {
      const res = await fetch(`${plain.url}/jwt`, {
        headers: { ...bearer(jwt(boundTo(certs.billing))), 'x-forwarded-client-cert': `Cert="${encodeURIComponent(certs.billing.cert)}"` },
      });
      const answer = { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
      expect(expectRefusal(answer, 'Bearer', { status: 400 })).toMatchObject({ reason: 'certificate_header_untrusted' });
    } finally {
      await plain.close();
    }
  });
});

describe('JwtAccessTokenVerifier on its own', () => {
  const verifier = new JwtAccessTokenVerifier({ issuer: ISS, audience: AUD, publicKeys: [publicKey] });

  it('refuses a certificate-bound token (cnf_unsupported, ending the chain), also once cached, unless the caller checks it', async () => {
    const token = jwt(boundTo(certs.billing));
    for (let i = 0; i < 3; i++) expect((await verifier.verify(token, { checksCertificate: true })).x5t).toBe(x5t(certs.billing));
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'cnf_unsupported', endsChain: true });
  });
});

describe('the bound certificate expires while the keep-alive connection stays open', () => {
  // The TLS stack checked the certificate at the handshake; the binding checks its validity on each request.
  const expiry = Math.floor(Date.parse(certs.billing.certificate.validTo) / 1000);
  let clockSeconds = now();
  let keepAlive: ReturnType<typeof createServer>;
  let url: string;
  let handshakes = 0;

  beforeAll(async () => {
    const socket = { source: 'socket' } as const;
    const clock = (): number => clockSeconds * 1000;
    const e = express();
    const anything = toyScheme('anything', 'Bearer');
    e.get(
      '/jwt',
      authenticate([jwtBearerScheme({ issuer: ISS, audience: AUD, publicKeys: [publicKey], clock, clientCertificate: socket }), anything]),
      (req, res) => res.json(req.principal),
    );
    const introspect = {
      endpoint: `${introspection.url}/introspect`,
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret-value' },
      timeoutMs: 2000,
      clock,
      clockToleranceSeconds: 30,
    } as const;
    e.get('/introspection', authenticate([introspectionScheme({ ...introspect, clientCertificate: socket }), anything]), (req, res) =>
      res.json(req.principal),
    );
    const tls = { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert, requestCert: true, rejectUnauthorized: false };
    keepAlive = createServer(tls, e);
    keepAlive.on('secureConnection', () => handshakes++);
    await new Promise<void>((resolve) => keepAlive.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(keepAlive.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    keepAlive.closeAllConnections();
    await new Promise<void>((resolve) => keepAlive.close(() => resolve()));
  });

  it('a token bound to it is refused (certificate_untrusted, ending the chain) after notAfter, on the same connection', async () => {
    const mtls = createMtlsFetch({ cert: certs.billing.cert, key: certs.billing.key, ca: certs.ca.cert });
    agents.push(mtls.agent);
    const ask = async (path: string, token: string): Promise<Answer> => {
      const res = await mtls(`${url}${path}`, { headers: bearer(token) });
      return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text() };
    };
    const tokens = (at: number): { jwt: string; opaque: string } => {
      const opaque = `opaque-${at}`;
      answers.set(opaque, { active: true, sub: 'svc', client_id: 'svc', exp: at + 300, ...boundTo(certs.billing) });
      return { jwt: jwt({ iat: at - 5, exp: at + 300, ...boundTo(certs.billing) }), opaque };
    };
    clockSeconds = now();
    const before = tokens(clockSeconds);
    expect((await ask('/jwt', before.jwt)).status).toBe(200);
    expect((await ask('/introspection', before.opaque)).status).toBe(200);
    // Within the introspection scheme's clock tolerance of 30 s: still valid.
    clockSeconds = expiry + 20;
    expect((await ask('/introspection', tokens(clockSeconds).opaque)).status).toBe(200);
    clockSeconds = expiry + 60;
    const after = tokens(clockSeconds);
    refused(await ask('/jwt', after.jwt), 'certificate_untrusted');
    refused(await ask('/introspection', after.opaque), 'certificate_untrusted');
    // One TLS handshake served them all (the agent keeps the connection alive).
    expect(handshakes).toBe(1);
  });
});
