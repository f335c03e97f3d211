/**
 * Just enough X.509 for development certificates and for reading a client certificate's names:
 * Node's crypto parses and verifies certificates but cannot write them, and its `subjectAltName`
 * is a display string. The writer makes EC P-256 or Ed25519 certificates with the extensions a
 * TLS client or server certificate and a small CA need (RFC 5280 §4.2.1: basicConstraints,
 * keyUsage, extKeyUsage, subjectAltName, key identifiers); the reader walks a DER certificate to
 * its subjectAltName extension. No dependency: a DER TLV coder of a few dozen lines.
 */
import { createHash, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/* DER writer (X.690 §8, §10): definite lengths, single-byte tags. */

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const octets = (content: Buffer): Buffer => tlv(0x04, content);
const bool = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));

/** A non-negative INTEGER from its big-endian magnitude (a leading zero keeps it positive). */
function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return tlv(0x02, (trimmed[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const part of parts.slice(2)) {
    const base128: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; seconds, `Z`. */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

/** A distinguished name of one common name (and an organisation when given), UTF8String values. */
function dn(commonName: string, organization?: string): Buffer {
  const rdn = (type: string, value: string): Buffer => tlv(0x31, sequence(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))));
  return sequence(...(organization === undefined ? [] : [rdn('2.5.4.10', organization)]), rdn('2.5.4.3', commonName));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** The subject alternative names a certificate can carry here (RFC 5280 §4.2.1.6). */
export interface SubjectAltNames {
  /** `dNSName` entries. */
  readonly dns?: readonly string[];
  /** `iPAddress` entries, as IPv4 or IPv6 text. */
  readonly ip?: readonly string[];
  /** `uniformResourceIdentifier` entries (a SPIFFE ID is one). */
  readonly uri?: readonly string[];
  /** `rfc822Name` entries. */
  readonly email?: readonly string[];
}

function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new TypeError(`not an IP address: ${address}`);
  // Expand `::`, then each group to two bytes (an embedded IPv4 tail becomes two groups).
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
}

function generalNames(names: SubjectAltNames): Buffer {
  const ascii = (tag: number, values: readonly string[] | undefined): Buffer[] =>
    (values ?? []).map((v) => tlv(tag, Buffer.from(v, 'ascii')));
  return sequence(
    ...ascii(0x81, names.email),
    ...ascii(0x82, names.dns),
    ...ascii(0x86, names.uri),
    ...(names.ip ?? []).map((a) => tlv(0x87, ipBytes(a))),
  );
}

/** What {@link createCertificate} makes. */
export interface CertificateInit {
  /** The subject's common name. */
  readonly commonName: string;
  /** The subject's organisation, if any. */
  readonly organization?: string;
  /** The certified public key (EC P-256 or Ed25519 here; any key Node can export as SPKI). */
  readonly publicKey: KeyObject;
  /** The issuer's private key (the subject's own for a self-signed CA): EC P-256 or Ed25519. */
  readonly signingKey: KeyObject;
  /** The issuer's certificate; absent for a self-signed certificate. */
  readonly issuer?: X509Certificate;
  /** A CA certificate (basicConstraints cA, keyCertSign) instead of an end-entity one. */
  readonly ca?: boolean;
  /** A CA's basicConstraints pathLenConstraint: how many intermediate CAs may follow it; default 0. */
  readonly pathLength?: number;
  /** Extended key usages; default both for an end-entity certificate, none (any purpose) for a CA. */
  readonly usages?: readonly ('serverAuth' | 'clientAuth')[];
  /** Subject alternative names. */
  readonly subjectAltNames?: SubjectAltNames;
  /** Start of validity. */
  readonly notBefore: Date;
  /** End of validity. */
  readonly notAfter: Date;
}

const EXTENDED_USAGE = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

function signatureAlgorithm(key: KeyObject): { id: Buffer; sign(data: Buffer): Buffer } {
  if (key.asymmetricKeyType === 'ed25519') return { id: sequence(oid('1.3.101.112')), sign: (data) => sign(null, data, key) };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return { id: sequence(oid('1.2.840.10045.4.3.2')), sign: (data) => sign('sha256', data, { key, dsaEncoding: 'der' }) };
  throw new TypeError('createCertificate(): "signingKey" must be an EC P-256 or Ed25519 private key');
}

/** A key identifier (RFC 5280 §4.2.1.2 allows any unique value): SHA-1 of the SPKI DER. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
}

/**
 * Writes and signs an X.509 v3 certificate (DER wrapped as a Node `X509Certificate`).
 * @throws TypeError for a signing key of another type, or an IP SAN that is no IP address.
 */
export function createCertificate(init: CertificateInit): X509Certificate {
  const algorithm = signatureAlgorithm(init.signingKey);
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01; // positive, 16 bytes, never zero
  const subject = dn(init.commonName, init.organization);
  const issuerName = init.issuer === undefined ? subject : issuerDn(init.issuer);
  const issuerKeyId = keyIdentifier(init.issuer === undefined ? init.publicKey : init.issuer.publicKey);
  const ca = init.ca === true;
  const extensions = [
    extension('2.5.29.19', true, ca ? sequence(bool(true), unsignedInteger(Buffer.from([init.pathLength ?? 0]))) : sequence()),
    // keyUsage BIT STRING: digitalSignature (bit 0); a CA also keyCertSign (5) and cRLSign (6).
    extension('2.5.29.15', true, ca ? tlv(0x03, Buffer.from([0x01, 0x86])) : tlv(0x03, Buffer.from([0x07, 0x80]))),
    extension('2.5.29.14', false, octets(keyIdentifier(init.publicKey))),
    extension('2.5.29.35', false, sequence(tlv(0x80, issuerKeyId))),
  ];
  // A CA gets extKeyUsage only when asked (it then constrains what its chain may be used for).
  if (!ca || init.usages !== undefined) {
    const usages = init.usages ?? ['serverAuth', 'clientAuth'];
    extensions.push(extension('2.5.29.37', false, sequence(...usages.map((u) => oid(EXTENDED_USAGE[u])))));
  }
  const names = init.subjectAltNames;
  if (names !== undefined && [names.dns, names.ip, names.uri, names.email].some((l) => (l ?? []).length > 0))
    extensions.push(extension('2.5.29.17', false, generalNames(names)));
  const tbs = sequence(
    tlv(0xa0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(serial),
    algorithm.id,
    issuerName,
    sequence(time(init.notBefore), time(init.notAfter)),
    subject,
    init.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = algorithm.sign(tbs);
  const der = sequence(tbs, algorithm.id, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return new X509Certificate(der);
}

/* DER reader: enough to walk a certificate that X509Certificate has already parsed. */

interface Element {
  readonly tag: number;
  /** The whole element, header included. */
  readonly raw: Buffer;
  readonly content: Buffer;
}

/** The elements of a constructed value's content, in order. @throws Error on a truncated or indefinite length. */
function children(content: Buffer): Element[] {
  const out: Element[] = [];
  let i = 0;
  while (i < content.length) {
    const tag = content[i] as number;
    let length = content[i + 1];
    let header = 2;
    if (length === undefined) throw new Error('DER: truncated');
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 4) throw new Error('DER: unsupported length');
      length = 0;
      for (let k = 0; k < count; k++) length = length * 256 + (content[i + 2 + k] ?? Number.NaN);
      header += count;
    }
    const end = i + header + length;
    if (!Number.isFinite(end) || end > content.length) throw new Error('DER: truncated');
    out.push({ tag, raw: content.subarray(i, end), content: content.subarray(i + header, end) });
    i = end;
  }
  return out;
}

function only(content: Buffer, tag: number): Element {
  const [element, ...rest] = children(content);
  if (element === undefined || element.tag !== tag || rest.length > 0) throw new Error('DER: unexpected structure');
  return element;
}

function tbsFields(certificate: X509Certificate): Element[] {
  const cert = only(certificate.raw, 0x30);
  const tbs = children(cert.content)[0];
  if (tbs?.tag !== 0x30) throw new Error('DER: no TBSCertificate');
  return children(tbs.content);
}

/** The issuer's subject DN bytes, copied as encoded (RFC 5280 §7.1 compares names as encoded here). */
function issuerDn(issuer: X509Certificate): Buffer {
  const fields = tbsFields(issuer);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[offset + 4];
  if (subject?.tag !== 0x30) throw new Error('DER: no subject');
  return subject.raw;
}

function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    // WHATWG URL gives the canonical (RFC 5952) text of an IPv6 address.
    return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
  }
  throw new Error('DER: bad iPAddress length');
}

