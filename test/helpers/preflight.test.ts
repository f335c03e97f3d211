/**
 * On a machine without Redis, PostgreSQL or their binaries, the tiers that need them stop at once
 * with one line naming what to install, and exit non-zero: the preflight on its own and a whole
 * `jest` run (all tiers), with the services made unreachable through the environment (dead ports,
 * a PATH without redis-server, redis-cli, initdb and postgres). CI=true changes nothing: no skip.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './redis-server.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const HIDDEN = new Set(['redis-server', 'redis-cli', 'redis-sentinel', 'initdb', 'postgres', 'pg_ctl', 'postmaster']);
/** Stopping must take at most this long (the bound users are promised). */
const BOUND_MS = 30_000;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let bin = '';
let env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  // This PATH has everything the machine's PATH has except the service binaries.
  bin = mkdtempSync(join(tmpdir(), 'authnz-preflight-bin-'));
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (HIDDEN.has(name)) continue;
      try {
        symlinkSync(join(dir, name), join(bin, name));
      } catch {
        // an earlier PATH entry already provides it
      }
    }
  }
  const dead = await freePort();
  env = {
    ...process.env,
    PATH: bin,
    NODE_OPTIONS: '',
    REDIS_URL: `redis://127.0.0.1:${dead}`,
    DATABASE_URL: `postgres://postgres@127.0.0.1:${dead}/test`,
    AUTHNZ_TEST_REDIS_URL: '',
    AUTHNZ_TEST_DATABASE_URL: '',
    TEST_TIER: '',
  };
});
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function run(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...env, ...extra }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');
const REDIS_BINARIES =
  'npm test (integration tier) needs redis-server and redis-cli on PATH (apt install redis-server | brew install redis); without it run npm run test:unit';

describe('preflight without the service binaries and with dead ports', () => {
  it('integration: one line naming redis-server and redis-cli, exit 1, nothing on stdout', async () => {
    const out = await run(['--import', 'tsx', 'test/helpers/preflight.ts', 'integration']);
    expect(out.code).toBe(1);
    expect(lines(out.stderr)).toEqual([REDIS_BINARIES]);
    expect(out.stdout).toBe('');
    expect(out.ms).toBeLessThan(BOUND_MS);
  });

  it('artifact: one line saying nothing answers at the Redis URL and redis-server is not there to start one', async () => {
    const out = await run(['--import', 'tsx', 'test/helpers/preflight.ts', 'artifact']);
    expect(out.code).toBe(1);
    expect(lines(out.stderr)).toEqual([
      `npm test (artifact tier) needs Redis: nothing answers PING at ${env['REDIS_URL'] as string} and redis-server is not on PATH to start one (apt install redis-server | brew install redis); without it run npm run test:unit`,
    ]);
    expect(out.ms).toBeLessThan(BOUND_MS);
  });

  it('under CI=true the same line and exit code: a missing service is never a skip', async () => {
    const out = await run(['--import', 'tsx', 'test/helpers/preflight.ts', 'integration'], { CI: 'true' });
    expect(out.code).toBe(1);
    expect(lines(out.stderr)).toEqual([REDIS_BINARIES]);
  });

  it('a whole jest run (every tier) stops in its global setup with that one line and exits 1, no hang', async () => {
    for (const ci of ['', 'true']) {
      const out = await run(['--experimental-vm-modules', 'node_modules/jest/bin/jest.js'], { CI: ci });
      expect(out.code).toBe(1);
      expect(lines(out.stderr)).toEqual([REDIS_BINARIES]);
      expect(out.ms).toBeLessThan(BOUND_MS);
    }
  });
});
