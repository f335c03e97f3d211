/**
 * The example API: one route per guard and per scheme, on embedded defaults (development keys made
 * on first start under `.dev/`, local KMS, in-memory stores). `createExampleApp` is also used by tests.
 */
import express, { type Express } from 'express';
import { mkdirSync } from 'node:fs';
import type { ExampleContext } from './context.js';
import { routeModules } from './routes/index.js';
import { openExampleStores, type ExampleStoreOptions } from './stores.js';
import { observe, sinkLogger, stdoutSink, type LogSink } from './observability.js';

export interface ExampleApp {
  readonly app: Express;
  /** Which stores are in use (`memory`, `redis+postgres`, …). */
  readonly stores: string;
  /** Curl lines per scheme, for the start-up banner. */
  readonly curls: ReadonlyArray<[string, string[]]>;
  close(): Promise<void>;
}

/** `log` receives the structured lines (default: JSON lines on stdout). */
export async function createExampleApp(options: {
  devDir: string;
  baseUrl: string;
  /** Base URL of the mutual TLS listener, for the printed curl lines. */
  mtlsBaseUrl?: string;
  stores?: ExampleStoreOptions;
  log?: LogSink;
}): Promise<ExampleApp> {
  mkdirSync(options.devDir, { recursive: true, mode: 0o700 });
  const stores = await openExampleStores(options.stores);
  const closers: Array<() => Promise<void> | void> = [() => stores.close()];
  const sink = options.log ?? stdoutSink;
  const ctx: ExampleContext = {
    devDir: options.devDir,
    baseUrl: options.baseUrl,
    ...(options.mtlsBaseUrl === undefined ? {} : { mtlsBaseUrl: options.mtlsBaseUrl }),
    stores,
    logger: sinkLogger(sink),
    onClose: (fn) => closers.push(fn),
  };
  const app = express();
  app.disable('x-powered-by');
  // Log lines and /metrics, fed from the diagnostics channels (docs/observability.md).
  closers.push(observe(app, sink));
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  const curls: Array<[string, string[]]> = [];
  for (const [name, mount] of routeModules) curls.push([name, await mount(app, ctx)]);
  return {
    app,
    stores: stores.description,
    curls,
    async close() {
      for (const fn of closers.reverse()) await fn();
    },
  };
}
