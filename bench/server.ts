/**
 * A variant's server process: builds its app, listens on 127.0.0.1 (free port), tells the parent the
 * port over IPC, answers "snapshot" with its CPU time and memory, and exits cleanly on "stop" (so
 * `--cpu-prof` can write its profile).
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildApp, upstreamCalls } from './apps.js';

const [variant = 'bare', keysFile = '', poolDir = ''] = process.argv.slice(2);
const { app, built } = await buildApp(variant, keysFile);
const server = app.listen(built.port ?? 0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  const write = (kind: string, pool: typeof built.pool): string | undefined => {
    if (!pool) return undefined;
    const file = join(poolDir, `pool-server-${variant}-${kind}-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(pool));
    return file;
  };
  process.send?.({ port, poolFile: write('measure', built.pool), warmupPoolFile: write('warmup', built.warmupPool) });
});
server.keepAliveTimeout = 60_000;
/** What the orchestrator reads between phases: the process's CPU time so far and its memory. */
export interface ServerSnapshot {
  readonly kind: 'snapshot';
  /** User + system CPU time of this process since it started, µs. */
  readonly cpu: number;
  readonly rss: number;
  /** Heap in use right after a full collection (when the process runs with --expose-gc). */
  readonly heapUsed: number;
  /** Upstream calls so far (kmsauth: KMS Decrypts), see `upstreamCalls`. */
  readonly upstream: number;
}
process.on('message', (message) => {
  if (message === 'snapshot') {
    // A full collection first, so heapUsed is what is live; the next window starts after it.
    (globalThis as { gc?: () => void }).gc?.();
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    process.send?.({
      kind: 'snapshot',
      cpu: cpu.user + cpu.system,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      upstream: upstreamCalls(),
    } satisfies ServerSnapshot);
    return;
  }
  if (message !== 'stop') return;
  server.closeAllConnections();
  server.close(() => {
    void (built.close?.() ?? Promise.resolve()).finally(() => process.exit(0));
  });
});
process.on('disconnect', () => process.exit(0));
