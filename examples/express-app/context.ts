/** What every route module of the example app receives. */
import type { Express } from 'express';
import type { ExampleStores } from './stores.js';
import type { Logger } from '../../src/index.js';

export interface ExampleContext {
  /** Where development keys and state live (outside git): `.dev/` at the repository root by default. */
  readonly devDir: string;
  /** Base URL the app will listen on, for printing curl lines. */
  readonly baseUrl: string;
  /** Base URL of the mutual TLS listener (server.ts), for printing curl lines; default `https://127.0.0.1:3443`. */
  readonly mtlsBaseUrl?: string;
  /** Shared state: Redis / PostgreSQL when configured (./stores.ts); absent: memory (see `storesOf`). */
  readonly stores?: ExampleStores;
  /** The library's logger for configuration warnings and dependency failures (structured lines). */
  readonly logger?: Logger;
  /** Registers cleanup to run on shutdown (stop embedded servers, close clients). */
  onClose(fn: () => Promise<void> | void): void;
}

/** A route module: mounts its routes and returns ready-to-paste curl lines for the banner. */
export type RouteModule = (app: Express, ctx: ExampleContext) => Promise<string[]>;
