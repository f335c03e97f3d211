/**
 * The limiter contract (src/stores/limiter.ts): the mapping onto rate-limiter-flexible's options,
 * the test that tells a refusal from a store failure, and the in-memory default factory.
 */
import {
  flexibleOptions,
  isLimiterResult,
  loadRateLimiterFlexible,
  memoryLimiterFactory,
  type LimiterLike,
  type LimiterResult,
} from '../../src/stores/limiter.js';

/** The rejection of `call`, which must reject. */
async function rejectionOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
}

describe('flexibleOptions', () => {
  it('maps limit, windowSeconds and lockSeconds onto points, duration and blockDuration (no lock by default)', () => {
    expect(flexibleOptions({ keyPrefix: 'p', limit: 3, windowSeconds: 60 })).toEqual({
      keyPrefix: 'p',
      points: 3,
      duration: 60,
      blockDuration: 0,
    });
    expect(flexibleOptions({ keyPrefix: 'q', limit: 1, windowSeconds: 0.5, lockSeconds: 30 })).toEqual({
      keyPrefix: 'q',
      points: 1,
      duration: 0.5,
      blockDuration: 30,
    });
  });
});

describe('isLimiterResult', () => {
  it('is true for a limiter result, false for errors (even one carrying msBeforeNext) and anything else', () => {
    expect(isLimiterResult({ msBeforeNext: 10, remainingPoints: 0, consumedPoints: 4 })).toBe(true);
    expect(isLimiterResult({ msBeforeNext: 0 })).toBe(true);
    const error = Object.assign(new Error('store down'), { msBeforeNext: 10 });
    for (const value of [error, new Error('x'), null, undefined, 5, 'msBeforeNext', {}, { msBeforeNext: '10' }])
      expect(isLimiterResult(value)).toBe(false);
  });
});

describe('memoryLimiterFactory', () => {
  const build = async (config: { limit: number; windowSeconds: number; lockSeconds?: number }): Promise<LimiterLike> =>
    memoryLimiterFactory({ keyPrefix: 'test', ...config });

  it('allows `limit` points per key in a window, then rejects with a limiter result; keys are counted apart', async () => {
    const limiter = await build({ limit: 2, windowSeconds: 60 });
    expect(limiter.points).toBe(2);
    expect((await limiter.consume('a')).remainingPoints).toBe(1);
    expect((await limiter.consume('a')).remainingPoints).toBe(0);
    const refusal = await rejectionOf(limiter.consume('a'));
    expect(isLimiterResult(refusal)).toBe(true);
    expect((refusal as LimiterResult).msBeforeNext).toBeGreaterThan(0);
    expect((refusal as LimiterResult).msBeforeNext).toBeLessThanOrEqual(60_000);
    expect((await limiter.consume('b')).remainingPoints).toBe(1);
    expect((await limiter.get('a'))?.consumedPoints).toBe(3);
    expect(await limiter.get('never')).toBeNull();
  });

  it('reward gives points back and delete forgets the key', async () => {
    const limiter = await build({ limit: 1, windowSeconds: 60 });
    await limiter.consume('k');
    await rejectionOf(limiter.consume('k'));
    await limiter.reward('k', 2);
    expect((await limiter.consume('k')).remainingPoints).toBe(0);
    expect(await limiter.delete('k')).toBe(true);
    expect(await limiter.get('k')).toBeNull();
    expect((await limiter.consume('k')).remainingPoints).toBe(0);
  });

  it('lockSeconds keeps a key refused past the end of its window', async () => {
    const limiter = await build({ limit: 1, windowSeconds: 1, lockSeconds: 30 });
    await limiter.consume('k');
    const refusal = (await rejectionOf(limiter.consume('k'))) as LimiterResult;
    expect(refusal.msBeforeNext).toBeGreaterThan(1000);
    expect(refusal.msBeforeNext).toBeLessThanOrEqual(30_000);
  });
});

describe('loadRateLimiterFlexible', () => {
  it('gives the memory and Redis limiter classes, the same on each call', async () => {
    const first = await loadRateLimiterFlexible();
    const second = await loadRateLimiterFlexible();
    expect(typeof first.RateLimiterMemory).toBe('function');
    expect(typeof first.RateLimiterRedis).toBe('function');
    expect(second.RateLimiterMemory).toBe(first.RateLimiterMemory);
    expect(new first.RateLimiterMemory({ points: 7, duration: 1 }).points).toBe(7);
  });
});
