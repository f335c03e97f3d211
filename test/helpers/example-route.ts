/** Mounts one route module of the example app on a loopback server, as `npm run example` would. */
import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteModule } from '../../examples/express-app/context.js';

/** A mounted route module: its printed lines, where it listens, and how to stop it. */
export interface MountedExample {
  readonly lines: string[];
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Mounts `mount` with a fresh dev directory on a free port (the port is known before mounting). */
export async function mountExample(mount: RouteModule, prefix: string): Promise<MountedExample> {
  const devDir = mkdtempSync(join(tmpdir(), prefix));
  const closers: Array<() => Promise<void> | void> = [];
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const app = express();
  const lines = await mount(app, { devDir, baseUrl, onClose: (fn) => closers.push(fn) });
  handler = app;
  return {
    lines,
    baseUrl,
    close: async () => {
      for (const fn of closers.reverse()) await fn();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(devDir, { recursive: true, force: true });
    },
  };
}
