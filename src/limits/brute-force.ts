/**
 * Brute-force protection for authentication: failed attempts are counted per client (its address by
 * default, or `keyOf(req)`) and per claimed subject; after `freeRetries` each further failure is
 * slowed (exponential delay), and after `maxFailures` within `windowSeconds` the client or subject is
 * locked out for `lockSeconds` (429 `locked_out`). Counters live in rate-limiter-flexible limiters: in
 * memory by default, in Redis (shared by every instance) with `redisBruteForce()` from
 * `authnz-express/redis`.
 *
 * Design: a wrapper around schemes, `guard.protect(scheme)`, so `authenticate()` stays unchanged.
 * - Only requests that carry a credential of the scheme (`scheme.hasCredential`) are counted or locked:
 *   a locked address still reaches optional routes anonymously.
 * - Reserve before verify: every attempt takes an in-flight slot before its credential is verified,
 *   and is admitted only while `failures + in-flight <= maxFailures`. A failure is recorded before its
 *   slot is released, so a concurrent burst of wrong guesses verifies at most `maxFailures` of them
 *   (check-then-verify let 200 concurrent guesses through). Successes give their slot back and never
 *   count; requests over the in-flight budget wait for a local slot, or get a short 429.
 * - Subjects are counted per (subject, client) pair by default, so strangers who know an API key id
 *   cannot lock its owner out (`subjectScope: 'everywhere'` restores the shared lock, see the docs).
 * Only 401 outcomes count as failures; 400 and 503 do not. A success resets the subject's counter.
 */
import { AuthError, isAuthError, type LimitReason } from '../errors.js';
import type { AuthRequest, AuthScheme } from '../scheme.js';
import { subnetKeyOf } from './pre-auth-limit.js';
import { checkLimiterOptions, lazyLimiter, noteNamespace, withDeadline } from './rate-limit.js';
import { isLimiterResult, type LimiterFactory, type LimiterLike, type LimiterResult } from '../stores/limiter.js';
import {
  configurationError,
  enumOption,
  functionOption,
  nonNegative,
  numberOption,
  optionNames,
  positive,
  positiveInteger,
  stringOption,
} from '../lib/options.js';
import { checkForwardedFor, reportingTo, reportsOf, type ObservableOptions } from '../lib/warnings.js';
import { namingSubjectsOf, subjectIssuerOf } from '../principal.js';

const WHERE = 'bruteForce()';
const KNOWN = optionNames<BruteForceOptions>()({
  maxFailures: 1,
  windowSeconds: 1,
  lockSeconds: 1,
  freeRetries: 1,
  baseDelayMs: 1,
  maxDelayMs: 1,
  keyPrefix: 1,
  factory: 1,
  timeoutMs: 1,
  keyOf: 1,
  subjectScope: 1,
  ipv6Subnet: 1,
  logger: 1,
  validate: 1,
});

/** Options for {@link bruteForce}. */
export interface BruteForceOptions extends ObservableOptions {
  /** Failures allowed within the window before lockout (default 10; an integer >= 1). */
  readonly maxFailures?: number;
  /** Window over which failures are counted, seconds (default 900; finite, > 0). */
  readonly windowSeconds?: number;
  /** Lockout length, seconds (default 900; finite, > 0). */
  readonly lockSeconds?: number;
  /** Failures answered without delay (default 3; an integer >= 0). */
  readonly freeRetries?: number;
  /** Delay of the first slowed failure, ms (default 250; finite, >= 0); grows ×1.5 per failure. */
  readonly baseDelayMs?: number;
  /** Largest delay, ms (default 5000; finite, >= 0). */
  readonly maxDelayMs?: number;
  /** Counter namespace (default `authnz:bf:`). */
  readonly keyPrefix?: string;
  /** Builds limiters (default: in-memory). */
  readonly factory?: LimiterFactory;
  /** Deadline for the store in ms (default 250; finite, > 0). */
  readonly timeoutMs?: number;
  /**
   * The client key failures are counted under (default: the client address, Express's `req.ip`, which
   * honours `trust proxy`, IPv6 addresses cut to their `ipv6Subnet`). Behind a proxy that Express does not trust, every request has the proxy's
   * address: return the real client's identity here, or all clients share one counter.
   */
  readonly keyOf?: (req: AuthRequest) => string;
  /**
   * Prefix length IPv6 clients are keyed by with the default key (default 64: a client rotating
   * addresses inside its /64 is one client; 128 keys each address; an integer from 1 to 128).
   */
  readonly ipv6Subnet?: number;
  /**
   * `client` (default): a subject's failures are counted per (subject, client key) pair, so failures
   * from other clients never lock the subject's owner out. `everywhere`: one counter per subject across
   * all clients, which stops guessing spread over many addresses but lets anyone who knows a subject
   * (e.g. an API key's public id) lock its owner out.
   */
  readonly subjectScope?: 'client' | 'everywhere';
}

