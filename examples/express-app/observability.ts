/**
 * The example's observability, fed only from authnz-express's diagnostics channels: one structured
 * log line (JSON) per authentication outcome, dependency call and guard refusal, and Prometheus
 * metrics at `/metrics` (prom-client counters and a latency histogram). See docs/observability.md.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Express } from 'express';
import { Counter, Histogram, Registry } from 'prom-client';
import { CHANNELS, type AuthenticateEvent, type DependencyEvent, type GuardEvent, type Logger } from '../../src/index.js';

/** Where structured lines go (default: one JSON object per line on stdout). */
export type LogSink = (line: Record<string, unknown>) => void;

/** A pino-shaped logger over a sink, for the library's `logger` options (configuration warnings, dependency failures). */
export function sinkLogger(sink: LogSink): Logger {
  const at = (level: string) => (fields: Record<string, unknown>, message?: string) => sink({ level, ...fields, msg: message });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
};

/**
 * Subscribes to the three channels and mounts `/metrics`. Returns the unsubscribe function: the
 * channels are process-wide, so an app that is closed must stop listening.
 */
export function observe(app: Express, sink: LogSink): () => void {
  const registry = new Registry();
  const outcomes = new Counter({
    name: 'authnz_authentications_total',
    help: 'authenticate() outcomes',
    labelNames: ['scheme', 'outcome', 'code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'authnz_authentication_duration_seconds',
    help: 'authenticate() latency to the outcome',
    labelNames: ['scheme', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const dependencies = new Counter({
    name: 'authnz_dependency_calls_total',
    help: 'Calls to Redis, KMS, JWKS, introspection, authnzerver',
    labelNames: ['target', 'outcome'],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'authnz_guard_refusals_total',
    help: 'Guard refusals (403, or 401 without a principal)',
    labelNames: ['guard', 'code'],
    registers: [registry],
  });

  const onAuthenticate = (message: unknown): void => {
    const e = message as AuthenticateEvent;
    const scheme = e.scheme ?? 'none';
    outcomes.inc({ scheme, outcome: e.outcome, code: e.code ?? 'ok' });
    latency.observe({ scheme, outcome: e.outcome }, e.durationMs / 1000);
    sink({ level: e.outcome === 'failure' ? 'info' : 'debug', event: 'authenticate', ...e });
  };
  const onDependency = (message: unknown): void => {
    const e = message as DependencyEvent;
    dependencies.inc({ target: e.target, outcome: e.outcome });
    sink({ level: e.outcome === 'error' ? 'warn' : 'debug', event: 'dependency', ...e });
  };
  const onGuard = (message: unknown): void => {
    const e = message as GuardEvent;
    refusals.inc({ guard: e.guard, code: e.code });
    sink({ level: 'info', event: 'guard', ...e });
  };
  diagnostics.subscribe(CHANNELS.authenticate, onAuthenticate);
  diagnostics.subscribe(CHANNELS.dependency, onDependency);
  diagnostics.subscribe(CHANNELS.guard, onGuard);

  app.get('/metrics', (_req, res, next) => {
    registry.metrics().then((text) => {
      res.type(registry.contentType).send(text);
    }, next);
  });

  return () => {
    diagnostics.unsubscribe(CHANNELS.authenticate, onAuthenticate);
    diagnostics.unsubscribe(CHANNELS.dependency, onDependency);
    diagnostics.unsubscribe(CHANNELS.guard, onGuard);
  };
}