/**
 * Whether `name` is a well-formed GeneralName of a kind not read here (RFC 5280 §4.2.1.6), checked
 * as far as OpenSSL checks it before it reads the extension at all: otherName (type-id, [0] value),
 * x400Address, directoryName (a Name: SEQUENCE OF SET), ediPartyName ([0]?, [1]), registeredID.
 */
function otherGeneralName(name: Element): boolean {
  const inner = (): Element[] => children(name.content);
  switch (name.tag) {
    case 0xa0: {
      const [typeId, value, ...rest] = inner();
      return typeId?.tag === 0x06 && value?.tag === 0xa0 && children(value.content).length === 1 && rest.length === 0;
    }
    case 0xa3:
      inner(); // an ORAddress: its content must at least be DER
      return true;
    case 0xa4: {
      const [dn, ...rest] = inner();
      return dn?.tag === 0x30 && rest.length === 0 && children(dn.content).every((rdn) => rdn.tag === 0x31);
    }
    case 0xa5: {
      const tags = inner().map((e) => e.tag);
      return tags.join() === '161' || tags.join() === '160,161';
    }
    case 0x88:
      return name.content.length > 0;
    default:
      return false;
  }
}

/** The subjectAltName entries of a certificate, by kind, plus a count of the kinds not read. */
export interface ReadSubjectAltNames {
  readonly dns: readonly string[];
  readonly ip: readonly string[];
  readonly uri: readonly string[];
  readonly email: readonly string[];
  /** Entries of other kinds (otherName, directoryName, …): not read, only counted. */
  readonly other: number;
}

