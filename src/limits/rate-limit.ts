/**
 * `rateLimit()`: per-principal rate limits built on rate-limiter-flexible. Keyed on the principal
 * (scheme + subject) when `authenticate()` ran before it, else on the client IP; separate limits per
 * route (`name`) and per kind of principal. In-memory by default; `redisLimiterFactory()` from
 * `authnz-express/redis` shares the counters between instances.
 *
 * rate-limiter-flexible is an optional peer: the memory limiter is loaded with a dynamic import on
 * first use, so the main entry does not require it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startDeadline } from '../lib/deadline.js';
import { AuthError, dependencyUnavailable, isAuthError, type DependencyReason } from '../errors.js';
import type { Principal, PrincipalKind } from '../principal.js';
import { clientAddress, type AuthRequest } from '../scheme.js';
import { addressKey, DEFAULT_IPV6_SUBNET, subnetKeyOf } from './pre-auth-limit.js';
import type { Middleware } from '../http.js';
import {
  isLimiterResult,
  memoryLimiterFactory,
  type LimiterConfig,
  type LimiterFactory,
  type LimiterLike,
  type LimiterResult,
  type RateLimitRule,
} from '../stores/limiter.js';
import { writeProblem } from '../lib/render.js';
import { observeDependency } from '../diagnostics.js';
import {
  enumOption,
  functionOption,
  optionError,
  optionNames,
  optionsObject,
  positive,
  positiveInteger,
  requirePeer,
  stringOption,
} from '../lib/options.js';
import { checkForwardedFor, memoryNamespaceUsedBefore, Warnings, type ObservableOptions } from '../lib/warnings.js';

/** A limiter's "over the limit" is an answer of the store, not a failure. */
const storeReason = (error: unknown): DependencyReason | null => (isLimiterResult(error) ? null : 'rate_limit_store_error');

/** Runs a limiter call with a deadline; store failures and timeouts become 503 (fail closed). */
export function withDeadline<T>(call: () => Promise<T>, timeoutMs: number, operation = 'consume'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = startDeadline(timeoutMs, () => reject(dependencyUnavailable('rate_limit_store_timeout')), { unref: true });
    observeDependency('rate_limit_store', operation, undefined, call, storeReason).then(
      (value) => {
        timer.clear();
        resolve(value);
      },
      (error: unknown) => {
        timer.clear();
        if (isLimiterResult(error) || isAuthError(error)) reject(error);
        else reject(dependencyUnavailable('rate_limit_store_error', error));
      },
    );
  });
}

