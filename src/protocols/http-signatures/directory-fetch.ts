/**
 * The one outbound GET of a key directory named by a request (`Signature-Agent`): the URL is
 * chosen by the client, so the fetch is the place a server-side request forgery would happen. It
 * resolves the name itself, refuses private, loopback, link-local, unique-local and mapped
 * addresses (every answer, not only the first), and connects to the address it checked, so a
 * second DNS answer cannot swap it between check and connect. https only, no redirect followed
 * (a 3xx is a refusal), one deadline over lookup, connect and body, and a byte cap on the body.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { AuthnzError } from '../../errors.js';
import { brandedGuard } from '../../lib/brand.js';

/** One address a name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has (the default uses the system resolver). */
export type DirectoryLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** Transport options of a directory fetch. */
export interface DirectoryFetchOptions {
  /** One deadline over DNS, connect, TLS and the whole body, in ms. */
  readonly timeoutMs: number;
  /** Largest accepted body, in bytes. */
  readonly maxBytes: number;
  /** Fetch from private, loopback, link-local and unique-local addresses too (tests, private deployments). */
  readonly allowPrivateAddresses: boolean;
  /** PEM certificates trusted in addition to Node's root certificates (a private CA). */
  readonly extraCa: readonly string[];
  /** The resolver (default: the system's, every address). */
  readonly lookup: DirectoryLookup;
}

/** What refused a directory fetch; each is a stable `code` of {@link DirectoryFetchError}. */
export type DirectoryFetchErrorCode =
  /** The answer was a redirect; redirects are never followed. */
  | 'directory_redirect'
  /** The name resolves to an address outside the public internet. */
  | 'directory_private_address'
  /** The body is larger than `maxBytes`. */
  | 'directory_too_large'
  /** The answer's status is not 200. */
  | 'directory_status'
  /** The URL is not an https URL. */
  | 'directory_not_https'
  /** No answer within `timeoutMs`, or no connection (DNS, TCP, TLS). */
  | 'directory_unreachable';

/** A refused or failed directory fetch. */
export class DirectoryFetchError extends AuthnzError<DirectoryFetchErrorCode> {
  /** The status of the answer, for `directory_status` and `directory_redirect`. */
  readonly status: number | undefined;

  constructor(code: DirectoryFetchErrorCode, message: string, options: { readonly status?: number; readonly cause?: unknown } = {}) {
    super(code, message, options);
    this.status = options.status;
  }
}

/** True for a {@link DirectoryFetchError} from any copy of the library. */
export const isDirectoryFetchError = brandedGuard(DirectoryFetchError, 'DirectoryFetchError');

/** A fetched directory answer: status 200, its headers and its body (at most `maxBytes`). */
export interface DirectoryAnswer {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const PRIVATE_V4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata endpoints
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
];
const PRIVATE_V6: ReadonlyArray<readonly [string, number]> = [
  ['::', 96], // unspecified, loopback, IPv4-compatible (deprecated, routed to the IPv4 address)
  ['64:ff9b:1::', 48], // local-use NAT64: the translator and its IPv4 side are the operator's
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments: Teredo (2001::/32, an IPv4 address inside), ORCHID
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['5f00::', 16], // segment routing
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];
const privateRanges = new BlockList();
for (const [net, prefix] of PRIVATE_V4) {
  privateRanges.addSubnet(net, prefix, 'ipv4');
  // Each IPv6 form that carries an IPv4 address and reaches it: mapped, SIIT (RFC 6052's
  // translated form), NAT64 (RFC 6052 well-known prefix) and 6to4 (RFC 3056).
  privateRanges.addSubnet(`::ffff:${net}`, 96 + prefix, 'ipv6');
  privateRanges.addSubnet(`::ffff:0:${net}`, 96 + prefix, 'ipv6');
  privateRanges.addSubnet(`64:ff9b::${net}`, 96 + prefix, 'ipv6');
  const [a, b, c, d] = net.split('.').map(Number) as [number, number, number, number];
  const hex = (high: number, low: number): string => ((high << 8) | low).toString(16);
  privateRanges.addSubnet(`2002:${hex(a, b)}:${hex(c, d)}::`, 16 + prefix, 'ipv6');
}
for (const [net, prefix] of PRIVATE_V6) privateRanges.addSubnet(net, prefix, 'ipv6');

