/**
 * The one answer to "which verified client certificate did this request present?": from the TLS
 * socket when Node terminates TLS (only an `authorized` socket counts), or from one forwarded
 * header that the operator names, accepted only from the operator's trusted proxy addresses.
 * Used by `clientCertificateScheme()` and by the schemes that check certificate-bound tokens
 * (RFC 8705 §3), so both read the same certificate the same way.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { createHash, X509Certificate } from 'node:crypto';
import { AuthError, malformedRequest } from '../errors.js';
import type { AuthRequest } from '../scheme.js';
import { describeValue, enumOption, optionError, stringOption } from './options.js';
import { subjectAltNames, type ReadSubjectAltNames } from './x509.js';

/**
 * Where the client certificate comes from:
 * - `socket`: the TLS connection Node terminated (`https.createServer({ requestCert: true, ca })`);
 * - `xfcc`: Envoy's `x-forwarded-client-cert` (the `Cert=` of its last element, URL-encoded PEM);
 * - `escaped-pem`: one header holding URL-encoded PEM (nginx `$ssl_client_escaped_cert`);
 * - `rfc9440`: the `Client-Cert` / `Client-Cert-Chain` fields of RFC 9440 (DER in byte sequences).
 */
export type ClientCertificateSource = 'socket' | 'xfcc' | 'escaped-pem' | 'rfc9440';

/** Which proxies may forward a certificate: addresses and CIDR blocks, or a predicate on the peer address. */
export type TrustedProxies = readonly string[] | ((address: string) => boolean);

/** Options naming where a request's client certificate is read. */
export interface ClientCertificateSourceOptions {
  /** Where the certificate comes from; default `socket`. */
  readonly source?: ClientCertificateSource;
  /**
   * The header of a forwarded certificate, lower case: default `x-forwarded-client-cert` (`xfcc`),
   * `x-ssl-client-cert` (`escaped-pem`); `rfc9440` always reads `client-cert` and `client-cert-chain`.
   */
  readonly headerName?: string;
  /**
   * Required with a header source: the addresses (`10.0.0.7`, `::1`) and CIDR blocks (`10.0.0.0/8`)
   * of the proxies that terminate TLS and set the header, or a predicate on the immediate peer's
   * address (e.g. `(a) => app.get('trust proxy fn')(a, 0)` to reuse Express's `trust proxy`). The
   * header from any other peer is refused with 400, never read.
   */
  readonly trustedProxies?: TrustedProxies;
}

/** A client certificate the request presented, verified by the TLS stack or forwarded by a trusted proxy. */
export interface PresentedCertificate {
  /** The end-entity certificate. */
  readonly certificate: X509Certificate;
  /** The issuers (nearest first): from the socket, the chain the TLS stack verified; from a header, what the proxy sent (often none). */
  readonly chain: readonly X509Certificate[];
  /** RFC 8705 §3.1 `x5t#S256`: base64url SHA-256 of the certificate's DER. */
  readonly thumbprint: string;
  /** Start of validity, epoch seconds. */
  readonly notBefore: number;
  /** End of validity, epoch seconds. */
  readonly notAfter: number;
  /** The subjectAltName entries, read from the DER. */
  readonly names: ReadSubjectAltNames;
  /** Where it was read. */
  readonly source: ClientCertificateSource;
}

/** Reads the client certificate of a request, as configured. */
export interface ClientCertificateReader {
  /** The configured source. */
  readonly source: ClientCertificateSource;
  /**
   * The request's client certificate, or undefined when it presented none. Parsed once per request.
   * @throws AuthError 401 `token_invalid` (`certificate_untrusted`) for a certificate on a TLS
   *   socket that did not authorize it; 400 `request_malformed` (`certificate_header_untrusted`)
   *   for the forwarded header from a peer that is not a trusted proxy, and
   *   (`certificate_header_malformed`) for a header that does not hold exactly one certificate.
   */
  read(req: AuthRequest): PresentedCertificate | undefined;
  /** Whether the request carries a certificate of this source (present, not verified); cheap. */
  present(req: AuthRequest): boolean;
}

/** RFC 8705 §3.1: the `x5t#S256` of a certificate (base64url SHA-256 of its DER). */
export function certificateThumbprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

