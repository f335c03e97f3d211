/**
 * Mutual TLS route: `/mtls/whoami` accepts the example's client certificate by its SPIFFE ID. It
 * answers on the HTTPS listener (server.ts) only: on plain HTTP no certificate is ever presented.
 */
import type { Express } from 'express';
import { authenticate, clientCertificateScheme, getPrincipal, requireScopes } from '../../../src/index.js';
import type { RouteModule } from '../context.js';
import { DEV_SPIFFE_ID, devCertificates } from '../dev-certs.js';

export const mountMtls: RouteModule = async (app: Express, ctx) => {
  const files = devCertificates(ctx.devDir);
  const mesh = clientCertificateScheme({
    allow: [{ spiffeId: DEV_SPIFFE_ID, scopes: ['whoami'] }],
    realm: 'example',
  });
  app.get('/mtls/whoami', authenticate([mesh]), requireScopes('whoami'), (req, res) => {
    const principal = getPrincipal(req);
    res.json({ subject: principal?.subject, spiffeId: principal?.details['spiffeId'], thumbprint: principal?.details['x5t#S256'] });
  });
  const u = ctx.mtlsBaseUrl ?? 'https://127.0.0.1:3443';
  return [
    `curl --cacert ${files.ca} --cert ${files.client} --key ${files.clientKey} ${u}/mtls/whoami   # 200`,
    `curl --cacert ${files.ca} ${u}/mtls/whoami   # 401 with a ClientCertificate challenge`,
    `npx authnz cert client --ca-cert ${files.ca} --ca-private-key ${files.caKey} --spiffe-id spiffe://example.org/ns/dev/sa/other --name other --out ${files.dir}   # another identity: 401 identity_not_allowed`,
  ];
};