/** Caches one limiter per config; creation may be async (dynamic import). */
export function lazyLimiter(factory: LimiterFactory, config: LimiterConfig): () => Promise<LimiterLike> {
  let pending: Promise<LimiterLike> | undefined;
  return () => {
    pending ??= Promise.resolve(factory(config)).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** Options for {@link rateLimit}. */
export interface RateLimitOptions extends RateLimitRule, ObservableOptions {
  /**
   * Route or limit name (default `default`). With a shared store (Redis), limiters with the same
   * name share counters; in memory each instance counts alone, so reuse one middleware instead.
   */
  readonly name?: string;
  /** Limits per kind of principal; `anonymous` applies to requests without a principal. */
  readonly byKind?: Partial<Record<PrincipalKind | 'anonymous', RateLimitRule>>;
  /** Counter namespace (default `authnz:rl:`); use one per application. */
  readonly keyPrefix?: string;
  /** Overrides the key (default: `p:<scheme>:<subject>` or `ip:<address>`, see {@link rateLimitKey}). */
  readonly keyOf?: (req: IncomingMessage) => string;
  /**
   * Prefix length an anonymous IPv6 client is counted by (default 64; integer 1–128): one host
   * usually owns a whole /64, so counting single addresses would give it 2^64 budgets. `128` counts
   * each address on its own. IPv4 and IPv4-mapped clients are counted per address.
   */
  readonly ipv6Subnet?: number;
  /** Builds limiters (default: in-memory). */
  readonly factory?: LimiterFactory;
  /** Deadline for the store in ms (default 250; finite, > 0); exceeding it answers 503. */
  readonly timeoutMs?: number;
}

const WHERE = 'rateLimit()';
const KNOWN = optionNames<RateLimitOptions>()({
  limit: 1,
  windowSeconds: 1,
  name: 1,
  byKind: 1,
  keyPrefix: 1,
  keyOf: 1,
  ipv6Subnet: 1,
  factory: 1,
  timeoutMs: 1,
  logger: 1,
  validate: 1,
});
const KINDS = ['service', 'user', 'anonymous'] as const;

/**
 * The start-up checks `rateLimit()` and `bruteForce()` share: the options object, unknown names and
 * a limiter factory (the default needs rate-limiter-flexible, checked now rather than 503 per request).
 */
export function checkLimiterOptions<T extends ObservableOptions & { readonly factory?: LimiterFactory }>(
  options: T | undefined,
  where: string,
  known: readonly string[],
  optional: boolean,
): { options: T; warnings: Warnings; factory: LimiterFactory } {
  const checked = optionsObject(options, where, optional);
  const warnings = new Warnings(where, checked);
  warnings.unknownOptions(checked, known);
  const factory =
    functionOption<LimiterFactory>(checked.factory, where, 'factory', 'a function (config) => limiter') ?? memoryLimiterFactory;
  if (factory === memoryLimiterFactory) requirePeer('rate-limiter-flexible', where, 'the default in-memory limiter');
  return { options: checked, warnings, factory };
}

/**
 * Warns (`limiter_in_request`) when an in-memory limiter is built under a counter namespace another
 * one in this process already uses: in memory each instance counts alone, so the two keep separate
 * counters, and a limiter built inside a request handler starts from zero on every request.
 */
export function noteNamespace(warnings: Warnings, factory: LimiterFactory, namespace: string): void {
  if (factory !== memoryLimiterFactory || !memoryNamespaceUsedBefore(namespace)) return;
  warnings.warn(
    'limiter_in_request',
    `another in-memory limiter of this process already counts under "${namespace}": each instance keeps its own counters, so a limiter built inside a request handler starts from zero on every request; build it once, at start-up, and reuse it (or give each its own name or keyPrefix)`,
    { namespace },
  );
}

/**
 * The default key: the principal (scheme + subject) or, for anonymous requests, the client address
 * (`req.ip`), an IPv6 address cut to its `ipv6Subnet`-bit prefix (default 64).
 */
export function rateLimitKey(req: IncomingMessage, ipv6Subnet: number = DEFAULT_IPV6_SUBNET): string {
  return keyWith(req, (address) => addressKey(address, ipv6Subnet));
}

function keyWith(req: IncomingMessage, ofAddress: (address: string) => string): string {
  const principal = (req as IncomingMessage & { principal?: Principal }).principal;
  if (principal) return `p:${principal.scheme}:${principal.subject}`;
  return `ip:${ofAddress(clientAddress(req as unknown as AuthRequest))}`;
}

function validRule(rule: RateLimitRule, path: string): RateLimitRule {
  if (typeof rule !== 'object' || rule === null) throw optionError(WHERE, path.slice(0, -1), 'an object { limit, windowSeconds }');
  return {
    limit: positiveInteger(rule.limit, undefined, WHERE, `${path}limit`),
    windowSeconds: positive(rule.windowSeconds, undefined, WHERE, `${path}windowSeconds`),
  };
}

/** One rule in use: its limit, the `RateLimit-Policy` field value, and its counters. */
interface ActiveRule {
  readonly rule: RateLimitRule;
  /** The policy's name as a structured-field string, e.g. `"reports.user"`. */
  readonly policyName: string;
  /** The `RateLimit-Policy` field (IETF draft-ietf-httpapi-ratelimit-headers-08). */
  readonly policy: string;
  readonly get: () => Promise<LimiterLike>;
}

/** A name as a structured-field string (RFC 8941 §3.3.3): printable ASCII, `\` and `"` escaped. */
const sfString = (name: string): string => `"${name.replace(/[^\x20-\x7e]/g, '').replace(/[\\"]/g, '\\$&')}"`;

/**
 * Writes the draft-6 fields (`RateLimit-Limit`, `-Remaining`, `-Reset`) and the draft-8 ones
 * (`RateLimit-Policy: "<name>";q=<limit>;w=<seconds>`, `RateLimit: "<name>";r=<remaining>;t=<seconds>`).
 * @returns the seconds until the window resets.
 */
function setHeaders(res: ServerResponse, active: ActiveRule, result: LimiterResult): number {
  const reset = Math.max(0, Math.ceil(result.msBeforeNext / 1000));
  const remaining = Math.max(0, result.remainingPoints);
  res.setHeader('RateLimit-Limit', String(active.rule.limit));
  res.setHeader('RateLimit-Remaining', String(remaining));
  res.setHeader('RateLimit-Reset', String(reset));
  res.setHeader('RateLimit-Policy', active.policy);
  res.setHeader('RateLimit', `${active.policyName};r=${remaining};t=${reset}`);
  return reset;
}

/**
 * Limits requests per principal. Every answer carries `RateLimit-Limit`, `-Remaining`, `-Reset` and
 * the IETF `RateLimit` / `RateLimit-Policy` fields (draft 8); over the limit, 429 `rate_limited` with
 * `Retry-After`; 503 when the counter store does not answer.
 * @example app.get('/reports', authenticate([apiKeyScheme({ manager })]), rateLimit({ name: 'reports', limit: 60, windowSeconds: 60, byKind: { user: { limit: 10, windowSeconds: 60 } } }), h)
 * @throws TypeError `rateLimit(): "<option>" must be …` for missing or bad limits, an unknown kind
 *   in `byKind`, and when the default limiter's package (rate-limiter-flexible) is not installed.
 */
export function rateLimit(options: RateLimitOptions): Middleware {
  const { warnings, factory } = checkLimiterOptions(options, WHERE, KNOWN, false);
  const name = stringOption(options.name, 'default', WHERE, 'name');
  const prefix = stringOption(options.keyPrefix, 'authnz:rl:', WHERE, 'keyPrefix');
  const { ofAddress } = subnetKeyOf(options.ipv6Subnet, WHERE);
  const keyOf =
    functionOption<(req: IncomingMessage) => string>(options.keyOf, WHERE, 'keyOf', 'a function (req) => string') ??
    ((req: IncomingMessage): string => keyWith(req, ofAddress));
  const timeoutMs = positive(options.timeoutMs, 250, WHERE, 'timeoutMs');
  const defaultRule = validRule(options, '');
  noteNamespace(warnings, factory, `${prefix}${name}`);
  const limiters = new Map<string, ActiveRule>();
  const makeLimiter = (ruleName: string, rule: RateLimitRule): ActiveRule => {
    const policyName = sfString(ruleName === 'default' ? name : `${name}.${ruleName}`);
    return {
      rule,
      policyName,
      policy: `${policyName};q=${rule.limit};w=${Math.ceil(rule.windowSeconds)}`,
      get: lazyLimiter(factory, { keyPrefix: `${prefix}${name}:${ruleName}`, limit: rule.limit, windowSeconds: rule.windowSeconds }),
    };
  };
  limiters.set('default', makeLimiter('default', defaultRule));
  for (const [kind, rule] of Object.entries(options.byKind ?? {})) {
    enumOption(kind, KINDS, undefined, WHERE, 'byKind key');
    if (rule) limiters.set(kind, makeLimiter(kind, validRule(rule, `byKind.${kind}.`)));
  }
  let proxyChecked = !warnings.enabled('xff_without_trust_proxy');

  return (req, res, next) => {
    if (!proxyChecked) proxyChecked = checkForwardedFor(warnings, req);
    const principal = (req as IncomingMessage & { principal?: Principal }).principal;
    const chosen = limiters.get(principal ? principal.kind : 'anonymous') ?? (limiters.get('default') as ActiveRule);
    const key = keyOf(req);
    withDeadline(async () => (await chosen.get()).consume(key, 1), timeoutMs).then(
      (result) => {
        setHeaders(res, chosen, result);
        next();
      },
      (error: unknown) => {
        if (isLimiterResult(error)) {
          const reset = setHeaders(res, chosen, error);
          writeProblem(
            new AuthError('rate_limited', {
              reason: 'rate_limited',
              detail: 'Too many requests; retry later.',
              retryAfter: Math.max(1, reset),
            }),
            res,
            [],
          );
          return;
        }
        const failure = isAuthError(error) ? error : dependencyUnavailable('rate_limit_store_error', error);
        warnings.dependencyFailed(
          'rate_limit_store',
          failure.reason ?? 'rate_limit_store_error',
          'the rate-limit store did not answer; requests get 503',
          failure.cause,
        );
        writeProblem(failure, res, []);
      },
    );
  };
}
