/**
 * The benchmark suite works end to end in smoke mode: servers start, load runs, a table and a
 * well-formed JSON come out with measured numbers, the fixed-rate latency phase runs at one offered
 * load for every row, and the Markdown copy and the SVG chart are written. The numbers themselves
 * are not checked.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

  it('runs three variants and bare Express, then the fixed-rate phase, and reports numbers for each', async () => {
    const out = join(dir, 'out.json');
    const extraChart = join(dir, 'copy', 'chart.svg');
    mkdirSync(join(dir, 'copy'));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--smoke', '--only', 'apijwt-rs256,passport-jwt,fast-jwt-cache', '--out', out, '--chart', extraChart],
        { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '', BENCH_CACHE_DIR: join(dir, 'cache') }, timeout: 150_000 },
        (error, so, se) => (error ? reject(new Error(`${error.message}\n${se}`)) : resolve(so)),
      );
    });
    expect(stdout).toMatch(/^\| Scenario \| Variant \| req\/s \| p50 ms \| p99 ms \| × bare \|$/m);
    expect(stdout).toMatch(/^\| RS256, 1,000 reused tokens \| authnz APIJwt RS256 \+ requireScopes \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$/m);

    expect(stdout).toMatch(/^\| Target \| Value \| Met \|$/m);
    expect(stdout).toMatch(/^\| APIJwt RS256, reused tokens ≥ 1\.1 × fast-jwt with its cache \| [\d.]+ \| (yes|no) \|$/m);
    expect(stdout).toMatch(/^\| Scenario \| Variant \| offered req\/s \| served req\/s \| p50 ms \| p99 ms \| p99 ÷ bare p99 \|$/m);

    type FixedRow = { name: string; offered: number; requestsPerSecond: number; p99: number; valid: boolean };
    const json = JSON.parse(readFileSync(out, 'utf8')) as { settings: { smoke: boolean }; rows: Row[]; rounds: unknown[]; targets: { name: string }[]; fixedRate: { offered: number; rows: FixedRow[]; rounds: unknown[] } };
    expect(json.settings.smoke).toBe(true);
    expect(json.rows.map((r) => r.name)).toEqual(['bare', 'apijwt-rs256', 'passport-jwt', 'fast-jwt-cache']);
    // bare, A, bare, B, bare, C, bare
    expect(json.rounds).toHaveLength(7);
    // Fixed rate: bare, A, B, C, bare, at one offered load below the smoke cap of 400 req/s.
    expect(json.fixedRate.rounds).toHaveLength(5);
    expect(json.fixedRate.rows.map((r) => r.name)).toEqual(['bare', 'apijwt-rs256', 'passport-jwt', 'fast-jwt-cache']);
    expect(json.fixedRate.offered).toBeGreaterThan(0);
    expect(json.fixedRate.offered).toBeLessThanOrEqual(400);
    for (const row of json.fixedRate.rows) {
      expect(row.valid).toBe(true);
      expect(row.offered).toBe(json.fixedRate.offered);
      expect(row.requestsPerSecond).toBeGreaterThan(0);
      expect(row.p99).toBeGreaterThan(0);
    }
    expect(readFileSync(join(dir, 'out.md'), 'utf8')).toContain('| Target | Value | Met |');
    const chart = readFileSync(join(dir, 'chart.svg'), 'utf8');
    expect(chart).toMatch(/^<svg /);
    expect(chart.match(/<rect class="bar"/g)).toHaveLength(3);
    expect(existsSync(extraChart)).toBe(true);
    for (const row of json.rows) {
      expect(row.valid).toBe(true);
      expect(row.rounds).toBeGreaterThan(0);
      expect(row.requestsPerSecond).toBeGreaterThan(0);
      expect(row.p99).toBeGreaterThan(0);
      expect(row.ratio).toBeGreaterThan(0);
    }
    expect(json.targets.length).toBeGreaterThan(0);
  }, 180_000);
});
