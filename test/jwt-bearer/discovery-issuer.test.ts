/**
 * Discovery that names another issuer is a configuration error, not an outage: 500 problem+json
 * `configuration_error` (no `Retry-After`, which would invite retries of a permanent mistake) and
 * one logged error line; a discovery endpoint that is down is still 503 with `Retry-After`.
 */
import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { authenticate, introspectionScheme, jwtBearerScheme, type Logger } from '../../src/index.js';

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url?.includes('/down/')) {
      res.statusCode = 500;
      res.end('{}');
      return;
    }
    // Every issuer under /wrong/ publishes a document naming another issuer.
    res.end(JSON.stringify({ issuer: `${base}/someone-else`, jwks_uri: `${base}/jwks` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
// Well-formed and from the configured issuer; its signature is never reached.
const token = (iss: string): string =>
  `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({ iss, aud: 'api', sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300 })}.${'A'.repeat(342)}`;

function app(issuer: string, logger: Logger): express.Express {
  const a = express();
  a.get('/', authenticate([jwtBearerScheme({ issuer, audience: 'api', jwks: { logger } })]), (_req, res) => {
    res.json({ ok: true });
  });
  return a;
}

function recorder(): { lines: Array<{ level: string; fields: Record<string, unknown>; message: string | undefined }>; logger: Logger } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string | undefined }> = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message?: string): void => {
      lines.push({ level, fields, message });
    };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('jwtBearerScheme: discovery naming another issuer', () => {
  it('is 500 configuration_error without Retry-After, on every request, and logged once as an error', async () => {
    const issuer = `${base}/wrong/a`;
    const { lines, logger } = recorder();
    const a = app(issuer, logger);
    for (let i = 0; i < 3; i++) {
      const res = await request(a)
        .get('/')
        .set('Authorization', `Bearer ${token(issuer)}`);
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'configuration_error', reason: 'discovery_issuer_mismatch' });
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.headers['www-authenticate']).toBeUndefined();
      // The client learns nothing about the configuration.
      expect(JSON.stringify(res.body)).not.toContain('someone-else');
    }
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({ code: 'discovery_issuer_mismatch' });
    expect(errors[0]?.message).toContain(`${base}/someone-else`);
    expect(errors[0]?.message).toContain(issuer);
  });

  it('control: a discovery endpoint that is down is still 503 with Retry-After', async () => {
    const issuer = `${base}/down/b`;
    const { logger } = recorder();
    const res = await request(app(issuer, logger))
      .get('/')
      .set('Authorization', `Bearer ${token(issuer)}`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'dependency_unavailable', reason: 'discovery_unavailable' });
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
  });
});

describe('introspectionScheme: discovery naming another issuer', () => {
  it('is 500 configuration_error without Retry-After, and logged once as an error', async () => {
    const { lines, logger } = recorder();
    const a = express();
    const scheme = introspectionScheme({
      issuer: `${base}/wrong/c`,
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'x'.repeat(32) },
      logger,
    });
    a.get('/', authenticate([scheme]), (_req, res) => {
      res.json({ ok: true });
    });
    for (let i = 0; i < 2; i++) {
      const res = await request(a).get('/').set('Authorization', 'Bearer opaque-token');
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ code: 'configuration_error', reason: 'discovery_issuer_mismatch' });
      expect(res.headers['retry-after']).toBeUndefined();
    }
    expect(lines.filter((l) => l.level === 'error' && l.fields['code'] === 'discovery_issuer_mismatch')).toHaveLength(1);
  });
});
