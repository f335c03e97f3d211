/**
 * A per-client budget of upstream calls before authentication. Schemes that call out to check a
 * credential (kmsauth → KMS Decrypt, introspection → the authorization server, authnzerver) spend one
 * unit per call they cannot answer from a cache; a client that has spent its budget in the window
 * gets 429 without a call. Without it, a flood of random well-formed tokens from one address becomes
 * one upstream call each: KMS throttling on a shared AWS quota, then 503 for everyone.
 */
import { isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import { AuthError } from '../errors.js';
import { numberOption, optionNames, optionsObject, positive, positiveInteger, functionOption } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';
import { clientAddress, type AuthRequest } from '../scheme.js';

/** The IPv6 prefix length clients are keyed by unless configured: one /64 is one subscriber's LAN. */
export const DEFAULT_IPV6_SUBNET = 64;

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const bare = address.split('%')[0] ?? '';
  if (!isIPv6(bare)) return undefined;
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [Number.parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = bare.split('::');
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/**
 * The key of a client address: an IPv6 address is cut to its first `prefixLength` bits (a client
 * that rotates addresses inside its /64 keeps one budget), an IPv4 address, also IPv4-mapped IPv6,
 * is kept whole. Anything else is returned as given.
 */
export function addressKey(address: string, prefixLength: number): string {
  const groups = ipv6Groups(address);
  if (groups === undefined) return address;
  if (groups.slice(0, 6).join() === '0,0,0,0,0,65535') return [groups[6] ?? 0, groups[7] ?? 0].flatMap((g) => [g >> 8, g & 255]).join('.');
  const masked = groups.map((g, i) => {
    const bits = Math.min(16, Math.max(0, prefixLength - i * 16));
    return g & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${masked.map((g) => g.toString(16)).join(':')}/${prefixLength}`;
}

/**
 * Checks an `ipv6Subnet` option and answers the default client key it implies: the client address
 * (`req.ip`), IPv6 addresses cut to that prefix.
 * @throws TypeError `<where>: "ipv6Subnet" must be an integer from 1 to 128`.
 */
export function subnetKeyOf(
  ipv6Subnet: unknown,
  where: string,
): { keyOf: (req: AuthRequest) => string; ofAddress: (address: string) => string } {
  const prefixLength = numberOption(ipv6Subnet, DEFAULT_IPV6_SUBNET, where, 'ipv6Subnet', { integer: true, min: 1, max: 128 });
  const ofAddress = (address: string): string => addressKey(address, prefixLength);
  return { keyOf: (req) => ofAddress(clientAddress(req)), ofAddress };
}

/** Options of {@link preAuthLimit}. */
export interface PreAuthLimitOptions extends ObservableOptions {
  /** Upstream calls one client may cause per window (default 30; integer >= 1). */
  readonly limit?: number;
  /** Window length, seconds (default 60; > 0). */
  readonly windowSeconds?: number;
  /**
   * The client's key (default: its address, `req.ip`, IPv6 addresses cut to their `ipv6Subnet` — set
   * Express's `trust proxy` behind a proxy, or every client shares the proxy's budget).
   */
  readonly key?: (req: AuthRequest) => string;
  /**
   * Prefix length IPv6 clients are keyed by with the default key (default 64: a client rotating
   * addresses inside its /64 keeps one budget; 128 keys each address; an integer from 1 to 128).
   */
  readonly ipv6Subnet?: number;
  /** Most clients tracked at once (default 10 000; integer >= 1); the least recently seen are forgotten first. */
  readonly maxEntries?: number;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

/** A budget shared by the schemes it is passed to. */
export interface PreAuthLimiter {
  /**
   * The spending function for one request: call it right before an upstream call.
   * @throws AuthError 429 `rate_limited` (reason `pre_auth_limit`, with Retry-After) once the
   *   client's budget for the window is spent.
   */
  forRequest(req: AuthRequest): () => void;
}

const WHERE = 'preAuthLimit()';
const KNOWN = optionNames<PreAuthLimitOptions>()({
  limit: 1,
  windowSeconds: 1,
  key: 1,
  ipv6Subnet: 1,
  maxEntries: 1,
  clock: 1,
  logger: 1,
  validate: 1,
});

/**
 * Builds a per-process budget (fixed windows per client key, bounded memory). Pass the same limiter
 * to several schemes to give each client one budget across them.
 * @throws TypeError `preAuthLimit(): "<option>" must be …` for a `limit`, `windowSeconds`,
 *   `maxEntries` or `ipv6Subnet` out of range.
 * @example kmsauthScheme({ validator, preAuthLimit: preAuthLimit({ limit: 20, windowSeconds: 60 }) })
 */
export function preAuthLimit(input: PreAuthLimitOptions = {}): PreAuthLimiter {
  const options = optionsObject(input, WHERE, true);
  new Warnings(WHERE, options).unknownOptions(options, KNOWN);
  const max = positiveInteger(options.limit, 30, WHERE, 'limit');
  const windowMs = positive(options.windowSeconds, 60, WHERE, 'windowSeconds') * 1000;
  const maxEntries = positiveInteger(options.maxEntries, 10_000, WHERE, 'maxEntries');
  const clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
  const keyOf =
    functionOption<(req: AuthRequest) => string>(options.key, WHERE, 'key', 'a function (req) => string') ??
    subnetKeyOf(options.ipv6Subnet, WHERE).keyOf;
  const windows = new LRUCache<string, { start: number; used: number }>({ max: maxEntries });
  return {
    forRequest(req) {
      return () => {
        const key = keyOf(req);
        const now = clock();
        let w = windows.get(key);
        if (w === undefined || now - w.start >= windowMs) {
          w = { start: now, used: 0 };
          windows.set(key, w);
        }
        if (w.used >= max) {
          throw new AuthError('rate_limited', {
            reason: 'pre_auth_limit',
            detail: 'Too many credentials to check from this client; try again later.',
            retryAfter: Math.max(1, Math.ceil((w.start + windowMs - now) / 1000)),
          });
        }
        w.used++;
      };
    },
  };
}