/**
 * True for an address a directory fetch must not reach unless private addresses are allowed:
 * loopback, private (RFC 1918), carrier-grade NAT, link-local, unique-local, multicast, reserved,
 * documentation, benchmarking, and every IPv6 form that carries one of those IPv4 addresses
 * (IPv4-mapped, IPv4-compatible, SIIT, NAT64, 6to4) or hides one (Teredo). Anything that is not an
 * IP address is private too. The address is parsed, not matched as text, so no spelling of it
 * (`0:0:0:0:0:ffff:7f00:1`, `::127.0.0.1`) gets around the check.
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return true;
  return privateRanges.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** The system resolver, every address, in the order it answers. */
export const systemLookup: DirectoryLookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

/** The address to connect to: the literal itself, or the first answer once every answer has passed the check. */
async function checkedAddress(hostname: string, options: DirectoryFetchOptions): Promise<ResolvedAddress> {
  const literal = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(literal);
  let answers: readonly ResolvedAddress[];
  if (family !== 0) answers = [{ address: literal, family: family === 6 ? 6 : 4 }];
  else {
    try {
      answers = await options.lookup(hostname);
    } catch (cause) {
      throw new DirectoryFetchError('directory_unreachable', `the directory host ${hostname} could not be resolved`, { cause });
    }
  }
  const first = answers[0];
  if (first === undefined) throw new DirectoryFetchError('directory_unreachable', `the directory host ${hostname} has no address`);
  // Every answer is checked: a client may connect to any of them, and an attacker controls the order.
  if (!options.allowPrivateAddresses && answers.some((answer) => isPrivateAddress(answer.address)))
    throw new DirectoryFetchError('directory_private_address', `the directory host ${hostname} resolves to a private address`);
  return first;
}

/**
 * GETs `url` under the rules above.
 * @param accept the `Accept` header to send.
 * @throws DirectoryFetchError for every refusal and failure.
 */
export async function fetchDirectory(url: URL, accept: string, options: DirectoryFetchOptions): Promise<DirectoryAnswer> {
  if (url.protocol !== 'https:') throw new DirectoryFetchError('directory_not_https', 'a key directory is fetched over https only');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const target = await Promise.race([
      checkedAddress(url.hostname, options),
      new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () =>
          reject(new DirectoryFetchError('directory_unreachable', `no answer from ${url.host} within ${options.timeoutMs} ms`)),
        );
      }),
    ]);
    return await get(url, target, accept, options, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

function get(
  url: URL,
  target: ResolvedAddress,
  accept: string,
  options: DirectoryFetchOptions,
  signal: AbortSignal,
): Promise<DirectoryAnswer> {
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise<DirectoryAnswer>((resolve, reject) => {
    const request = httpsRequest({
      // Connect to the address that was checked; the certificate is still checked against the name.
      host: target.address,
      family: target.family,
      port: url.port === '' ? 443 : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
      headers: { host: url.host, accept, 'accept-encoding': 'identity' },
      ...(options.extraCa.length > 0 ? { ca: [...rootCertificates, ...options.extraCa] } : {}),
      agent: false,
      signal,
    });
    request.on('error', (cause) => {
      reject(
        cause instanceof DirectoryFetchError
          ? cause
          : new DirectoryFetchError(
              'directory_unreachable',
              signal.aborted
                ? `no answer from ${url.host} within ${options.timeoutMs} ms`
                : `the directory at ${url.host} could not be reached`,
              { cause },
            ),
      );
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      // A promise settles once: the request's own error event after this is ignored.
      const refuse = (error: DirectoryFetchError): void => {
        reject(error);
        response.destroy();
        request.destroy();
      };
      if (status >= 300 && status < 400) {
        refuse(
          new DirectoryFetchError('directory_redirect', `the directory at ${url.host} answered with a redirect (${status})`, { status }),
        );
        return;
      }
      if (status !== 200) {
        refuse(new DirectoryFetchError('directory_status', `the directory at ${url.host} answered ${status}`, { status }));
        return;
      }
      const tooLarge = (): DirectoryFetchError =>
        new DirectoryFetchError('directory_too_large', `the directory at ${url.host} is larger than ${options.maxBytes} bytes`);
      const declared = Number(response.headers['content-length'] ?? Number.NaN);
      if (declared > options.maxBytes) {
        refuse(tooLarge());
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      response.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > options.maxBytes) refuse(tooLarge());
        else chunks.push(chunk);
      });
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks, total) }));
      response.on('error', (cause) =>
        reject(new DirectoryFetchError('directory_unreachable', `the directory at ${url.host} broke off its answer`, { cause })),
      );
    });
    request.end();
  });
}
