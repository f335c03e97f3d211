/**
 * The limiter contract behind `rateLimit()`, `bruteForce()` and `preAuthLimit()`: a subset of
 * rate-limiter-flexible's limiters, and the in-memory default. Stores implement it; limits use it.
 *
 * rate-limiter-flexible is an optional peer: it is loaded with a dynamic import on first use, so the
 * main entry does not require it.
 */

/** One limit: `limit` requests per `windowSeconds`. */
export interface RateLimitRule {
  /** Requests allowed per window (an integer >= 1). */
  readonly limit: number;
  /** Window length, seconds (finite, > 0). */
  readonly windowSeconds: number;
}

/** What a limiter is built with. */
export interface LimiterConfig extends RateLimitRule {
  /** Namespace of the counters. */
  readonly keyPrefix: string;
  /** Seconds a key stays locked once over the limit (default 0: no lock beyond the window). */
  readonly lockSeconds?: number;
}

/** The rate-limiter-flexible constructor options for a {@link LimiterConfig}. */
export function flexibleOptions(config: LimiterConfig): { keyPrefix: string; points: number; duration: number; blockDuration: number } {
  return { keyPrefix: config.keyPrefix, points: config.limit, duration: config.windowSeconds, blockDuration: config.lockSeconds ?? 0 };
}

/** The result of a limiter call (rate-limiter-flexible's `RateLimiterRes`). */
export interface LimiterResult {
  readonly msBeforeNext: number;
  readonly remainingPoints: number;
  readonly consumedPoints: number;
}

/**
 * The subset of a rate-limiter-flexible limiter used here. `consume` rejects with a
 * {@link LimiterResult} when over the limit and with an Error when the store fails.
 */
export interface LimiterLike {
  readonly points: number;
  consume(key: string, points?: number): Promise<LimiterResult>;
  get(key: string): Promise<LimiterResult | null>;
  delete(key: string): Promise<boolean>;
  /** Gives points back (a negative consume). */
  reward(key: string, points?: number): Promise<LimiterResult>;
}

/** Builds a limiter for a config (memory by default; Redis via `authnz-express/redis`). */
export type LimiterFactory = (config: LimiterConfig) => LimiterLike | Promise<LimiterLike>;

/** The rate-limiter-flexible classes used here. */
interface RateLimiterFlexibleModule {
  RateLimiterMemory: new (opts: Record<string, unknown>) => LimiterLike;
  RateLimiterRedis: new (opts: Record<string, unknown>) => LimiterLike;
}

/**
 * Loads rate-limiter-flexible (an optional peer) when the first limiter is built, never at import.
 * Its classes are named exports in ESM, or under `default` when Node loads its CJS build.
 */
export async function loadRateLimiterFlexible(): Promise<RateLimiterFlexibleModule> {
  const mod = (await import('rate-limiter-flexible')) as unknown as Partial<RateLimiterFlexibleModule> & {
    default?: RateLimiterFlexibleModule;
  };
  return mod.RateLimiterMemory && mod.RateLimiterRedis ? (mod as RateLimiterFlexibleModule) : (mod.default as RateLimiterFlexibleModule);
}

/** The default factory: rate-limiter-flexible's `RateLimiterMemory`, loaded on first use. */
export const memoryLimiterFactory: LimiterFactory = async (config) => {
  const { RateLimiterMemory: Ctor } = await loadRateLimiterFlexible();
  return new Ctor(flexibleOptions(config));
};

/** True when a rejection means "over the limit" rather than a store failure. */
export function isLimiterResult(value: unknown): value is LimiterResult {
  return (
    typeof value === 'object' && value !== null && !(value instanceof Error) && typeof (value as LimiterResult).msBeforeNext === 'number'
  );
}
