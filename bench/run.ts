/**
 * `npm run bench`: each variant runs as its own server process on 127.0.0.1; one load process drives
 * it with autocannon for a bounded time; rounds are interleaved (bare, A, bare, B, …, bare) and every
 * ratio is against the mean of the two bare rounds around it, from the same run.
 *
 * Flags (env in brackets): --duration s [BENCH_DURATION] (default 5), --warmup s (2), --connections n
 * [BENCH_CONNECTIONS] (64), --rounds n [BENCH_ROUNDS] (1), --only a,b (variant names), --out file
 * (default bench/results/latest.json), --profile name (server of that variant runs with --cpu-prof),
 * --rate n (cap on requests per second), --smoke (about two seconds per variant at 400 req/s, small
 * token pools), --list.
 *
 * Fixed-rate latency phase (on by default; --no-fixed-rate turns it off, --fixed-rate turns it back
 * on): after the throughput rounds, bare and every selected variant of the groups in
 * FIXED_RATE_GROUPS are driven at the same offered load, --fixed-rate-share (0.7) × bare's measured (or --fixed-rate-rps N)
 * throughput (autocannon `overallRate`), and their p50/p99 are reported.
 *
 * Outputs: the JSON (--out), a Markdown copy of the printed tables beside it (same name, `.md`), and an
 * SVG chart of the ratios beside it (`chart.svg`); --chart path writes the chart there too (repeatable).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleLibrary } from './bundle.js';
import { prepareFixtures, type FixturePaths } from './fixtures.js';
import type { LoadJob, LoadResult } from './load.js';
import { BARE, CPU_TARGETS, FIXED_RATE_GROUPS, FLOORS, TARGETS, VARIANTS, type Variant } from './variants.js';
import {
  formatCpu,
  formatFixedRate,
  formatTable,
  summarise,
  summariseCpu,
  summariseFixedRate,
  type FixedRate,
  type RoundCpu,
  type RoundResult,
} from './report.js';
import { FLOOR_NONCE_STORE_OPTIONS, floorOf, measureFloors, medianFloors, type Floors } from './floor.js';
import type { ServerSnapshot } from './server.js';
import { renderChart } from './chart.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
// Under node_modules (its imports resolve from there; linters skip it); per run, so that concurrent
// runs (a smoke test beside a full run) do not overwrite each other's bundle.
const LIB_DIR = join(HERE, '..', 'node_modules', '.cache', `authnz-bench-lib-${process.pid}`);

interface Settings {
  duration: number;
  warmup: number;
  connections: number;
  rounds: number;
  only: string[] | undefined;
  out: string;
  profile: string | undefined;
  smoke: boolean;
  list: boolean;
  /** Requests per second cap for the load (0: as fast as possible). */
  rate: number;
  /** Run the fixed-rate latency phase. */
  fixedRate: boolean;
  /** Offered load of that phase as a share of bare's throughput. */
  fixedRateShare: number;
  /** Offered load of that phase in req/s, overriding the share (0: use the share), so two runs (before/after) offer the same load. */
  fixedRateRps: number;
  /** Extra paths the SVG chart is written to. */
  charts: string[];
  /** Each round's server also runs a window at a fixed offered load (CPU per request below saturation). */
  cpuLoad: boolean;
  /** That load as a share of the first bare round's saturated req/s. */
  cpuLoadShare: number;
  /** That load in req/s, overriding the share (0: use the share), so before/after runs offer the same load. */
  cpuLoadRps: number;
}

