/**
 * A variant's server process: builds its app, listens on 127.0.0.1 (free port), tells the parent the
 * port over IPC, and exits cleanly on "stop" (so `--cpu-prof` can write its profile).
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildApp } from './apps.js';

const [variant = 'bare', keysFile = '', poolDir = ''] = process.argv.slice(2);
const { app, built } = await buildApp(variant, keysFile);
const server = app.listen(0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  let poolFile: string | undefined;
  if (built.pool) {
    poolFile = join(poolDir, `pool-server-${variant}-${process.pid}.json`);
    writeFileSync(poolFile, JSON.stringify(built.pool));
  }
  process.send?.({ port, poolFile });
});
server.keepAliveTimeout = 60_000;
process.on('message', (message) => {
  if (message !== 'stop') return;
  server.closeAllConnections();
  server.close(() => {
    void (built.close?.() ?? Promise.resolve()).finally(() => process.exit(0));
  });
});
process.on('disconnect', () => process.exit(0));