/** What Node's TLS socket offers; read when the socket has it. */
interface TlsSocketLike {
  readonly remoteAddress?: string | undefined;
  readonly authorized?: boolean;
  readonly authorizationError?: Error | null;
  getPeerX509Certificate?(): X509Certificate | undefined;
  getPeerCertificate?(detailed: true): PeerCertificateLike | null;
}
interface PeerCertificateLike {
  readonly raw?: Buffer;
  readonly issuerCertificate?: PeerCertificateLike;
}

const SOURCES = ['socket', 'xfcc', 'escaped-pem', 'rfc9440'] as const;
const DEFAULT_HEADER: Readonly<Record<ClientCertificateSource, string>> = {
  socket: '',
  xfcc: 'x-forwarded-client-cert',
  'escaped-pem': 'x-ssl-client-cert',
  rfc9440: 'client-cert',
};

const malformed = (detail: string): AuthError => malformedRequest('certificate_header_malformed', detail);

/** The peer address as BlockList checks it: IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as IPv4. */
function plainAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const text = mapped ? (mapped[1] as string) : address;
  if (isIPv4(text)) return { address: text, family: 'ipv4' };
  if (isIPv6(text)) return { address: text, family: 'ipv6' };
  return undefined;
}

/** The `trustedProxies` option as a predicate. @throws TypeError for an entry that is no address or CIDR block. */
function trustPredicate(value: unknown, where: string, at = ''): (address: string) => boolean {
  if (typeof value === 'function') return (address) => (value as (address: string) => unknown)(address) === true;
  const expected = 'a non-empty list of IP addresses and CIDR blocks, or a function (address) => boolean';
  if (!Array.isArray(value) || value.length === 0)
    throw optionError(where, `${at}trustedProxies`, expected, Array.isArray(value) ? 'an empty array' : describeValue(value));
  const list = new BlockList();
  for (const entry of value as unknown[]) {
    const m = typeof entry === 'string' ? /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry) : null;
    const ip = m ? plainAddress(m[1] as string) : undefined;
    const prefix = m?.[2] === undefined ? undefined : Number(m[2]);
    if (ip === undefined || (prefix !== undefined && prefix > (ip.family === 'ipv4' ? 32 : 128)))
      throw optionError(where, `${at}trustedProxies`, expected, 'an array with another entry');
    if (prefix === undefined) list.addAddress(ip.address, ip.family);
    else list.addSubnet(ip.address, prefix, ip.family);
  }
  return (address) => {
    const ip = plainAddress(address);
    return ip !== undefined && list.check(ip.address, ip.family);
  };
}

/** How many times the raw header list holds `name` (lower case); Node folds repeats in `headers`. */
function headerCount(req: AuthRequest, name: string): number {
  const raw = req.rawHeaders;
  if (!raw) return req.headers[name] === undefined ? 0 : 1;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === name) n++;
  return n;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/** Every certificate of a PEM text that holds certificates and whitespace only. */
function pemCertificates(text: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  const rest = text.replace(PEM_BLOCK, (_, body: string) => {
    out.push(derCertificate(Buffer.from(body.replace(/\s+/g, ''), 'base64')));
    return '';
  });
  if (rest.trim() !== '') throw malformed('The forwarded certificate is not PEM.');
  return out;
}

function derCertificate(der: Buffer): X509Certificate {
  try {
    const certificate = new X509Certificate(der);
    // Trailing bytes after the certificate are not one certificate.
    if (!certificate.raw.equals(der)) throw new Error('trailing data');
    return certificate;
  } catch {
    throw malformed('The forwarded certificate is not an X.509 certificate.');
  }
}

function urlDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw malformed('The forwarded certificate is not valid URL encoding.');
  }
}

/**
 * Envoy's x-forwarded-client-cert: elements separated by `,`, each `key=value` pairs separated by
 * `;`, values optionally in double quotes (with `\"` inside). Keys in lower case.
 */