/**
 * The extnValue (the DER inside the OCTET STRING) of the certificate's extension `id`, undefined
 * without it. @throws Error for a malformed structure or the extension twice (RFC 5280 §4.2: at
 * most one instance of an extension).
 */
function extensionValue(certificate: X509Certificate, id: string): Buffer | undefined {
  const extensions = tbsFields(certificate).find((f) => f.tag === 0xa3);
  if (extensions === undefined) return undefined;
  const wanted = oid(id);
  const found = children(only(extensions.content, 0x30).content).filter((ext) => children(ext.content)[0]?.raw.equals(wanted));
  if (found.length > 1) throw new Error(`DER: extension ${id} twice`);
  if (found.length === 0) return undefined;
  const value = children((found[0] as Element).content).at(-1);
  if (value?.tag !== 0x04) throw new Error('DER: bad extension');
  return value.content;
}

/** Dotted text of an OBJECT IDENTIFIER's content octets (X.690 §8.19). */
function oidText(content: Buffer): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new Error('DER: OID arc too large');
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  if (content.length === 0 || ((content.at(-1) as number) & 0x80) !== 0) throw new Error('DER: truncated OID');
  const first = arcs[0] as number;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** keyUsage bits (RFC 5280 §4.2.1.3), by the position the BIT STRING gives each. */
const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** A keyUsage bit's name. */
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

