/** Turns the rounds of a run into per-variant rows, target checks, and a Markdown table. */
import type { LoadResult } from './load.js';
import { BARE, type Target, type Variant } from './variants.js';

/** One round as measured (or why it could not be). */
export type RoundResult = { readonly variant: string; readonly round: number } & (LoadResult | { readonly error: string });

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
export function summariseFixedRate(rounds: readonly RoundResult[], variants: readonly Variant[], offered: number, share: number): FixedRate {
  const rows: FixedRateRow[] = [];
  const bareP99 = mean(rounds.filter((r) => r.variant === BARE.name).filter(measured).map((r) => r.p99));
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
    lines.push(`| ${row.group} | ${row.label}${note} | ${row.offered} | ${Math.round(row.requestsPerSecond)} | ${fixed(row.p50, 1)} | ${fixed(row.p99, 1)} | ${fixed(row.p99VsBare, 2)} |`);
  }
  return lines.join('\n');
}

/** A Markdown table of the rows, then the targets. */
export function formatTable(summary: Summary): string {
  const lines = ['| Scenario | Variant | req/s | p50 ms | p99 ms | × bare |', '|---|---|---:|---:|---:|---:|'];
  for (const row of summary.rows) {
    const note = row.error ? ` (failed: ${row.error})` : !row.valid ? ` (INVALID: ${row.non2xx} non-2xx, ${row.errors} errors)` : row.wrapped > 0 ? ` (${row.wrapped} token reuses)` : '';
    lines.push(`| ${row.group} | ${row.label}${note} | ${Math.round(row.requestsPerSecond)} | ${fixed(row.p50, 1)} | ${fixed(row.p99, 1)} | ${fixed(row.ratio, 2)} |`);
  }
  if (summary.targets.length > 0) {
    lines.push('', '| Target | Value | Met |', '|---|---:|---|');
    for (const t of summary.targets) {
      lines.push(`| ${t.name} | ${t.value === null ? 'not measured' : fixed(t.value, 2)} | ${t.met === null ? '–' : t.met ? 'yes' : 'no'} |`);
    }
  }
  return lines.join('\n');
}