function parseArgs(argv: readonly string[]): Settings {
  const env = process.env;
  const s: Settings = {
    duration: Number(env['BENCH_DURATION'] ?? 5),
    warmup: 2,
    connections: Number(env['BENCH_CONNECTIONS'] ?? 64),
    rounds: Number(env['BENCH_ROUNDS'] ?? 1),
    only: undefined,
    out: join(HERE, 'results', 'latest.json'),
    profile: undefined,
    smoke: false,
    list: false,
    rate: 0,
    fixedRate: true,
    fixedRateShare: 0.7,
    fixedRateRps: 0,
    charts: [],
    cpuLoad: true,
    cpuLoadShare: 0.25,
    cpuLoadRps: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--smoke') s.smoke = true;
    else if (arg === '--list') s.list = true;
    else if (arg === '--duration') s.duration = Number(value());
    else if (arg === '--warmup') s.warmup = Number(value());
    else if (arg === '--connections') s.connections = Number(value());
    else if (arg === '--rounds') s.rounds = Number(value());
    else if (arg === '--only') s.only = value().split(',');
    else if (arg === '--out') s.out = value();
    else if (arg === '--profile') s.profile = value();
    else if (arg === '--rate') s.rate = Number(value());
    else if (arg === '--fixed-rate') s.fixedRate = true;
    else if (arg === '--no-fixed-rate') s.fixedRate = false;
    else if (arg === '--fixed-rate-share') s.fixedRateShare = Number(value());
    else if (arg === '--fixed-rate-rps') s.fixedRateRps = Number(value());
    else if (arg === '--chart') s.charts.push(value());
    else if (arg === '--no-cpu-load') s.cpuLoad = false;
    else if (arg === '--cpu-load-share') s.cpuLoadShare = Number(value());
    else if (arg === '--cpu-load-rps') s.cpuLoadRps = Number(value());
    else throw new Error(`unknown flag ${arg}`);
  }
  if (s.smoke) {
    s.duration = Math.min(s.duration, 1.5);
    s.warmup = 0.5;
    s.connections = Math.min(s.connections, 16);
    // A smoke run checks the machinery, not the speed: a capped rate leaves CPU to other test suites.
    if (s.rate === 0) s.rate = 400;
  }
  if (!(s.fixedRateShare > 0 && s.fixedRateShare <= 1)) throw new Error('--fixed-rate-share must be in (0, 1]');
  if (!(s.cpuLoadShare > 0 && s.cpuLoadShare < 1)) throw new Error('--cpu-load-share must be in (0, 1)');
  if (!(Number.isInteger(s.cpuLoadRps) && s.cpuLoadRps >= 0))
    throw new Error('--cpu-load-rps must be a whole number of requests per second');
  if (!(Number.isInteger(s.fixedRateRps) && s.fixedRateRps >= 0))
    throw new Error('--fixed-rate-rps must be a whole number of requests per second');
  for (const [k, v] of Object.entries({ duration: s.duration, connections: s.connections, rounds: s.rounds })) {
    if (!(v > 0)) throw new Error(`--${k} must be positive`);
  }
  return s;
}

function startServer(
  variant: Variant,
  fixtures: FixturePaths,
  profile: boolean,
  settings: Settings,
): Promise<{ child: ChildProcess; port: number; poolFile?: string; warmupPoolFile?: string }> {
  // --expose-gc: the server collects before each snapshot, so the heap it reports is what is live.
  const execArgv = [
    '--import',
    'tsx',
    '--expose-gc',
    ...(profile ? ['--cpu-prof', '--cpu-prof-dir', join(HERE, 'results', 'profiles')] : []),
  ];
  const child = fork(join(HERE, 'server.ts'), [variant.name, fixtures.keys, fixtures.dir], {
    execArgv,
    env: {
      ...process.env,
      BENCH_LIB_DIR: LIB_DIR,
      BENCH_DURATION: String(settings.duration),
      BENCH_WARMUP: String(settings.warmup),
      // The AWS SDK's Node-version notice would interleave with the progress lines.
      NODE_NO_WARNINGS: '1',
      // Server-made pools need one entry per request the load can send (more than 15,000 req/s is not expected here).
      BENCH_POOL_RATE: String(settings.rate > 0 ? settings.rate * 2 : 15_000),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${variant.name}: server did not start within 180 s`));
    }, 180_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve({ child, ...(m as { port: number; poolFile?: string; warmupPoolFile?: string }) });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${variant.name}: server exited with ${code} before listening`));
    });
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send('stop');
  });
}

