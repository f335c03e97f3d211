/** Turns the rounds of a run into per-variant rows, target checks, and a Markdown table. */
import type { LoadResult } from './load.js';
import { BARE, type Target, type Variant } from './variants.js';

/** One round as measured (or why it could not be). */
export type RoundResult = { readonly variant: string; readonly round: number } & ((LoadResult & RoundCpu) | { readonly error: string });

/** One table row: the means over a variant's rounds. */
export interface Row {
  readonly name: string;
  readonly group: string;
  readonly label: string;
  readonly rounds: number;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** Mean over rounds of req/s ÷ the mean of the bare rounds just before and after. */
  readonly ratio: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly wrapped: number;
  /** False when a round failed or a response was not 2xx: the numbers then mean nothing. */
  readonly valid: boolean;
  readonly error?: string;
}

/** A target's outcome. */
export interface TargetResult {
  readonly name: string;
  readonly min: number;
  readonly value: number | null;
  readonly met: boolean | null;
}

/** Rows and targets of a run. */
export interface Summary {
  readonly rows: readonly Row[];
  readonly targets: readonly TargetResult[];
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const measured = (r: RoundResult | undefined): r is RoundResult & LoadResult => r !== undefined && !('error' in r);

/** Aggregates the rounds. */
export function summarise(rounds: readonly RoundResult[], variants: readonly Variant[], targets: readonly Target[]): Summary {
  const rows: Row[] = [];
  for (const variant of [BARE, ...variants]) {
    const own = rounds.map((r, i) => ({ r, i })).filter(({ r }) => r.variant === variant.name);
    const ok = own.filter(({ r }) => measured(r)) as { r: RoundResult & LoadResult; i: number }[];
    const ratios = ok.map(({ r, i }) => {
      if (variant === BARE) return 1;
      const bare = [rounds[i - 1], rounds[i + 1]].filter(measured).map((b) => b.requestsPerSecond);
      return bare.length === 0 ? 0 : r.requestsPerSecond / mean(bare);
    });
    const failed = own.find(({ r }) => 'error' in r)?.r as { error: string } | undefined;
    const sum = (f: (r: LoadResult) => number): number => ok.reduce((a, { r }) => a + f(r), 0);
    const non2xx = sum((r) => r.non2xx);
    const errors = sum((r) => r.errors);
    rows.push({
      name: variant.name,
      group: variant.group,
      label: variant.label,
      rounds: ok.length,
      requestsPerSecond: mean(ok.map(({ r }) => r.requestsPerSecond)),
      p50: mean(ok.map(({ r }) => r.p50)),
      p99: mean(ok.map(({ r }) => r.p99)),
      ratio: mean(ratios),
      non2xx,
      errors,
      wrapped: sum((r) => r.wrapped),
      valid: failed === undefined && ok.length > 0 && non2xx === 0 && errors === 0,
      ...(failed ? { error: failed.error } : {}),
    });
  }
  const byName = new Map(rows.map((r) => [r.name, r]));
  const results = targets.map((t): TargetResult => {
    const a = byName.get(t.variant);
    const b = t.versus === undefined ? undefined : byName.get(t.versus);
    if (!a?.valid || (t.versus !== undefined && !b?.valid)) return { name: t.name, min: t.min, value: null, met: null };
    const value = b ? a.ratio / b.ratio : a.ratio;
    return { name: t.name, min: t.min, value: Math.round(value * 1000) / 1000, met: value >= t.min };
  });
  return { rows, targets: results };
}

const fixed = (n: number, d: number): string => n.toFixed(d);

/** One row of the fixed-rate latency phase: a variant driven at the offered load shared by all rows. */
export interface FixedRateRow {
  readonly name: string;
  readonly group: string;
  readonly label: string;
  /** Requests per second offered (autocannon `overallRate`). */
  readonly offered: number;
  /** Requests per second served; below `offered` when the server could not keep up. */
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** p99 ÷ the mean p99 of the bare rows of the phase. */
  readonly p99VsBare: number;
  readonly valid: boolean;
  readonly error?: string;
}

/** The fixed-rate phase of a run. */
export interface FixedRate {
  /** Share of bare's throughput offered (0 when --fixed-rate-rps gave the load). */
  readonly share: number;
  readonly offered: number;
  readonly rows: readonly FixedRateRow[];
}

/** Rows of the fixed-rate phase from its rounds (bare rounds averaged into one row). */
export function summariseFixedRate(
  rounds: readonly RoundResult[],
  variants: readonly Variant[],
  offered: number,
  share: number,
): FixedRate {
  const rows: FixedRateRow[] = [];
  const bareP99 = mean(
    rounds
      .filter((r) => r.variant === BARE.name)
      .filter(measured)
      .map((r) => r.p99),
  );
  for (const variant of [BARE, ...variants]) {
    const own = rounds.filter((r) => r.variant === variant.name);
    const ok = own.filter(measured);
    const failed = own.find((r) => 'error' in r) as { error: string } | undefined;
    const p99 = mean(ok.map((r) => r.p99));
    rows.push({
      name: variant.name,
      group: variant.group,
      label: variant.label,
      offered,
      requestsPerSecond: mean(ok.map((r) => r.requestsPerSecond)),
      p50: mean(ok.map((r) => r.p50)),
      p99,
      p99VsBare: bareP99 > 0 ? p99 / bareP99 : 0,
      valid: failed === undefined && ok.length > 0 && ok.every((r) => r.non2xx === 0 && r.errors === 0),
      ...(failed ? { error: failed.error } : {}),
    });
  }
  return { share, offered, rows };
}

/** A Markdown table of the fixed-rate phase. */
export function formatFixedRate(phase: FixedRate): string {
  const lines = [
    `Fixed offered load: ${phase.offered} req/s (${phase.share > 0 ? `${Math.round(phase.share * 100)}% of bare's measured throughput` : 'given with --fixed-rate-rps'}), same for every row`,
    '',
    '| Scenario | Variant | offered req/s | served req/s | p50 ms | p99 ms | p99 ÷ bare p99 |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of phase.rows) {
    const note = row.error ? ` (failed: ${row.error})` : !row.valid ? ' (INVALID: non-2xx or errors)' : '';
    lines.push(
      `| ${row.group} | ${row.label}${note} | ${row.offered} | ${Math.round(row.requestsPerSecond)} | ${fixed(row.p50, 1)} | ${fixed(row.p99, 1)} | ${fixed(row.p99VsBare, 2)} |`,
    );
  }
  return lines.join('\n');
}

/** A Markdown table of the rows, then the targets. */
export function formatTable(summary: Summary): string {
  const lines = ['| Scenario | Variant | req/s | p50 ms | p99 ms | × bare |', '|---|---|---:|---:|---:|---:|'];
  for (const row of summary.rows) {
    const note = row.error
      ? ` (failed: ${row.error})`
      : !row.valid
        ? ` (INVALID: ${row.non2xx} non-2xx, ${row.errors} errors)`
        : row.wrapped > 0
          ? ` (${row.wrapped} token reuses)`
          : '';
    lines.push(
      `| ${row.group} | ${row.label}${note} | ${Math.round(row.requestsPerSecond)} | ${fixed(row.p50, 1)} | ${fixed(row.p99, 1)} | ${fixed(row.ratio, 2)} |`,
    );
  }
  if (summary.targets.length > 0) {
    lines.push('', '| Target | Value | Met |', '|---|---:|---|');
    for (const t of summary.targets) {
      lines.push(
        `| ${t.name} | ${t.value === null ? 'not measured' : fixed(t.value, 2)} | ${t.met === null ? '–' : t.met ? 'yes' : 'no'} |`,
      );
    }
  }
  return lines.join('\n');
}

/** The CPU figures of one measured window of a round. */
export interface CpuWindow {
  /** Server CPU time (user + system) per answered request, µs. */
  readonly cpuPerRequest: number;
  readonly requestsPerSecond: number;
  readonly total: number;
  readonly non2xx: number;
  readonly errors: number;
}

/** What a round adds to its load result: CPU per request at saturation and at the fixed load. */
export interface RoundCpu {
  /** Saturated window (the throughput window). */
  readonly cpuPerRequest?: number;
  /** The window at the fixed offered load, when one ran. */
  readonly fixed?: CpuWindow & { readonly offered: number; readonly p50: number; readonly p99: number };
  /** Live heap (after a full collection) at the start of the saturated window, after it, and after the fixed window. */
  readonly heap?: readonly number[];
  /** Resident memory after the last window. */
  readonly rss?: number;
  /**
   * Upstream calls the server made so far (kmsauth: KMS Decrypts) at the start of the saturated
   * window, after it, and after the fixed window: a "cached" row whose count moves was not all hits.
   */
  readonly upstream?: readonly number[];
}

/** One CPU measure of a row over its rounds. */
export interface CpuMeasure {
  /** The variant's own µs per request, per round, in round order. */
  readonly microseconds: readonly number[];
  /** Per round: µs ÷ the mean µs of the bare rounds just before and after (bare: ÷ bare's median). */
  readonly ratios: readonly number[];
  /** Per round: µs − the bare neighbours' mean µs. */
  readonly overheads: readonly number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Median overhead, µs. */
  readonly overhead: number;
  /** The rounds disagree (max − min of the ratios) by more than the row differs from bare (|median − 1|). */
  readonly flagged: boolean;
}

/** A row of the CPU table. */
export interface CpuRow {
  readonly name: string;
  readonly group: string;
  readonly label: string;
  /** µs of cryptography the path cannot avoid (bench/floor.ts), measured in the same run. */
  readonly floor: number;
  readonly saturated?: CpuMeasure;
  readonly fixed?: CpuMeasure;
  /** Median overhead at the fixed load beyond the floor, µs. */
  readonly beyondCrypto: number | null;
  readonly valid: boolean;
}

/**
 * A CPU target, checked at the fixed load in every round: `ratio` is µs ÷ bare ≤ max; `versus` is
 * that ratio ÷ the other variant's ratio in the same round index ≤ max; `floor` is the overhead in µs
 * ÷ the path's floor ≤ max.
 */
export interface CpuTarget {
  readonly name: string;
  readonly variant: string;
  readonly kind: 'ratio' | 'versus' | 'floor';
  readonly versus?: string;
  readonly max: number;
}

/** A CPU target's outcome over the rounds. */
export interface CpuTargetResult {
  readonly name: string;
  readonly max: number;
  /** One value per round pair that could be compared. */
  readonly values: readonly number[];
  readonly median: number | null;
  /** Rounds in which it held, of `values.length`. */
  readonly held: number;
  /** every: held in each round; some: in some; none: in none; null: not measured. */
  readonly verdict: 'every' | 'some' | 'none' | null;
}

/** The CPU part of a run's summary. */
export interface CpuSummary {
  readonly rows: readonly CpuRow[];
  readonly targets: readonly CpuTargetResult[];
}

/** The median of a list (0 when empty). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  if (s.length === 0) return 0;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

type Cpu = RoundResult & LoadResult & RoundCpu;

/** One measure of a row: its µs per round and the ratios to the bare rounds around each. */
function cpuMeasure(
  rounds: readonly RoundResult[],
  own: readonly { r: Cpu; i: number }[],
  isBare: boolean,
  pick: (r: Cpu) => number | undefined,
): CpuMeasure | undefined {
  const micro: number[] = [];
  const ratios: number[] = [];
  const overheads: number[] = [];
  const bareAll = isBare ? median(own.map(({ r }) => pick(r)).filter((x): x is number => x !== undefined && x > 0)) : 0;
  for (const { r, i } of own) {
    const us = pick(r);
    if (us === undefined || !(us > 0)) continue;
    const neighbours = isBare
      ? [bareAll]
      : [rounds[i - 1], rounds[i + 1]]
          .filter(measured)
          .map((b) => pick(b as Cpu))
          .filter((x): x is number => x !== undefined && x > 0);
    if (neighbours.length === 0) continue;
    const base = mean(neighbours);
    micro.push(us);
    ratios.push(us / base);
    overheads.push(us - base);
  }
  if (micro.length === 0) return undefined;
  const med = median(ratios);
  const min = Math.min(...ratios);
  const max = Math.max(...ratios);
  return {
    microseconds: micro,
    ratios,
    overheads,
    median: med,
    min,
    max,
    overhead: median(overheads),
    flagged: !isBare && micro.length > 1 && max - min > Math.abs(med - 1),
  };
}

/** The CPU rows and targets of a run; `floorOf` gives a variant's floor in µs. */
export function summariseCpu(
  rounds: readonly RoundResult[],
  variants: readonly Variant[],
  floorOf: (v: Variant) => number,
  targets: readonly CpuTarget[],
): CpuSummary {
  const rows: CpuRow[] = [];
  for (const variant of [BARE, ...variants]) {
    const own = rounds.map((r, i) => ({ r, i })).filter(({ r }) => r.variant === variant.name && measured(r)) as { r: Cpu; i: number }[];
    const saturated = cpuMeasure(rounds, own, variant === BARE, (r) => r.cpuPerRequest);
    const fixed = cpuMeasure(rounds, own, variant === BARE, (r) => r.fixed?.cpuPerRequest);
    const floor = floorOf(variant);
    const failed = rounds.some((r) => r.variant === variant.name && 'error' in r);
    const clean = own.every(
      ({ r }) => r.non2xx === 0 && r.errors === 0 && (r.fixed === undefined || (r.fixed.non2xx === 0 && r.fixed.errors === 0)),
    );
    rows.push({
      name: variant.name,
      group: variant.group,
      label: variant.label,
      floor,
      ...(saturated ? { saturated } : {}),
      ...(fixed ? { fixed } : {}),
      beyondCrypto: fixed && variant !== BARE ? fixed.overhead - floor : null,
      valid: !failed && clean && own.length > 0,
    });
  }
  const byName = new Map(rows.map((r) => [r.name, r]));
  const results = targets.map((t): CpuTargetResult => {
    const a = byName.get(t.variant);
    const b = t.versus === undefined ? undefined : byName.get(t.versus);
    const values: number[] = [];
    if (a?.valid === true && a.fixed && (t.kind !== 'versus' || (b?.valid === true && b.fixed))) {
      const n = t.kind === 'versus' ? Math.min(a.fixed.ratios.length, b?.fixed?.ratios.length ?? 0) : a.fixed.ratios.length;
      for (let k = 0; k < n; k++) {
        const ra = a.fixed.ratios[k] as number;
        if (t.kind === 'ratio') values.push(ra);
        else if (t.kind === 'versus') values.push(ra / (b?.fixed?.ratios[k] as number));
        else if (a.floor > 0) values.push((a.fixed.overheads[k] as number) / a.floor);
      }
    }
    const held = values.filter((v) => v <= t.max).length;
    const verdict = values.length === 0 ? null : held === values.length ? 'every' : held > 0 ? 'some' : 'none';
    return { name: t.name, max: t.max, values, median: values.length === 0 ? null : median(values), held, verdict };
  });
  return { rows, targets: results };
}

const range = (m: CpuMeasure | undefined): string => (m ? `${fixed(m.median, 2)} [${fixed(m.min, 2)}–${fixed(m.max, 2)}]` : '–');
const micro = (m: CpuMeasure | undefined): string => (m ? fixed(median(m.microseconds), 1) : '–');

/** A Markdown table of the CPU rows, then the CPU targets. */
export function formatCpu(cpu: CpuSummary, offered: number): string {
  const lines = [
    `Server CPU time per answered request (user + system, process.cpuUsage in the server); fixed load: ${offered > 0 ? `${offered} req/s offered` : 'not run'}. × bare: median [min–max] over the rounds, each round against the bare rounds just before and after it. ⚑: the rounds disagree by more than the row differs from bare.`,
    '',
    '| Scenario | Variant | floor µs | saturated µs/req | saturated × bare | fixed-load µs/req | fixed-load × bare | overhead µs | beyond crypto µs | ⚑ |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of cpu.rows) {
    const flag = [row.saturated?.flagged ? 'sat' : '', row.fixed?.flagged ? 'fixed' : ''].filter(Boolean).join(', ');
    lines.push(
      `| ${row.group} | ${row.label}${row.valid ? '' : ' (INVALID)'} | ${fixed(row.floor, 1)} | ${micro(row.saturated)} | ${range(row.saturated)} | ${micro(row.fixed)} | ${range(row.fixed)} | ${row.fixed && row.name !== BARE.name ? fixed(row.fixed.overhead, 1) : '–'} | ${row.beyondCrypto === null ? '–' : fixed(row.beyondCrypto, 1)} | ${flag ? `⚑ ${flag}` : ''} |`,
    );
  }
  if (cpu.targets.length > 0) {
    lines.push('', '| CPU target (fixed load) | ≤ | median | per round | held |', '|---|---:|---:|---|---|');
    for (const t of cpu.targets) {
      lines.push(
        `| ${t.name} | ${fixed(t.max, 2)} | ${t.median === null ? 'not measured' : fixed(t.median, 2)} | ${t.values.map((v) => fixed(v, 2)).join(' / ') || '–'} | ${t.verdict === null ? '–' : `${t.verdict} (${t.held}/${t.values.length})`} |`,
      );
    }
  }
  return lines.join('\n');
}
