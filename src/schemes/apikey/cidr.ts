/** Client IP binding: IPv4/IPv6 CIDR ranges checked with node:net's BlockList. */
import { BlockList, isIP } from 'node:net';
import { configurationError } from '../../lib/options.js';

/** Parses `a.b.c.d/n`, `x::y/n` or a bare address into family, network and prefix length. */
function parseCidr(cidr: string, where: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const slash = cidr.indexOf('/');
  const address = slash === -1 ? cidr : cidr.slice(0, slash);
  const version = isIP(address);
  if (version === 0) throw configurationError(where, `invalid CIDR range: ${cidr}`);
  const max = version === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) throw configurationError(where, `invalid CIDR prefix length: ${cidr}`);
  return { address, prefix: Number(prefixText), family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Throws a TypeError naming the first invalid range; returns the list unchanged otherwise. */
export function validateCidrs(cidrs: readonly string[]): readonly string[] {
  for (const c of cidrs) parseCidr(c, 'validateCidrs()');
  return cidrs;
}

/**
 * Builds a matcher for the ranges. IPv4-mapped IPv6 client addresses (`::ffff:203.0.113.7`, as Node
 * reports IPv4 clients on dual-stack sockets) match IPv4 ranges.
 */
export function cidrMatcher(cidrs: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const c of cidrs) {
    const { address, prefix, family } = parseCidr(c, 'cidrMatcher()');
    list.addSubnet(address, prefix, family);
  }
  return (ip) => {
    const candidate = unmapIp(ip);
    const version = isIP(candidate);
    if (version === 0) return false;
    return list.check(candidate, version === 4 ? 'ipv4' : 'ipv6');
  };
}

/** An IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, as dual-stack sockets report IPv4 clients) as plain IPv4; others unchanged. */
export function unmapIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? (mapped[1] as string) : ip;
}

/**
 * True when two addresses name the same host: IPv4-mapped IPv6 equals its IPv4 form, and IPv6
 * spellings compare by value (`2001:db8::1` = `2001:DB8:0:0::1`). Non-addresses never match.
 */
export function sameIp(a: string, b: string): boolean {
  const x = unmapIp(a);
  const y = unmapIp(b);
  const version = isIP(x);
  if (version === 0 || isIP(y) !== version) return false;
  const list = new BlockList();
  list.addAddress(x, version === 4 ? 'ipv4' : 'ipv6');
  return list.check(y, version === 4 ? 'ipv4' : 'ipv6');
}