function runLoad(load: ChildProcess, job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve) => {
    load.once('message', (m) => resolve(m as LoadResult));
    load.send(job);
  });
}

/** The server's CPU time (µs) and memory, read over IPC between windows. */
function snapshot(child: ChildProcess): Promise<ServerSnapshot> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if ((m as { kind?: string }).kind !== 'snapshot') return;
      child.off('message', on);
      resolve(m as ServerSnapshot);
    };
    child.on('message', on);
    child.send('snapshot');
  });
}

/**
 * One server: warm-up, then the saturated window, then (when `cpuRps` gives a rate) a window at that
 * fixed offered load, which continues in the pool where the first stopped. The server's CPU time is
 * read before and after each window; `cpuRps` is asked after the saturated window, so the first bare
 * round can set it from its own throughput.
 */
async function round(
  variant: Variant,
  index: number,
  settings: Settings,
  fixtures: FixturePaths,
  load: ChildProcess,
  cpuRps: (saturated: LoadResult) => number = () => 0,
): Promise<RoundResult> {
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    server = await startServer(variant, fixtures, settings.profile === variant.name, settings);
    const poolFile = variant.pool === 'server' ? server.poolFile : fixtures.pools[variant.pool];
    const warmupPoolFile =
      variant.pool === 'server' ? (server.warmupPoolFile ?? poolFile) : variant.warmupPool ? fixtures.pools[variant.warmupPool] : poolFile;
    if (poolFile === undefined || warmupPoolFile === undefined) throw new Error(`${variant.name}: no request pool`);
    const job = {
      url: `http://127.0.0.1:${server.port}`,
      poolFile,
      warmupPoolFile,
      duration: settings.duration,
      warmup: 0,
      connections: settings.connections,
      countReuse: variant.fresh === true,
      rate: settings.rate,
    };
    if (settings.warmup > 0) await runLoad(load, { ...job, poolFile: warmupPoolFile, duration: settings.warmup, countReuse: false });
    const before = await snapshot(server.child);
    const saturated = await runLoad(load, { ...job, once: variant.pool === 'server' && !settings.cpuLoad });
    const after = await snapshot(server.child);
    if (after.upstream !== before.upstream)
      console.error(`[bench] ${variant.name}: ${after.upstream - before.upstream} upstream calls in the saturated window`);
    const rps = settings.cpuLoad ? cpuRps(saturated) : 0;
    let fixed: RoundCpu['fixed'];
    let last = after;
    if (rps > 0) {
      const f = await runLoad(load, { ...job, rate: rps, offset: saturated.used, once: variant.pool === 'server' });
      last = await snapshot(server.child);
      if (last.upstream !== after.upstream)
        console.error(`[bench] ${variant.name}: ${last.upstream - after.upstream} upstream calls in the fixed-load window`);
      fixed = {
        offered: rps,
        cpuPerRequest: f.total > 0 ? (last.cpu - after.cpu) / f.total : 0,
        requestsPerSecond: f.requestsPerSecond,
        total: f.total,
        non2xx: f.non2xx,
        errors: f.errors,
        p50: f.p50,
        p99: f.p99,
      };
    }
    return {
      variant: variant.name,
      round: index,
      ...saturated,
      wrapped: saturated.wrapped,
      cpuPerRequest: saturated.total > 0 ? (after.cpu - before.cpu) / saturated.total : 0,
      ...(fixed ? { fixed } : {}),
      heap: [before.heapUsed, after.heapUsed, ...(fixed ? [last.heapUsed] : [])],
      rss: last.rss,
      upstream: [before.upstream, after.upstream, ...(fixed ? [last.upstream] : [])],
    };
  } catch (error) {
    return { variant: variant.name, round: index, error: error instanceof Error ? error.message : String(error) };
  } finally {
    if (server) {
      await stopServer(server.child);
      // Server-made pools are per process (pid in the name): remove them, or the cache directory grows by each round's pool.
      for (const file of [server.poolFile, server.warmupPoolFile]) if (file !== undefined) rmSync(file, { force: true });
    }
  }
}