/** What a certificate may be used for, read from its DER. */
export interface CertificateUsage {
  /** The keyUsage bits set (RFC 5280 §4.2.1.3); undefined without the extension (any usage). */
  readonly keyUsage: ReadonlySet<KeyUsage> | undefined;
  /** extKeyUsage purposes as dotted OIDs (RFC 5280 §4.2.1.12); undefined without the extension (any purpose). */
  readonly extendedKeyUsage: readonly string[] | undefined;
  /** basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9); undefined when absent (no limit). */
  readonly pathLength: number | undefined;
}

/** The extKeyUsage purposes this library names: TLS server and client authentication, and any purpose. */
export const EXTENDED_KEY_USAGE = { ...EXTENDED_USAGE, any: '2.5.29.37.0' } as const;

/**
 * The keyUsage, extKeyUsage and pathLenConstraint of a certificate, decoded from DER (Node's
 * `X509Certificate` reads neither keyUsage nor the path length).
 * @throws Error when an extension is malformed or occurs twice.
 */
export function certificateUsage(certificate: X509Certificate): CertificateUsage {
  let keyUsage: Set<KeyUsage> | undefined;
  const ku = extensionValue(certificate, '2.5.29.15');
  if (ku !== undefined) {
    const bits = only(ku, 0x03).content;
    if (bits.length === 0 || (bits[0] as number) > 7) throw new Error('DER: bad keyUsage');
    keyUsage = new Set(KEY_USAGE_BITS.filter((_, i) => (((bits[1 + (i >> 3)] ?? 0) >> (7 - (i & 7))) & 1) === 1));
  }
  const eku = extensionValue(certificate, '2.5.29.37');
  const extendedKeyUsage =
    eku === undefined
      ? undefined
      : children(only(eku, 0x30).content).map((p) => {
          if (p.tag !== 0x06) throw new Error('DER: bad extKeyUsage');
          return oidText(p.content);
        });
  let pathLength: number | undefined;
  const bc = extensionValue(certificate, '2.5.29.19');
  if (bc !== undefined) {
    const length = children(only(bc, 0x30).content).find((f) => f.tag === 0x02);
    if (length !== undefined) {
      if (length.content.length === 0 || length.content.length > 4 || ((length.content[0] as number) & 0x80) !== 0)
        throw new Error('DER: bad pathLenConstraint');
      pathLength = length.content.readUIntBE(0, length.content.length);
    }
  }
  return { keyUsage, extendedKeyUsage: extendedKeyUsage && Object.freeze(extendedKeyUsage), pathLength };
}

/**
 * The certificate's subjectAltName entries, decoded from DER (not from Node's display string, whose
 * quoting rules vary between versions). A certificate without the extension gives empty lists.
 * @throws Error when the structure is not a certificate this reader understands, or the extension
 *   occurs twice (RFC 5280 §4.2: at most one instance of an extension).
 */
export function subjectAltNames(certificate: X509Certificate): ReadSubjectAltNames {
  const result = { dns: [] as string[], ip: [] as string[], uri: [] as string[], email: [] as string[], other: 0 };
  const value = extensionValue(certificate, '2.5.29.17');
  if (value === undefined) return result;
  for (const name of children(only(value, 0x30).content)) {
    const text = (): string => {
      // IA5String: 7-bit only.
      if (name.content.some((byte) => byte > 0x7f)) throw new Error('DER: IA5String out of range');
      return name.content.toString('latin1');
    };
    if (name.tag === 0x81) result.email.push(text());
    else if (name.tag === 0x82) result.dns.push(text());
    else if (name.tag === 0x86) result.uri.push(text());
    else if (name.tag === 0x87) result.ip.push(ipText(name.content));
    // otherName, x400Address, directoryName, ediPartyName (constructed), registeredID: counted. Any
    // other tag is no GeneralName (RFC 5280 §4.2.1.6), and OpenSSL refuses the whole extension for it.
    else if (otherGeneralName(name)) result.other++;
    else throw new Error('DER: not a GeneralName');
  }
  return result;
}