export function parseXfcc(header: string): Array<Map<string, string>> {
  const elements: Array<Map<string, string>> = [];
  let pairs = new Map<string, string>();
  let token = '';
  let key: string | undefined;
  let quoted = false;
  let wasQuoted = false;
  const endPair = (): void => {
    if (key === undefined) {
      if (token.trim() !== '' || wasQuoted) throw malformed('The x-forwarded-client-cert header has a pair without "=".');
    } else {
      const k = key.trim().toLowerCase();
      if (k === '' || (pairs.has(k) && k !== 'uri' && k !== 'dns')) throw malformed('The x-forwarded-client-cert header repeats a key.');
      // URI and DNS may repeat (one per SAN); the last wins here, the certificate itself is read later.
      pairs.set(k, wasQuoted ? token : token.trim());
    }
    token = '';
    key = undefined;
    wasQuoted = false;
  };
  for (let i = 0; i < header.length; i++) {
    const c = header[i] as string;
    if (quoted) {
      if (c === '\\' && i + 1 < header.length) token += header[++i];
      else if (c === '"') quoted = false;
      else token += c;
    } else if (c === '"' && key !== undefined && token.trim() === '') {
      quoted = true;
      wasQuoted = true;
      token = '';
    } else if (c === '=' && key === undefined) {
      key = token;
      token = '';
    } else if (c === ';') endPair();
    else if (c === ',') {
      endPair();
      elements.push(pairs);
      pairs = new Map();
    } else if (!wasQuoted) token += c;
    else if (c !== ' ' && c !== '\t') throw malformed('The x-forwarded-client-cert header has text after a quoted value.');
  }
  if (quoted) throw malformed('The x-forwarded-client-cert header has an unterminated quote.');
  endPair();
  elements.push(pairs);
  if (elements.some((e) => e.size === 0)) throw malformed('The x-forwarded-client-cert header has an empty element.');
  return elements;
}

/** RFC 8941 §3.3.5 byte sequence `:base64:`, decoded. */
function byteSequence(item: string): Buffer {
  const m = /^:([A-Za-z0-9+/]*={0,2}):$/.exec(item.trim());
  if (m === null || (m[1] as string).length % 4 !== 0) throw malformed('The Client-Cert field is not a byte sequence (:base64:).');
  return Buffer.from(m[1] as string, 'base64');
}