/** Reads the claimed subject from a request before verification (e.g. the API key id or username). */
export type SubjectHint = (req: AuthRequest) => string | undefined;

/** The guard returned by {@link bruteForce}. */
export interface BruteForceGuard {
  /** Wraps a scheme so its failures are counted and locked callers are refused before verification. */
  protect(scheme: AuthScheme, subjectOf?: SubjectHint): AuthScheme;
  /**
   * Forgets failures of a client key and/or subject (e.g. after an administrator unlocks it). With
   * `subjectScope: 'client'` a subject's counter is per client: give both `subject` and `ip`.
   */
  reset(target: { ip?: string; subject?: string }): Promise<void>;
  /** The slow-down delay in ms after `failures` failures. */
  delayFor(failures: number): number;
}

/** One counter an attempt is checked against: the client, or the subject. */
interface Counter {
  readonly failures: () => Promise<LimiterLike>;
  readonly key: string;
  /** Key of the in-flight slot counter. */
  readonly slot: string;
}

/** An in-flight slot taken: its counter key, and when the counter's window (with the slot) ends. */
interface Slot {
  readonly key: string;
  readonly until: number;
}

/** What an admitted attempt holds. */
interface Admission {
  readonly slots: readonly Slot[];
  readonly failures: readonly number[];
}

// An in-flight slot left by a crashed instance expires after this; verifying never takes this long.
const IN_FLIGHT_SECONDS = 60;
// A slot is given back only while its window has at least this long (plus the store deadline) to run:
// given back later, it could land in the next window and free a slot taken there.
const RELEASE_MARGIN_MS = 1000;

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/**
 * Builds a brute-force guard.
 * @example const bf = bruteForce({ maxFailures: 5, lockSeconds: 600 });
 * app.use('/api', authenticate([bf.protect(apiKeyScheme({ manager }), apiKeyIdHint)]));
 * @throws TypeError `bruteForce(): "<option>" must be …` for numbers that are not finite and in
 *   range, and when the default limiter's package (rate-limiter-flexible) is not installed.
 */