async function main(): Promise<void> {
  const settings = parseArgs(process.argv.slice(2));
  const variants = settings.only ? VARIANTS.filter((v) => settings.only?.includes(v.name)) : VARIANTS;
  if (settings.list) {
    for (const v of VARIANTS) console.log(`${v.name.padEnd(28)} ${v.group}: ${v.label}`);
    return;
  }
  if (settings.only && variants.length !== settings.only.length) throw new Error(`unknown variant in --only ${settings.only.join(',')}`);
  const log = (line: string): void => console.error(`[bench] ${line}`);
  // Enough distinct tokens for one round of the fastest new-token variant (each round is a new server).
  const newPool = settings.smoke ? 4000 : Math.max(60_000, Math.ceil(settings.duration * 12_000));
  const needed = new Set([BARE, ...variants].flatMap((v) => [v.pool, v.warmupPool ?? v.pool]));
  const fixtures = await prepareFixtures(newPool, needed, log);
  await bundleLibrary(LIB_DIR);
  mkdirSync(join(HERE, 'results', 'profiles'), { recursive: true });
  const load = fork(join(HERE, 'load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

  const rounds: RoundResult[] = [];
  // The fixed load of the CPU windows: given, or a share of the first bare round's saturated req/s.
  let cpuLoadRps = settings.cpuLoadRps;
  const cpuRps = (saturated: LoadResult): number => {
    if (cpuLoadRps === 0) cpuLoadRps = Math.max(1, Math.round(settings.cpuLoadShare * saturated.requestsPerSecond));
    return cpuLoadRps;
  };
  const floorSamples: Floors[] = [];
  const replayStore = new (await import('../src/index.js')).MemoryReplayStore(FLOOR_NONCE_STORE_OPTIONS);
  const floorSample = async (): Promise<void> => {
    floorSamples.push(await measureFloors(replayStore));
  };
  let fixedRate: { phase: FixedRate; rounds: RoundResult[] } | undefined;
  const started = Date.now();
  try {
    await floorSample();
    for (let r = 0; r < settings.rounds; r++) {
      for (const variant of variants) {
        for (const v of [BARE, variant]) {
          const result = await round(v, rounds.length, settings, fixtures, load, cpuRps);
          rounds.push(result);
          log(`${v.name}: ${describe(result)}`);
        }
      }
      await floorSample();
    }
    rounds.push(await round(BARE, rounds.length, settings, fixtures, load, cpuRps));
    if (settings.fixedRate) fixedRate = await fixedRatePhase(variants, rounds, settings, fixtures, load, log);
  } finally {
    load.disconnect();
    rmSync(LIB_DIR, { recursive: true, force: true });
  }
  const summary = summarise(rounds, variants, TARGETS);
  const floors = medianFloors(floorSamples);
  const cpu = summariseCpu(rounds, variants, (v) => (floors ? floorOf(FLOORS[v.name], floors) : 0), CPU_TARGETS);
  const output = {
    date: new Date().toISOString(),
    settings: {
      duration: settings.duration,
      warmup: settings.warmup,
      connections: settings.connections,
      rounds: settings.rounds,
      rate: settings.rate,
      smoke: settings.smoke,
      cpuLoad: settings.cpuLoad,
      cpuLoadShare: settings.cpuLoadShare,
      cpuLoadRps: settings.cpuLoadRps,
      fixedRate: settings.fixedRate,
      fixedRateShare: settings.fixedRateShare,
      fixedRateRps: settings.fixedRateRps,
    },
    elapsedSeconds: Math.round((Date.now() - started) / 1000),
    ...summary,
    cpu: { offered: cpuLoadRps, share: settings.cpuLoadRps > 0 ? 0 : settings.cpuLoadShare, floors, floorSamples, ...cpu },
    rounds,
    ...(fixedRate ? { fixedRate: { ...fixedRate.phase, rounds: fixedRate.rounds } } : {}),
  };
  mkdirSync(dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(output, null, 2)}\n`);
  const tables = [
    formatTable(summary),
    '',
    formatFloors(floors),
    '',
    formatCpu(cpu, settings.cpuLoad ? cpuLoadRps : 0),
    ...(fixedRate ? ['', formatFixedRate(fixedRate.phase)] : []),
  ].join('\n');
  console.log(tables);
  const markdown = settings.out.replace(/\.json$/, '') + '.md';
  writeFileSync(markdown, `# Bench run ${output.date}\n\nSettings: ${JSON.stringify(output.settings)}\n\n${tables}\n`);
  const chart = renderChart(summary.rows, `authnz-express vs peers, ratio to bare Express (${output.date.slice(0, 10)})`);
  for (const file of [join(dirname(settings.out), 'chart.svg'), ...settings.charts]) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, chart);
  }
  log(
    `JSON written to ${settings.out}, tables to ${markdown}, chart to ${[join(dirname(settings.out), 'chart.svg'), ...settings.charts].join(', ')}`,
  );
}