function headerText(req: AuthRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** End-entity certificate and chain from the configured header; undefined when the header is absent or empty. */
function fromHeader(req: AuthRequest, source: Exclude<ClientCertificateSource, 'socket'>, name: string): X509Certificate[] | undefined {
  const text = headerText(req, name);
  if (text === undefined || text.trim() === '') return undefined;
  // A proxy sends one field (Envoy merges its XFCC element into the one it forwards); a second
  // line is a client's that the proxy did not strip, and which of the two Node lists last is not ours to guess.
  if (headerCount(req, name) > 1) throw malformed(`Send one ${name} header.`);
  switch (source) {
    case 'xfcc': {
      // The last element is the one the nearest proxy added (Envoy appends).
      const last = parseXfcc(text).at(-1) as Map<string, string>;
      const cert = last.get('cert');
      if (cert === undefined)
        throw malformed('The x-forwarded-client-cert element has no Cert= (set_current_client_cert_details: cert: true).');
      const [leaf, ...extra] = pemCertificates(urlDecoded(cert));
      if (leaf === undefined || extra.length > 0) throw malformed('The x-forwarded-client-cert Cert= must hold one certificate.');
      const hash = last.get('hash');
      if (hash !== undefined && hash.toLowerCase() !== createHash('sha256').update(leaf.raw).digest('hex'))
        throw malformed('The x-forwarded-client-cert Hash= is not the SHA-256 of its Cert=.');
      const chain = last.get('chain');
      return [leaf, ...(chain === undefined ? [] : pemCertificates(urlDecoded(chain)).filter((c) => !c.raw.equals(leaf.raw)))];
    }
    case 'escaped-pem': {
      const certificates = pemCertificates(urlDecoded(text));
      if (certificates.length !== 1) throw malformed(`The ${name} header must hold one certificate.`);
      return certificates;
    }
    case 'rfc9440': {
      const leaf = derCertificate(byteSequence(text));
      const chainText = headerText(req, 'client-cert-chain');
      const chain =
        chainText === undefined || chainText.trim() === '' ? [] : chainText.split(',').map((item) => derCertificate(byteSequence(item)));
      return [leaf, ...chain];
    }
  }
}

function fromSocket(req: AuthRequest): X509Certificate[] | undefined {
  const socket = req.socket as TlsSocketLike | undefined;
  if (socket === undefined || typeof socket.getPeerX509Certificate !== 'function') return undefined;
  const leaf = socket.getPeerX509Certificate();
  if (leaf === undefined) return undefined;
  if (socket.authorized !== true) {
    throw new AuthError('token_invalid', {
      reason: 'certificate_untrusted',
      detail: 'The client certificate was not issued by a CA this service trusts, or is not valid now.',
      cause: socket.authorizationError ?? undefined,
    });
  }
  const chain: X509Certificate[] = [];
  const seen = new Set<PeerCertificateLike>();
  let next = socket.getPeerCertificate?.(true)?.issuerCertificate;
  // OpenSSL's detailed peer certificate ends at a self-issued one that points at itself.
  while (next?.raw !== undefined && !seen.has(next) && !next.raw.equals(leaf.raw)) {
    seen.add(next);
    chain.push(new X509Certificate(next.raw));
    next = next.issuerCertificate;
  }
  return [leaf, ...chain];
}

function epochSeconds(text: string): number {
  return Math.floor(Date.parse(text) / 1000);
}

/**
 * Builds the reader for one configuration; its options are checked here, `where` names the
 * factory in the messages of their TypeErrors, and `at` prefixes the option names when they are
 * nested (e.g. `clientCertificate.`).
 * @throws TypeError for an unknown source, a header source without `trustedProxies`, or a bad entry.
 */
export function clientCertificateReader(
  options: ClientCertificateSourceOptions,
  where = 'clientCertificateReader()',
  at = '',
): ClientCertificateReader {
  const source = enumOption(options.source, SOURCES, 'socket', where, `${at}source`);
  const headerName = stringOption(options.headerName, DEFAULT_HEADER[source], where, `${at}headerName`).toLowerCase();
  if (source === 'socket' && (options.trustedProxies !== undefined || options.headerName !== undefined))
    throw optionError(where, `${at}${options.headerName !== undefined ? 'headerName' : 'trustedProxies'}`, 'absent with source "socket"');
  if (source !== 'socket' && !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(headerName))
    throw optionError(where, `${at}headerName`, 'an HTTP field name', 'a string');
  const trusted = source === 'socket' ? undefined : trustPredicate(options.trustedProxies, where, at);
  const cache = new WeakMap<AuthRequest, PresentedCertificate | null>();

  const certificates = (req: AuthRequest): X509Certificate[] | undefined => {
    if (trusted === undefined || source === 'socket') return fromSocket(req);
    if (headerCount(req, headerName) === 0 && (source !== 'rfc9440' || headerCount(req, 'client-cert-chain') === 0)) return undefined;
    const peer = req.socket?.remoteAddress;
    if (peer === undefined || !trusted(peer)) {
      throw malformedRequest(
        'certificate_header_untrusted',
        'A forwarded client certificate header came from an address that is not a trusted proxy.',
      );
    }
    if (source === 'rfc9440' && headerText(req, headerName) === undefined) throw malformed('Client-Cert-Chain without Client-Cert.');
    return fromHeader(req, source, headerName);
  };

  return {
    source,
    read(req) {
      const cached = cache.get(req);
      if (cached !== undefined) return cached ?? undefined;
      const found = certificates(req);
      if (found === undefined) {
        cache.set(req, null);
        return undefined;
      }
      const [certificate, ...chain] = found as [X509Certificate, ...X509Certificate[]];
      let names: ReadSubjectAltNames;
      try {
        const read = subjectAltNames(certificate);
        // Frozen: principals carry these lists, and principals are immutable.
        names = Object.freeze({
          dns: Object.freeze(read.dns),
          ip: Object.freeze(read.ip),
          uri: Object.freeze(read.uri),
          email: Object.freeze(read.email),
          other: read.other,
        });
      } catch (cause) {
        if (source !== 'socket') throw malformed('The forwarded certificate has a subjectAltName this service cannot read.');
        throw new AuthError('token_invalid', { reason: 'certificate_untrusted', detail: 'The client certificate cannot be read.', cause });
      }
      const presented: PresentedCertificate = Object.freeze({
        certificate,
        chain: Object.freeze(chain),
        thumbprint: certificateThumbprint(certificate),
        notBefore: epochSeconds(certificate.validFrom),
        notAfter: epochSeconds(certificate.validTo),
        names,
        source,
      });
      cache.set(req, presented);
      return presented;
    },
    present(req) {
      if (trusted !== undefined)
        return headerCount(req, headerName) > 0 || (source === 'rfc9440' && headerCount(req, 'client-cert-chain') > 0);
      const socket = req.socket as TlsSocketLike | undefined;
      return typeof socket?.getPeerX509Certificate === 'function' && socket.getPeerX509Certificate() !== undefined;
    },
  };
}
