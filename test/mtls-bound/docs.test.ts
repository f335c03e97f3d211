/**
 * docs/mtls.md, run as written: the API block (`id=mtls-bound-api`) as its own process
 * over HTTPS with client certificates, and the client block (`id=mtls-bound-client`) in this one,
 * both against the real oidc-provider of ./provider.ts. The client's bound token answers 200 with
 * its certificate and is refused with another one or none.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { request } from 'node:https';
import { createMtlsFetch, type MtlsFetch } from '../../src/index.js';
import { startAppProcess, stopAppProcess, type AppProcess } from '../helpers/app-process.js';
import { testCertificates } from '../helpers/certificates.js';
import { extractSnippets, loadSnippet, writeSnippets } from '../docs/snippets.js';
import { RS_SECRET, startMtlsProvider, type MtlsProvider } from './provider.js';

const certs = testCertificates();
let as: MtlsProvider;
let app: AppProcess;
let apiUrl: string;
let files: string;
let moduleDir: string;
const fetches: MtlsFetch[] = [];

beforeAll(async () => {
  as = await startMtlsProvider();
  files = mkdtempSync(join(tmpdir(), 'mtls-bound-docs-'));
  const file = (name: string, text: string): string => {
    writeFileSync(join(files, name), text);
    return join(files, name);
  };
  const block = extractSnippets(['docs/mtls.md']).snippets.filter((s) => s.id === 'mtls-bound-api');
  expect(block).toHaveLength(1);
  const { paths } = writeSnippets(block, `mtls-bound-api-${process.pid}`);
  moduleDir = dirname(paths[0] as string);
  app = startAppProcess(
    new URL(`file://${paths[0] as string}`),
    {
      OAUTH_ISSUER: as.issuer,
      RS_SECRET,
      TLS_CERT: file('server.pem', certs.server.cert),
      TLS_KEY: file('server-key.pem', certs.server.key),
      CLIENT_CA: file('ca.pem', certs.ca.cert),
      // The test CA signs the OAuth server's certificate too: the app's own fetch must trust it.
      NODE_EXTRA_CA_CERTS: join(files, 'ca.pem'),
      PORT: '0',
    },
    { listening: /listening on port (\d+)/ },
  );
  apiUrl = (await app.url).replace('http://', 'https://');
  Object.assign(process.env, {
    OAUTH_ISSUER: as.issuer,
    API_URL: apiUrl,
    CLIENT_CERT: file('client.pem', certs.billing.cert),
    CLIENT_KEY: file('client-key.pem', certs.billing.key),
    SERVER_CA: join(files, 'ca.pem'),
  });
}, 60_000);

afterAll(async () => {
  for (const f of fetches) f.agent.destroy();
  await stopAppProcess(app?.child);
  await as?.close();
  rmSync(files, { recursive: true, force: true });
  if (moduleDir) rmSync(moduleDir, { recursive: true, force: true });
});

describe('docs/mtls.md, run as written', () => {
  it('the client block gets a certificate-bound token and the API block answers 200 to it', async () => {
    const { listOrders } = await loadSnippet<{ listOrders: () => Promise<Response> }>('mtls-bound-client');
    const res = await listOrders();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ caller: 'billing' });
    expect(as.hits.get('mtls /token')).toBeGreaterThanOrEqual(1);
  });

  it('the same token with another certificate → 401 certificate_mismatch; without one → 401 certificate_missing', async () => {
    // A token bound to the billing certificate, got the way the client block gets one.
    const { TokenClient } = await import('../../src/index.js');
    const tls = { cert: certs.billing.cert, key: certs.billing.key, ca: certs.ca.cert };
    const tokens = new TokenClient({ issuer: as.issuer, clientAuth: { method: 'tls_client_auth', clientId: 'billing' }, tls });
    const { accessToken } = await tokens.grantClient({ resource: 'https://api.example.test', scopes: ['read'] });
    const other = createMtlsFetch({ cert: certs.reports.cert, key: certs.reports.key, ca: certs.ca.cert });
    fetches.push(other);
    const mismatch = await other(`${apiUrl}/orders`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(mismatch.status).toBe(401);
    expect(await mismatch.json()).toMatchObject({ reason: 'certificate_mismatch' });
    const missing = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${apiUrl}/orders`,
        { headers: { authorization: `Bearer ${accessToken}` }, ca: certs.ca.cert, agent: false },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body)).toMatchObject({ reason: 'certificate_missing' });
  });
});
