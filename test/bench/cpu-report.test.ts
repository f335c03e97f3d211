/**
 * The CPU-per-request report from synthetic rounds: each round's ratio is against the bare rounds
 * just before and after it, rows give the median and range over rounds, a row is flagged when its
 * rounds disagree by more than it differs from bare, and targets are checked round by round.
 */
import type { LoadResult } from '../../bench/load.js';
import { formatCpu, median, summariseCpu, type CpuTarget, type RoundCpu, type RoundResult } from '../../bench/report.js';
import type { Variant } from '../../bench/variants.js';

const variants: Variant[] = [
  { name: 'steady', label: 'steady path', group: 'g', pool: 'rs256-reused' },
  { name: 'noisy', label: 'noisy path', group: 'g', pool: 'rs256-reused' },
  { name: 'peer', label: 'peer path', group: 'g', pool: 'rs256-reused' },
];

/** A measured round whose server used `sat` µs/req saturated and `fix` µs/req at the fixed load. */
type Measured = { readonly variant: string } & LoadResult & RoundCpu;

function r(variant: string, sat: number, fix: number): Measured {
  return {
    variant,
    requestsPerSecond: 1000,
    p50: 1,
    p99: 2,
    total: 5000,
    non2xx: 0,
    errors: 0,
    wrapped: 0,
    used: 5000,
    cpuPerRequest: sat,
    fixed: { offered: 250, cpuPerRequest: fix, requestsPerSecond: 250, total: 1250, non2xx: 0, errors: 0, p50: 1, p99: 2 },
  };
}

// Three interleaved rounds: bare, steady, bare, noisy, bare, peer, bare, ...
const sequence: Measured[] = [
  r('bare', 100, 200),
  r('steady', 110, 210),
  r('bare', 100, 200),
  r('noisy', 120, 300),
  r('bare', 100, 200),
  r('peer', 120, 220),
  r('bare', 100, 200),
  r('steady', 115, 212),
  r('bare', 100, 200),
  r('noisy', 100, 180),
  r('bare', 100, 200),
  r('peer', 120, 220),
  // The third round's bare rounds drift from 200 to 240 µs: the steady row's ratio uses their mean (220).
  r('bare', 100, 200),
  r('steady', 112, 231),
  r('bare', 100, 240),
  r('noisy', 130, 300),
  r('bare', 100, 200),
  r('peer', 120, 220),
  r('bare', 100, 200),
];
const rounds: RoundResult[] = sequence.map((x, round) => ({ ...x, round }));

const targets: CpuTarget[] = [
  { name: 'steady ≤ 1.05 × bare', variant: 'steady', kind: 'ratio', max: 1.05 },
  { name: 'steady no worse than peer', variant: 'steady', kind: 'versus', versus: 'peer', max: 1 },
  { name: 'noisy overhead ≤ 1.2 × floor', variant: 'noisy', kind: 'floor', max: 1.2 },
];

describe('bench CPU report', () => {
  const cpu = summariseCpu(rounds, variants, (v) => (v.name === 'noisy' ? 50 : 0), targets);
  const row = (name: string) => cpu.rows.find((x) => x.name === name);

  it('takes the median of a list', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });

  it('divides each round by the mean of the bare rounds around it and gives median and range', () => {
    const steady = row('steady');
    expect(steady?.fixed?.ratios).toEqual([210 / 200, 212 / 200, 231 / 220]);
    expect(steady?.fixed?.median).toBeCloseTo(1.05, 5);
    expect(steady?.fixed?.min).toBeCloseTo(1.05, 5);
    expect(steady?.fixed?.max).toBeCloseTo(1.06, 5);
    expect(steady?.fixed?.overheads).toEqual([10, 12, 11]);
    expect(steady?.fixed?.overhead).toBe(11);
    expect(steady?.saturated?.ratios).toEqual([1.1, 1.15, 1.12]);
    expect(steady?.fixed?.microseconds).toEqual([210, 212, 231]);
  });

  it('flags a row whose rounds disagree by more than it differs from bare, and not a steady one', () => {
    // noisy at the fixed load: 300/200, 180/200, 300/220 → median 1.36, range 0.6 > 0.36.
    expect(row('noisy')?.fixed?.flagged).toBe(true);
    expect(row('steady')?.fixed?.flagged).toBe(false);
    expect(row('peer')?.fixed?.flagged).toBe(false);
    expect(row('bare')?.fixed?.flagged).toBe(false);
  });

  it('reports the overhead beyond the floor', () => {
    // noisy overheads 100, −20, 80 → median 80; floor 50.
    expect(row('noisy')?.fixed?.overheads).toEqual([100, -20, 80]);
    expect(row('noisy')?.beyondCrypto).toBe(30);
    expect(row('bare')?.beyondCrypto).toBeNull();
  });

  it('checks targets in every round and says whether they held in every, some or no round', () => {
    const [ratio, versus, floor] = cpu.targets;
    expect(ratio?.values.map((v) => Math.round(v * 1000) / 1000)).toEqual([1.05, 1.06, 1.05]);
    expect(ratio?.verdict).toBe('some');
    expect(ratio?.held).toBe(2);
    // steady ÷ peer per round: 1.05/1.1, 1.06/1.1, 1.05/1.1: all below 1.
    expect(versus?.verdict).toBe('every');
    expect(versus?.values).toHaveLength(3);
    // noisy overhead ÷ floor: 2, −0.4, 1.6.
    expect(floor?.values).toEqual([2, -0.4, 1.6]);
    expect(floor?.verdict).toBe('some');
    expect(floor?.held).toBe(1);
    expect(floor?.median).toBe(1.6);
  });

  it('marks a row invalid when a round failed and leaves its targets unmeasured', () => {
    const broken = [...rounds.slice(0, 1), { variant: 'steady', round: 1, error: 'boom' } as RoundResult, ...rounds.slice(2)];
    const out = summariseCpu(broken, variants, () => 0, targets);
    expect(out.rows.find((x) => x.name === 'steady')?.valid).toBe(false);
    expect(out.targets[0]?.verdict).toBeNull();
  });

  it('prints one table row per variant with the flag, then the targets', () => {
    const text = formatCpu(cpu, 250);
    expect(text).toContain('250 req/s offered');
    expect(text).toMatch(
      /^\| g \| noisy path \| 50\.0 \| [\d.]+ \| [\d.]+ \[[\d.]+–[\d.]+\] \| 300\.0 \| 1\.36 \[0\.90–1\.50\] \| 80\.0 \| 30\.0 \| ⚑ sat, fixed \|$/m,
    );
    expect(text).toMatch(
      /^\| g \| steady path \| 0\.0 \| 112\.0 \| 1\.12 \[1\.10–1\.15\] \| 212\.0 \| 1\.05 \[1\.05–1\.06\] \| 11\.0 \| 11\.0 \| {2}\|$/m,
    );
    expect(text).toMatch(/^\| steady ≤ 1\.05 × bare \| 1\.05 \| 1\.05 \| 1\.05 \/ 1\.06 \/ 1\.05 \| some \(2\/3\) \|$/m);
  });
});
