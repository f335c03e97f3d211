/**
 * The benchmark suite works end to end in smoke mode: servers start, load runs, a table and a
 * well-formed JSON come out with measured numbers (throughput, and server CPU per request saturated
 * and at a fixed load), the fixed-rate latency phase runs at one offered load for every row, and the
 * Markdown copy and the SVG chart are written. The numbers themselves are not checked.
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
        [
          '--import',
          'tsx',
          'bench/run.ts',
          '--smoke',
          '--only',
          'apijwt-rs256,passport-jwt,fast-jwt-cache',
          '--out',
          out,
          '--chart',
          extraChart,
        ],
        { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '', BENCH_CACHE_DIR: join(dir, 'cache') }, timeout: 150_000 },
        (error, so, se) => (error ? reject(new Error(`${error.message}\n${se}`)) : resolve(so)),
      );
    });
    expect(stdout).toMatch(/^\| Scenario \| Variant \| req\/s \| p50 ms \| p99 ms \| × bare \|$/m);
    expect(stdout).toMatch(
      /^\| RS256, 1,000 reused tokens \| authnz APIJwt RS256 \+ requireScopes \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$/m,
    );

    expect(stdout).toMatch(/^\| Target \| Value \| Met \|$/m);
    expect(stdout).toMatch(/^\| APIJwt RS256, reused tokens ≥ 1\.1 × fast-jwt with its cache \| [\d.]+ \| (yes|no) \|$/m);
    expect(stdout).toMatch(/^\| Scenario \| Variant \| offered req\/s \| served req\/s \| p50 ms \| p99 ms \| p99 ÷ bare p99 \|$/m);

    type FixedRow = { name: string; offered: number; requestsPerSecond: number; p99: number; valid: boolean };
    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      settings: { smoke: boolean };
      rows: Row[];
      rounds: unknown[];
      targets: { name: string }[];
      fixedRate: { offered: number; rows: FixedRow[]; rounds: unknown[] };
    };
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

    // CPU per request: every row has its server's CPU time per answered request, saturated and at
    // the fixed load (a quarter of the first bare round's req/s), and the floor table is printed.
    expect(stdout).toMatch(
      /^\| Scenario \| Variant \| floor µs \| saturated µs\/req \| saturated × bare \| fixed-load µs\/req \| fixed-load × bare \| overhead µs \| beyond crypto µs \| ⚑ \|$/m,
    );
    expect(stdout).toMatch(
      /^\| RS256, 1,000 reused tokens \| authnz APIJwt RS256 \+ requireScopes \| 0\.0 \| [\d.]+ \| [\d.]+ \[[\d.]+–[\d.]+\] \| [\d.]+ \| [\d.]+ \[[\d.]+–[\d.]+\] \| -?[\d.]+ \| -?[\d.]+ \| (⚑ [a-z, ]+)? ?\|$/m,
    );
    expect(stdout).toMatch(
      /^\| APIJwt RS256, reused tokens ≤ 1\.05 × bare \| 1\.05 \| [\d.]+ \| [\d.]+ \| (every|some|none) \(\d\/1\) \|$/m,
    );
    type Measure = { microseconds: number[]; ratios: number[]; median: number };
    type CpuRow = { name: string; valid: boolean; saturated?: Measure; fixed?: Measure };
    const cpu = (
      json as unknown as { cpu: { offered: number; floors: Record<string, number>; rows: CpuRow[]; targets: { name: string }[] } }
    ).cpu;
    expect(cpu.rows.map((r) => r.name)).toEqual(['bare', 'apijwt-rs256', 'passport-jwt', 'fast-jwt-cache']);
    // A quarter of what the first bare round served saturated.
    expect(cpu.offered).toBeGreaterThan(0);
    expect(cpu.offered).toBe(Math.max(1, Math.round(0.25 * (json.rounds[0] as { requestsPerSecond: number }).requestsPerSecond)));
    for (const op of ['rsa2048-verify', 'ed25519-verify', 'es256-verify', 'hmac-sha256', 'sha256', 'nonce-memory'])
      expect(cpu.floors[op]).toBeGreaterThan(0);
    for (const row of cpu.rows) {
      expect(row.valid).toBe(true);
      // bare, A, bare, B, bare, C, bare: four bare rounds, one of each variant.
      expect(row.saturated?.microseconds).toHaveLength(row.name === 'bare' ? 4 : 1);
      expect(row.fixed?.microseconds).toHaveLength(row.name === 'bare' ? 4 : 1);
      expect(row.saturated?.microseconds[0]).toBeGreaterThan(0);
      expect(row.fixed?.microseconds[0]).toBeGreaterThan(0);
    }
    type CpuRound = {
      variant: string;
      cpuPerRequest: number;
      fixed: { offered: number; total: number; cpuPerRequest: number };
      heap: number[];
    };
    for (const round of json.rounds as CpuRound[]) {
      expect(round.cpuPerRequest).toBeGreaterThan(0);
      expect(round.fixed.offered).toBe(cpu.offered);
      expect(round.fixed.total).toBeGreaterThan(0);
      expect(round.heap).toHaveLength(3);
    }
  }, 180_000);
});
