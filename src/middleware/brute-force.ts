/**
 * Brute-force protection for authentication: failed attempts are counted per client IP and per
 * subject; after `freeRetries` each further failure is slowed (exponential delay), and after
 * `maxFailures` within `windowSeconds` the IP or subject is locked out for `lockSeconds`
 * (429 `locked_out`). Counters live in rate-limiter-flexible limiters: in memory by default, in Redis
 * (shared by every instance) with `redisBruteForce()` from `authnz-express/redis`.
 *
 * Design: a wrapper around schemes, `guard.protect(scheme)`, so `authenticate()` stays unchanged and
 * the lock is checked before the credential is verified (a locked caller cannot keep guessing).
 * Only 401 outcomes count as failures; 400 and 503 do not. A success resets the subject's counter.
 */
import { AuthError } from '../errors.js';
import type { AuthRequest, AuthScheme } from '../scheme.js';
import { clientAddress } from '../scheme.js';
import { isLimiterResult, lazyLimiter, memoryLimiterFactory, withDeadline, type LimiterFactory, type LimiterLike } from './rate-limit.js';

/** Options for {@link bruteForce}. */
export interface BruteForceOptions {
  /** Failures allowed within the window before lockout (default 10). */
  readonly maxFailures?: number;
  /** Window over which failures are counted, seconds (default 900). */
  readonly windowSeconds?: number;
  /** Lockout length, seconds (default 900). */
  readonly lockSeconds?: number;
  /** Failures answered without delay (default 3). */
  readonly freeRetries?: number;
  /** Delay of the first slowed failure, ms (default 250); grows ×1.5 per failure. */
  readonly baseDelayMs?: number;
  /** Largest delay, ms (default 5000). */
  readonly maxDelayMs?: number;
  /** Counter namespace (default `authnz:bf:`). */
  readonly keyPrefix?: string;
  /** Builds limiters (default: in-memory). */
  readonly factory?: LimiterFactory;
  /** Deadline for the store in ms (default 250). */
  readonly timeoutMs?: number;
}

/** Reads the claimed subject from a request before verification (e.g. the API key id or username). */
export type SubjectHint = (req: AuthRequest) => string | undefined;

/** The guard returned by {@link bruteForce}. */
export interface BruteForceGuard {
  /** Wraps a scheme so its failures are counted and locked callers are refused before verification. */
  protect(scheme: AuthScheme, subjectOf?: SubjectHint): AuthScheme;
  /** Forgets failures of an IP and/or subject (e.g. after an administrator unlocks it). */
  reset(target: { ip?: string; subject?: string }): Promise<void>;
  /** The slow-down delay in ms after `failures` failures. */
  delayFor(failures: number): number;
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/**
 * Builds a brute-force guard.
 * @example const bf = bruteForce({ maxFailures: 5, lockSeconds: 600 });
 * app.use('/api', authenticate([bf.protect(apiKeyScheme({ manager }), apiKeyIdHint)]));
 */
export function bruteForce(options: BruteForceOptions = {}): BruteForceGuard {
  const maxFailures = options.maxFailures ?? 10;
  const windowSeconds = options.windowSeconds ?? 900;
  const lockSeconds = options.lockSeconds ?? 900;
  const freeRetries = options.freeRetries ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const prefix = options.keyPrefix ?? 'authnz:bf:';
  const factory = options.factory ?? memoryLimiterFactory;
  const timeoutMs = options.timeoutMs ?? 250;
  if (!Number.isInteger(maxFailures) || maxFailures < 1) throw new TypeError('bruteForce.maxFailures must be a positive integer');
  // maxFailures failures are allowed; the next one blocks the key for lockSeconds.
  const config = { points: maxFailures, duration: windowSeconds, blockDuration: lockSeconds };
  const ipLimiter = lazyLimiter(factory, { ...config, keyPrefix: `${prefix}ip` });
  const subjectLimiter = lazyLimiter(factory, { ...config, keyPrefix: `${prefix}sub` });

  const delayFor = (failures: number): number =>
    failures <= freeRetries ? 0 : Math.min(maxDelayMs, Math.round(baseDelayMs * 1.5 ** (failures - freeRetries - 1)));

  const lockedFor = async (limiter: () => Promise<LimiterLike>, key: string): Promise<number> => {
    const res = await withDeadline(async () => (await limiter()).get(key), timeoutMs);
    return res !== null && res.consumedPoints > maxFailures ? res.msBeforeNext : 0;
  };

  const lockedOut = (ms: number): AuthError =>
    new AuthError('locked_out', { reason: 'locked_out', detail: 'Too many failed attempts; try again later.', retryAfter: Math.max(1, Math.ceil(ms / 1000)) });

  const recordFailure = async (limiter: () => Promise<LimiterLike>, key: string): Promise<{ failures: number; lockedMs: number }> => {
    try {
      const res = await withDeadline(async () => (await limiter()).consume(key, 1), timeoutMs);
      return { failures: res.consumedPoints, lockedMs: 0 };
    } catch (error) {
      if (isLimiterResult(error)) return { failures: error.consumedPoints, lockedMs: error.msBeforeNext };
      throw error;
    }
  };

  return {
    delayFor,
    async reset(target) {
      if (target.ip !== undefined) await (await ipLimiter()).delete(target.ip);
      if (target.subject !== undefined) await (await subjectLimiter()).delete(target.subject);
    },
    protect(scheme, subjectOf) {
      return {
        name: scheme.name,
        challenge: scheme.challenge,
        async authenticate(req) {
          const ip = clientAddress(req);
          const subject = subjectOf?.(req);
          const ipLock = await lockedFor(ipLimiter, ip);
          if (ipLock > 0) throw lockedOut(ipLock);
          if (subject !== undefined) {
            const subjectLock = await lockedFor(subjectLimiter, subject);
            if (subjectLock > 0) throw lockedOut(subjectLock);
          }
          try {
            const principal = await scheme.authenticate(req);
            if (principal !== undefined && subject !== undefined) await (await subjectLimiter()).delete(subject);
            return principal;
          } catch (thrown) {
            if (!(thrown instanceof AuthError) || thrown.status !== 401) throw thrown;
            const byIp = await recordFailure(ipLimiter, ip);
            const bySubject = subject === undefined ? { failures: 0, lockedMs: 0 } : await recordFailure(subjectLimiter, subject);
            const lockMs = Math.max(byIp.lockedMs, bySubject.lockedMs);
            if (lockMs > 0) throw lockedOut(lockMs);
            const delay = delayFor(Math.max(byIp.failures, bySubject.failures));
            if (delay > 0) await sleep(delay);
            throw thrown;
          }
        },
      };
    },
  };
}
