/** Timing comparisons for "both paths cost the same" tests. */
import { performance } from 'node:perf_hooks';

/**
 * Median duration of `a` over median duration of `b`, run interleaved (so load on the machine hits
 * both series alike) after a warm-up of both. Each call's rejection is ignored: refusals are timed.
 */
export async function interleavedMedianRatio(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  rounds: number,
  warmup = 50,
): Promise<number> {
  const time = async (run: () => Promise<unknown>): Promise<number> => {
    const started = performance.now();
    await run().catch(() => undefined);
    return performance.now() - started;
  };
  for (let i = 0; i < warmup; i++) await time(i % 2 ? a : b);
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await time(a));
    bs.push(await time(b));
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1] as number;
  return median(as) / median(bs);
}
