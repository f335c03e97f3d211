/**
 * `authnz:dependency` events and the dependency log lines name the endpoint without what may be a
 * secret in its URL: userinfo (`user:password@`), the query string and the fragment.
 */
import diagnostics from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CHANNELS, RemoteJwks, type DependencyEvent, type Logger } from '../src/index.js';
import { introspectionScheme } from '../src/schemes/introspection/scheme.js';
import { Warnings } from '../src/lib/warnings.js';

const SECRETS = ['s3cr3t-query', 'pa55word', 'fr4gment', 'alice'];

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url?.startsWith('/ok') ? 200 : 500;
    res.setHeader('content-type', 'application/json');
    // One usable key and one that cannot be read, so a `jwks_entry_skipped` warning is written too.
    res.end(JSON.stringify({ keys: [{ kty: 'EC', kid: 'broken', crv: 'P-256', x: 'AA', y: 'AA' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function capture(): { events: DependencyEvent[]; lines: unknown[]; logger: Logger; stop(): void } {
  const events: DependencyEvent[] = [];
  const lines: unknown[] = [];
  const onEvent = (message: unknown): void => {
    events.push(message as DependencyEvent);
  };
  diagnostics.subscribe(CHANNELS.dependency, onEvent);
  const write = (fields: Record<string, unknown>, message?: string): void => {
    lines.push({ fields, message });
  };
  return {
    events,
    lines,
    logger: { debug: write, info: write, warn: write, error: write },
    stop: () => diagnostics.unsubscribe(CHANNELS.dependency, onEvent),
  };
}

const expectNoSecret = (value: unknown): void => {
  const text = JSON.stringify(value);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

describe('dependency events and log lines redact URLs', () => {
  it('RemoteJwks: the event URL and the log lines keep scheme, host and path, and drop the query and fragment', async () => {
    const seen = capture();
    try {
      const down = new RemoteJwks(`${base}/jwks?api_key=s3cr3t-query#fr4gment`, { logger: seen.logger });
      await expect(down.getKey('k')).rejects.toMatchObject({ code: 'dependency_unavailable' });
      const up = new RemoteJwks(`${base}/ok/jwks?api_key=s3cr3t-query`, { logger: seen.logger });
      expect(await up.getKey('k')).toBeUndefined();
    } finally {
      seen.stop();
    }
    expect(seen.events.map((e) => [e.outcome, e.url])).toEqual([
      ['error', `${base}/jwks?redacted`],
      ['ok', `${base}/ok/jwks?redacted`],
    ]);
    expect(seen.lines.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(seen.lines)).toContain(`${base}/jwks?redacted`);
    expectNoSecret(seen.events);
    expectNoSecret(seen.lines);
  });

  it('RemoteJwks with userinfo in the URL: the event and the log line name the host without it', async () => {
    const seen = capture();
    try {
      const jwks = new RemoteJwks(`http://alice:pa55word@${base.slice('http://'.length)}/jwks`, { logger: seen.logger });
      await expect(jwks.getKey('k')).rejects.toMatchObject({ code: 'dependency_unavailable' });
    } finally {
      seen.stop();
    }
    expect(seen.events.map((e) => e.url)).toEqual([`${base}/jwks`]);
    expect(seen.lines).toHaveLength(1);
    expectNoSecret(seen.events);
    expectNoSecret(seen.lines);
  });

  it('introspection: an endpoint with a query string is redacted in the event and the log line', async () => {
    const seen = capture();
    try {
      const scheme = introspectionScheme({
        endpoint: `${base}/introspect?api_key=s3cr3t-query`,
        issuer: base,
        clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'x'.repeat(32) },
        logger: seen.logger,
      });
      await expect(scheme.authenticate({ headers: { authorization: 'Bearer opaque-token' } })).rejects.toMatchObject({
        code: 'dependency_unavailable',
      });
    } finally {
      seen.stop();
    }
    expect(seen.events.map((e) => e.url)).toEqual([`${base}/introspect?redacted`]);
    expect(seen.lines.length).toBeGreaterThanOrEqual(1);
    expectNoSecret(seen.events);
    expectNoSecret(seen.lines);
  });
});

describe('configuration errors redact URLs in their fields too', () => {
  it('an issuer URL with userinfo and a query reaches the logger without them', () => {
    const lines: Array<Record<string, unknown>> = [];
    const at = (fields: Record<string, unknown>): void => void lines.push(fields);
    const warnings = new Warnings('test()', { logger: { debug: at, info: at, warn: at, error: at } });
    warnings.configurationError('discovery_issuer_mismatch', 'mismatch', { issuer: 'https://user:pw@idp.example/t?secret=1' });
    expect(JSON.stringify(lines)).not.toMatch(/pw|secret=1/);
    expect(lines[0]?.['issuer']).toBe('https://idp.example/t?redacted');
  });
});
