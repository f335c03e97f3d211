import express from 'express';
import request from 'supertest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountApiKey } from '../../examples/express-app/routes/apikey.js';

/** Runs a printed curl line through supertest: path and headers as printed. */
async function runCurl(app: express.Express, line: string): Promise<request.Response> {
  const path = /http:\/\/example\.test(\S+)/.exec(line)?.[1] as string;
  let r = request(app).get(path);
  for (const m of line.matchAll(/-H '([^:]+): ([^']+)'/g)) r = r.set(m[1] as string, m[2] as string);
  return r;
}

describe('example app: API key routes', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'authnz-example-apikey-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const mount = async () => {
    const app = express();
    const curls = await mountApiKey(app, { devDir: dir, baseUrl: 'http://example.test', onClose: () => undefined });
    return { app, curls };
  };

  it('the printed curl lines give the statuses they promise, across a restart', async () => {
    const first = await mount();
    expect(statSync(join(dir, 'apikey-dev.json')).mode & 0o777).toBe(0o600);
    const second = await mount(); // a restart: same key, fresh memory store
    expect(second.curls).toEqual(first.curls);
    for (const { app, curls } of [first, second]) {
      const expected = curls.map((line) => Number(/# (\d{3})/.exec(line)?.[1]));
      const got: number[] = [];
      for (const line of curls) got.push((await runCurl(app, line)).status);
      expect(got).toEqual(expected);
    }
  });

  it('the report route is rate limited: 429 with Retry-After after 5 calls', async () => {
    const { app, curls } = await mount();
    const statuses: number[] = [];
    let last: request.Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await runCurl(app, curls[0] as string);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(last?.body.code).toBe('rate_limited');
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
  });
});
