/**
 * The example app as a newcomer meets it: built on embedded defaults in a fresh dev directory, and
 * every printed curl line that states its expected status gets that status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createExampleApp, type ExampleApp } from '../../examples/express-app/app.js';
import { checkCommandLine } from '../../src/cli/main.js';
import { authnzInvocations } from '../cli/command-lines.js';

interface CurlLine {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  status: number;
  line: string;
}

function parseCurl(line: string, baseUrl: string): CurlLine | undefined {
  const expected = /#\s*(\d{3})\b/.exec(line);
  if (!line.startsWith('curl ') || !expected || line.includes('$(')) return undefined;
  const command = line.slice(0, expected.index);
  const method = /-X\s+([A-Z]+)/.exec(command)?.[1] ?? 'GET';
  const url = new RegExp(`${baseUrl.replace(/[.]/g, '\\.')}(\\S*)`).exec(command)?.[1];
  if (url === undefined) return undefined;
  const headers = [...command.matchAll(/-H\s+'([^:']+):\s*([^']*)'/g)].map((m) => [m[1] as string, m[2] as string] as [string, string]);
  return { method, path: url || '/', headers, status: Number(expected[1]), line };
}

function errorOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('example app', () => {
  const devDir = mkdtempSync(join(tmpdir(), 'authnz-example-'));
  const baseUrl = 'http://127.0.0.1:3000';
  let example: ExampleApp;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    example = await createExampleApp({ devDir, baseUrl, log: (line) => void lines.push(line) });
  });
  afterAll(async () => {
    await example?.close();
    rmSync(devDir, { recursive: true, force: true });
  });

  it('answers its health route', async () => {
    expect((await request(example.app).get('/health')).body).toEqual({ ok: true });
  });

  it('prints curl lines for every scheme', () => {
    expect(example.curls.length).toBeGreaterThanOrEqual(1);
    for (const [, lines] of example.curls) expect(lines.length).toBeGreaterThan(0);
  });

  it('every curl line with an expected status gets it', async () => {
    const lines = example.curls
      .flatMap(([, l]) => l)
      .map((l) => parseCurl(l, baseUrl))
      .filter((c): c is CurlLine => c !== undefined);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const c of lines) {
      let req = request(example.app)[c.method.toLowerCase() as 'get'](c.path);
      for (const [name, value] of c.headers) req = req.set(name, value);
      const res = await req;
      expect({ line: c.line, status: res.status }).toEqual({ line: c.line, status: c.status });
    }
  });

  it("every printed authnz command line uses the CLI's current commands and options", () => {
    const invocations = example.curls.flatMap(([, l]) => l).flatMap((line) => authnzInvocations(line).map((argv) => ({ line, argv })));
    expect(invocations.length).toBeGreaterThanOrEqual(4);
    for (const { line, argv } of invocations)
      expect({ line, error: errorOf(() => checkCommandLine(argv)) }).toEqual({ line, error: undefined });
  });

  it('rejects with problem+json and a challenge on the APIJwt routes', async () => {
    const res = await request(example.app).get('/apijwt/orders');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Bearer realm="example"');
  });

  it('logs one structured line per outcome (never the credential) and counts it in /metrics', async () => {
    lines.length = 0;
    const bad = 'Bearer not-a-jwt-credential';
    expect((await request(example.app).get('/apijwt/orders').set('Authorization', bad)).status).toBe(401);
    const line = lines.find((l) => l['event'] === 'authenticate');
    expect(line).toMatchObject({
      level: 'info',
      event: 'authenticate',
      outcome: 'failure',
      status: 401,
      code: 'token_invalid',
      reason: 'malformed',
    });
    expect(typeof line?.['durationMs']).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('not-a-jwt-credential');
    const metrics = await request(example.app).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/authnz_authentications_total\{scheme="apijwt",outcome="failure",code="token_invalid"\} [1-9]/);
    expect(metrics.text).toMatch(/authnz_authentication_duration_seconds_count\{scheme="apijwt",outcome="failure"\} [1-9]/);
  });
});