export function bruteForce(input: BruteForceOptions = {}): BruteForceGuard {
  const { options, warnings, factory } = checkLimiterOptions(input, WHERE, KNOWN, true);
  const maxFailures = positiveInteger(options.maxFailures, 10, WHERE, 'maxFailures');
  const freeRetries = numberOption(options.freeRetries, 3, WHERE, 'freeRetries', { integer: true, min: 0 });
  const baseDelayMs = nonNegative(options.baseDelayMs, 250, WHERE, 'baseDelayMs');
  const maxDelayMs = nonNegative(options.maxDelayMs, 5000, WHERE, 'maxDelayMs');
  const prefix = stringOption(options.keyPrefix, 'authnz:bf:', WHERE, 'keyPrefix');
  const timeoutMs = positive(options.timeoutMs, 250, WHERE, 'timeoutMs');
  const givenKeyOf = functionOption<(req: AuthRequest) => string>(options.keyOf, WHERE, 'keyOf', 'a function (req) => string');
  const subnet = subnetKeyOf(options.ipv6Subnet, WHERE);
  const keyOf = givenKeyOf ?? subnet.keyOf;
  // reset({ ip }) finds the counter the default key put the address under.
  const ipKey = options.keyOf === undefined ? subnet.ofAddress : (ip: string): string => ip;
  const perClient = enumOption(options.subjectScope, ['client', 'everywhere'], 'client', WHERE, 'subjectScope') === 'client';
  // X-Forwarded-For is checked only while the default key (the address) is used.
  let proxyChecked = options.keyOf !== undefined || !warnings.enabled('xff_without_trust_proxy');
  // maxFailures failures are allowed; the next attempt blocks the key for lockSeconds.
  const config = {
    limit: maxFailures,
    windowSeconds: positive(options.windowSeconds, 900, WHERE, 'windowSeconds'),
    lockSeconds: positive(options.lockSeconds, 900, WHERE, 'lockSeconds'),
  };
  noteNamespace(warnings, factory, prefix);
  const ipLimiter = lazyLimiter(factory, { ...config, keyPrefix: `${prefix}ip` });
  const subjectLimiter = lazyLimiter(factory, { ...config, keyPrefix: `${prefix}sub` });
  const slotLimiter = lazyLimiter(factory, { limit: maxFailures, windowSeconds: IN_FLIGHT_SECONDS, keyPrefix: `${prefix}fl` });
  // Slots this process holds, per slot key, and the attempts waiting for one of them to be released.
  const local = new Map<string, { held: number; waiters: Array<() => void> }>();

  const store = <T>(call: (limiter: LimiterLike) => Promise<T>, limiter: () => Promise<LimiterLike>): Promise<T> =>
    withDeadline(async () => call(await limiter()), timeoutMs).catch((error: unknown) => {
      if (isAuthError(error) && error.code === 'dependency_unavailable') {
        warnings.dependencyFailed(
          'rate_limit_store',
          error.reason ?? 'rate_limit_store_error',
          'the brute-force counter store did not answer; attempts get 503',
          error.cause,
        );
      }
      throw error;
    });
  /** consume() that answers the count whether or not it went over the limit. */
  const count = async (limiter: () => Promise<LimiterLike>, key: string): Promise<LimiterResult> => {
    try {
      return await store((l) => l.consume(key, 1), limiter);
    } catch (error) {
      if (isLimiterResult(error)) return error;
      throw error;
    }
  };

  const delayFor = (failures: number): number =>
    failures <= freeRetries ? 0 : Math.min(maxDelayMs, Math.round(baseDelayMs * 1.5 ** (failures - freeRetries - 1)));

  const lockedOut = (ms: number, reason: LimitReason = 'locked_out'): AuthError =>
    new AuthError('locked_out', {
      reason,
      detail: 'Too many failed attempts; try again later.',
      retryAfter: Math.max(1, Math.ceil(ms / 1000)),
    });

  const hold = (slot: string): void => {
    const entry = local.get(slot) ?? { held: 0, waiters: [] };
    entry.held += 1;
    local.set(slot, entry);
  };
  /**
   * Gives one slot back to the store, never below zero: the counter's window is fixed, so a slot taken
   * in one window and given back in the next would count as a free slot there (with 5 allowed, a later
   * burst would verify 10). A slot whose window has ended, or is about to, is left to expire with it;
   * should a give-back still land in a fresh window and go below zero, the deficit is taken back.
   */
  const giveBack = async (slot: Slot): Promise<void> => {
    if (slot.until - Date.now() < timeoutMs + RELEASE_MARGIN_MS) return;
    const after = await store((l) => l.reward(slot.key, 1), slotLimiter);
    if (after.consumedPoints < 0) await store((l) => l.consume(slot.key, -after.consumedPoints), slotLimiter).catch(() => undefined);
  };
  /** Gives slots back; `verified` when the attempt ran (then one waiter may take its place). */
  const release = async (slots: readonly Slot[], verified = true): Promise<void> => {
    // Best effort: a slot that cannot be given back expires after IN_FLIGHT_SECONDS (fails closed).
    await Promise.all(slots.map((slot) => giveBack(slot).catch(() => undefined)));
    for (const { key } of slots) {
      const entry = local.get(key);
      if (!entry) continue;
      entry.held -= 1;
      // A verified attempt wakes one waiter. An attempt refused before verifying wakes none (waking
      // would spin waiters in microtasks, starving the timers of the attempts being verified), except
      // when this process holds no slot any more: then all wake, so that none waits forever.
      const woken = entry.held === 0 ? entry.waiters.splice(0) : entry.waiters.splice(0, verified ? 1 : 0);
      if (entry.held === 0 && entry.waiters.length === 0) local.delete(key);
      for (const wake of woken) wake();
    }
  };

  /** Takes a slot on every counter and checks the failures; waits, locks or refuses as needed. */
  const admit = async (counters: readonly Counter[]): Promise<Admission> => {
    for (;;) {
      const taken = await Promise.allSettled(counters.map((c) => count(slotLimiter, c.slot)));
      const now = Date.now();
      const slots = counters.flatMap((c, i) => {
        const t = taken[i];
        return t?.status === 'fulfilled' ? [{ key: c.slot, until: now + t.value.msBeforeNext }] : [];
      });
      slots.forEach((slot) => hold(slot.key));
      const refused = taken.find((t): t is PromiseRejectedResult => t.status === 'rejected');
      if (refused) {
        await release(slots, false);
        throw refused.reason;
      }
      let verdict: AuthError | 'busy' | undefined;
      let failures: number[] = [];
      try {
        // Read after reserving: an attempt that passed earlier is counted either in its slot or, since a
        // failure is recorded before the slot is released, in the failures.
        const found = await Promise.all(counters.map((c) => store((l) => l.get(c.key), c.failures)));
        failures = found.map((r) => r?.consumedPoints ?? 0);
        for (const [i, c] of counters.entries()) {
          const f = failures[i] ?? 0;
          if (f > maxFailures) verdict ??= lockedOut(found[i]?.msBeforeNext ?? 1000);
          else if (f === maxFailures) verdict ??= lockedOut((await count(c.failures, c.key)).msBeforeNext);
          else if (f + (taken[i] as PromiseFulfilledResult<LimiterResult>).value.consumedPoints > maxFailures) verdict ??= 'busy';
        }
      } catch (error) {
        await release(slots, false);
        throw error;
      }
      if (verdict === undefined) return { slots, failures };
      await release(slots, false);
      if (verdict !== 'busy') throw verdict;
      const pending = counters.map((c) => local.get(c.slot)).find((entry) => entry !== undefined && entry.held > 0);
      // Other instances hold the slots: a short refusal, never a lock.
      if (!pending) throw lockedOut(1000, 'attempts_in_flight');
      await new Promise<void>((resolve) => pending.waiters.push(resolve));
    }
  };

  const recordFailure = async (c: Counter): Promise<{ failures: number; lockedMs: number }> => {
    const res = await count(c.failures, c.key);
    return { failures: res.consumedPoints, lockedMs: res.consumedPoints > maxFailures ? res.msBeforeNext : 0 };
  };

  const pairKey = (subject: string, client: string): string => (perClient ? JSON.stringify([subject, client]) : subject);

  return {
    delayFor,
    async reset(target) {
      const ip = target.ip === undefined ? undefined : ipKey(target.ip);
      if (ip !== undefined) await (await ipLimiter()).delete(ip);
      if (target.subject === undefined) return;
      if (perClient && ip === undefined)
        throw configurationError('bruteForce().reset()', 'with subjectScope "client" give "ip" with "subject"');
      await (await subjectLimiter()).delete(pairKey(target.subject, ip ?? ''));
    },
    protect(scheme, subjectOf) {
      const presence = scheme.hasCredential?.bind(scheme);
      // The scheme's own logger, and this guard's, hear of the 503s answered behind the guard.
      const guarded: AuthScheme = reportingTo(
        {
          name: scheme.name,
          challenge: scheme.challenge,
          ...(presence ? { hasCredential: presence } : {}),
          async authenticate(req) {
            if (!proxyChecked) proxyChecked = checkForwardedFor(warnings, req);
            const client = keyOf(req);
            const subject = subjectOf?.(req);
            const counters: Counter[] = [{ failures: ipLimiter, key: client, slot: `ip:${client}` }];
            if (subject !== undefined) {
              const key = pairKey(subject, client);
              counters.push({ failures: subjectLimiter, key, slot: `sub:${key}` });
            }
            if (subject === undefined && presence !== undefined && !presence(req)) {
              // No credential: neither locked nor counted. Should the scheme find one after all, its
              // failure is still recorded.
              try {
                return await scheme.authenticate(req);
              } catch (thrown) {
                if (isAuthError(thrown) && thrown.status === 401) await Promise.all(counters.map(recordFailure));
                throw thrown;
              }
            }
            const admitted = await admit(counters);
            let principal;
            try {
              principal = await scheme.authenticate(req);
            } catch (thrown) {
              if (!isAuthError(thrown) || thrown.status !== 401) {
                await release(admitted.slots);
                throw thrown;
              }
              let recorded: Array<{ failures: number; lockedMs: number }>;
              try {
                recorded = await Promise.all(counters.map(recordFailure));
              } finally {
                await release(admitted.slots);
              }
              const lockMs = Math.max(...recorded.map((r) => r.lockedMs));
              if (lockMs > 0) throw lockedOut(lockMs);
              const delay = delayFor(Math.max(...recorded.map((r) => r.failures)));
              if (delay > 0) await sleep(delay);
              throw thrown;
            }
            await release(admitted.slots);
            const subjectCounter = counters[1];
            if (principal !== undefined && subjectCounter !== undefined && (admitted.failures[1] ?? 0) > 0) {
              await store((l) => l.delete(subjectCounter.key), subjectCounter.failures);
            }
            return principal;
          },
        },
        ...reportsOf(scheme),
        warnings,
      );
      // The guarded scheme names subjects as the scheme does (authenticate() compares the issuers).
      return namingSubjectsOf(guarded, subjectIssuerOf(scheme));
    },
  };
}
