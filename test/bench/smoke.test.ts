/**
 * The benchmark suite works end to end in smoke mode: servers start, load runs, a table and a
 * well-formed JSON come out with measured numbers. The numbers themselves are not checked.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Row {
  name: string;
  valid: boolean;
  rounds: number;
  requestsPerSecond: number;
  p99: number;
  ratio: number;
}

describe('bench smoke', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authnz-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs two variants and bare Express and reports numbers for each', async () => {
    const out = join(dir, 'out.json');
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--smoke', '--only', 'apijwt-rs256,passport-jwt', '--out', out],
        { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '', BENCH_CACHE_DIR: join(dir, 'cache') }, timeout: 90_000 },
        (error, so, se) => (error ? reject(new Error(`${error.message}\n${se}`)) : resolve(so)),
      );
    });
    expect(stdout).toMatch(/^\| Scenario \| Variant \| req\/s \| p50 ms \| p99 ms \| × bare \|$/m);
    expect(stdout).toMatch(/^\| RS256, 1,000 reused tokens \| authnz APIJwt RS256 \+ requireScopes \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$/m);

    const json = JSON.parse(readFileSync(out, 'utf8')) as { settings: { smoke: boolean }; rows: Row[]; rounds: unknown[]; targets: { name: string }[] };
    expect(json.settings.smoke).toBe(true);
    expect(json.rows.map((r) => r.name)).toEqual(['bare', 'apijwt-rs256', 'passport-jwt']);
    // bare, A, bare, B, bare
    expect(json.rounds).toHaveLength(5);
    for (const row of json.rows) {
      expect(row.valid).toBe(true);
      expect(row.rounds).toBeGreaterThan(0);
      expect(row.requestsPerSecond).toBeGreaterThan(0);
      expect(row.p99).toBeGreaterThan(0);
      expect(row.ratio).toBeGreaterThan(0);
    }
    expect(json.targets.length).toBeGreaterThan(0);
  }, 120_000);
});
