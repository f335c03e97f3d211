/** Starts the example API: `npm run example`. No AWS account and no Redis needed. */
import { resolve } from 'node:path';
import { createExampleApp } from './app.js';

const port = Number(process.env['PORT'] ?? 3000);
const host = process.env['HOST'] ?? '127.0.0.1';
const baseUrl = `http://${host}:${port}`;
const devDir = resolve(process.env['AUTHNZ_DEV_DIR'] ?? '.dev');

// REDIS_URL / DATABASE_URL move the shared state to Redis / PostgreSQL (docs/deployment.md).
const redisUrl = process.env['REDIS_URL'];
const databaseUrl = process.env['DATABASE_URL'];
// Start-up order: the stores are ready first (Redis answers a PING, the API key table exists), then
// the port opens; a dependency that does not come up within 10 s ends the start with an error.
const example = await createExampleApp({
  devDir,
  baseUrl,
  stores: { ...(redisUrl ? { redisUrl } : {}), ...(databaseUrl ? { databaseUrl } : {}) },
});
const server = example.app.listen(port, host, () => {
  const lines = [
    `authnz-express example listening on ${baseUrl}`,
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
  void example.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