/**
 * The fixed-rate latency phase: bare, each variant of FIXED_RATE_GROUPS among those selected, bare
 * again, all at the same offered load (a share of the mean of the throughput phase's bare rounds).
 */
async function fixedRatePhase(
  variants: readonly Variant[],
  throughput: readonly RoundResult[],
  settings: Settings,
  fixtures: FixturePaths,
  load: ChildProcess,
  log: (line: string) => void,
): Promise<{ phase: FixedRate; rounds: RoundResult[] } | undefined> {
  const chosen = variants.filter((v) => FIXED_RATE_GROUPS.includes(v.group));
  const bare = throughput.filter((r) => r.variant === BARE.name && !('error' in r)) as (RoundResult & LoadResult)[];
  if (chosen.length === 0 || bare.length === 0) return undefined;
  const offered =
    settings.fixedRateRps > 0
      ? settings.fixedRateRps
      : Math.max(1, Math.round((settings.fixedRateShare * bare.reduce((a, r) => a + r.requestsPerSecond, 0)) / bare.length));
  const at = { ...settings, rate: offered };
  const rounds: RoundResult[] = [];
  for (const v of [BARE, ...chosen, BARE]) {
    const result = await round(v, rounds.length, at, fixtures, load);
    rounds.push(result);
    log(
      `fixed rate ${offered} req/s, ${v.name}: ${'error' in result ? `ERROR ${result.error}` : `p50 ${result.p50} ms, p99 ${result.p99} ms`}`,
    );
  }
  return { phase: summariseFixedRate(rounds, chosen, offered, settings.fixedRateRps > 0 ? 0 : settings.fixedRateShare), rounds };
}

/** A progress line for a round. */
function describe(result: RoundResult): string {
  if ('error' in result) return `ERROR ${result.error}`;
  const us = (n: number | undefined): string => (n === undefined ? '–' : `${n.toFixed(1)} µs/req`);
  return `${Math.round(result.requestsPerSecond)} req/s, ${us(result.cpuPerRequest)}${result.fixed ? `; at ${result.fixed.offered} req/s: ${us(result.fixed.cpuPerRequest)}` : ''}`;
}

/** The floors as a one-line table. */
function formatFloors(floors: Floors | undefined): string {
  if (!floors) return 'Floors: not measured';
  const ops = Object.keys(floors) as (keyof Floors)[];
  return [
    'Cryptography floor, CPU µs per operation (in process, median of the samples of this run):',
    '',
    `| ${ops.join(' | ')} |`,
    `|${ops.map(() => '---:').join('|')}|`,
    `| ${ops.map((o) => floors[o].toFixed(2)).join(' | ')} |`,
  ].join('\n');
}

await main();
