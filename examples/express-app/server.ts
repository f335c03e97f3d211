/** Starts the example API: `npm run example`. No AWS account and no Redis needed. */
import { mkdirSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Express } from 'express';
import { createExampleApp } from './app.js';
import { devCertificates, devTlsOptions } from './dev-certs.js';

const port = Number(process.env['PORT'] ?? 3000);
const host = process.env['HOST'] ?? '127.0.0.1';
const baseUrl = `http://${host}:${port}`;
const devDir = resolve(process.env['AUTHNZ_DEV_DIR'] ?? '.dev');
mkdirSync(devDir, { recursive: true, mode: 0o700 });

// The mutual TLS listener (client certificates) serves the same app over HTTPS: on MTLS_PORT, else
// 3443 with the default PORT, else a free port (so that several example processes can run).
// It opens first (its URL goes into the printed curl lines) and answers 503 until the app is built.
const ready: { app?: Express } = {};
const tlsServer = createHttpsServer(devTlsOptions(devCertificates(devDir)), (req, res) => {
  if (ready.app) ready.app(req, res);
  else res.writeHead(503, { 'retry-after': '1' }).end();
});
const mtlsPort = Number(process.env['MTLS_PORT'] ?? (process.env['PORT'] === undefined ? 3443 : 0));
await new Promise<void>((listening) => tlsServer.listen(mtlsPort, host, listening));
const mtlsBaseUrl = `https://${host}:${(tlsServer.address() as AddressInfo).port}`;

// REDIS_URL / DATABASE_URL move the shared state to Redis / PostgreSQL (docs/deployment.md).
const redisUrl = process.env['REDIS_URL'];
const databaseUrl = process.env['DATABASE_URL'];
// Start-up order: the stores are ready first (Redis answers a PING, the API key table exists), then
// the port opens; a dependency that does not come up within 10 s ends the start with an error.
const example = await createExampleApp({
  devDir,
  baseUrl,
  mtlsBaseUrl,
  stores: { ...(redisUrl ? { redisUrl } : {}), ...(databaseUrl ? { databaseUrl } : {}) },
});
ready.app = example.app;
const server = example.app.listen(port, host, () => {
  const lines = [
    `authnz-express example listening on ${baseUrl}`,
    `mutual TLS (client certificates) on ${mtlsBaseUrl}`,
    `development keys and state: ${devDir}`,
    `stores: ${example.stores}`,
    '',
  ];
  for (const [name, curls] of example.curls) {
    lines.push(`# ${name}`);
    lines.push(...curls, '');
  }
  process.stdout.write(lines.join('\n') + '\n');
});

const stop = (): void => {
  server.close();
  tlsServer.close();
  void example.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
