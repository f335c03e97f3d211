/**
 * The OAuth routes of the example app, as a user meets them: the printed shell lines are run with
 * bash and curl against the app listening on loopback (token from the embedded oidc-provider first).
 */
import express from 'express';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mountOAuth } from '../../examples/express-app/routes/oauth.js';

const run = promisify(execFile);

describe('example app: OAuth routes', () => {
  const devDir = mkdtempSync(join(tmpdir(), 'authnz-oauth-example-'));
  const closers: Array<() => Promise<void> | void> = [];
  let server: Server;
  let lines: string[];

  beforeAll(async () => {
    let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const app = express();
    lines = await mountOAuth(app, { devDir, baseUrl, onClose: (fn) => closers.push(fn) });
    handler = app;
  });
  afterAll(async () => {
    for (const fn of closers.reverse()) await fn();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(devDir, { recursive: true, force: true });
  });

  it('the printed curl lines work: JWKS 200, no token 401, token then 200 and 403', async () => {
    // Each curl prints only its status code; comments are dropped.
    const script = lines
      .filter((l) => l.startsWith('curl ') || l.startsWith('TOKEN='))
      .map((l) => l.replace(/\s+#.*$/, '').replace(/^curl -i /, `curl -s -o /dev/null -w '%{http_code}\\n' `))
      .join('\n');
    const { stdout } = await run('bash', ['-c', `set -e\n${script}`], { timeout: 20_000 });
    expect(stdout.trim().split('\n')).toEqual(['200', '401', '200', '403']);
  });

  it('the printed CLI lines work: a token, and the same JWK Set as the route', async () => {
    const cli = lines.filter((l) => l.includes('src/cli/main.ts')).map((l) => l.replace(/\s+#.*$/, ''));
    expect(cli).toHaveLength(2);
    const token = await run('bash', ['-c', cli[0] as string], { timeout: 30_000 });
    expect(token.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const jwks = await run('bash', ['-c', cli[1] as string], { timeout: 30_000 });
    const served = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/jwks.json`)).json();
    expect(JSON.parse(jwks.stdout)).toEqual(served);
  });
});
