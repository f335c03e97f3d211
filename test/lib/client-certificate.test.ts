/**
 * The presented client certificate: from an authorized TLS socket only (real TLS on loopback), or
 * from the operator's named header and only from a trusted proxy address; every malformed header
 * is a 400, the header from any other peer is a 400 too.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isAuthError } from '../../src/errors.js';
import {
  certificateThumbprint,
  clientCertificateReader,
  parseXfcc,
  type ClientCertificateSourceOptions,
} from '../../src/lib/client-certificate.js';
import type { AuthRequest } from '../../src/scheme.js';
import { testCertificates, type TestCertificate } from '../helpers/certificates.js';

const certs = testCertificates();
const PROXY = '10.0.0.7';

/** A request as Node gives it to a handler: headers, raw headers and the peer address. */
function req(headers: Record<string, string>, remoteAddress = PROXY): AuthRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { headers: lower, rawHeaders: Object.entries(headers).flat(), socket: { remoteAddress } };
}

function refusal(read: () => unknown): { status: number; reason: string | undefined } {
  try {
    read();
  } catch (thrown) {
    if (isAuthError(thrown)) return { status: thrown.status, reason: thrown.reason };
    throw thrown;
  }
  throw new Error('not refused');
}

const escaped = (c: TestCertificate): string => encodeURIComponent(c.cert);
const b64 = (c: TestCertificate): string => `:${c.certificate.raw.toString('base64')}:`;
const hexHash = (c: TestCertificate): string => createHash('sha256').update(c.certificate.raw).digest('hex');
const reader = (options: ClientCertificateSourceOptions) => clientCertificateReader(options, 'test()');

describe('forwarded certificate headers', () => {
  const xfcc = reader({ source: 'xfcc', trustedProxies: ['10.0.0.0/8', '::1'] });

  it('reads the last XFCC element (the nearest proxy) with its chain, thumbprint and names', () => {
    const header = `By=spiffe://example.org/edge;Hash=${hexHash(certs.reports)};Cert="${escaped(certs.reports)}",By=spiffe://example.org/svc;Hash=${hexHash(certs.billing)};Cert="${escaped(certs.billing)}";Chain="${escaped(certs.billing)}${escaped(certs.ca)}";Subject="CN=billing";URI=spiffe://example.org/ns/prod/sa/billing;DNS=billing.internal`;
    const got = xfcc.read(req({ 'x-forwarded-client-cert': header }));
    expect(got?.certificate.raw.equals(certs.billing.certificate.raw)).toBe(true);
    expect(got?.chain.map((c) => c.subject)).toEqual([certs.ca.certificate.subject]);
    expect(got?.thumbprint).toBe(createHash('sha256').update(certs.billing.certificate.raw).digest('base64url'));
    expect(got?.thumbprint).toBe(certificateThumbprint(certs.billing.certificate));
    expect(got?.names.uri).toEqual(['spiffe://example.org/ns/prod/sa/billing']);
    expect(got?.source).toBe('xfcc');
    expect(got?.notAfter).toBe(Math.floor(Date.parse(certs.billing.certificate.validTo) / 1000));
  });

  it('accepts IPv4-mapped peers and IPv6 entries; absent header is no certificate', () => {
    expect(xfcc.read(req({ 'x-forwarded-client-cert': `Cert=${escaped(certs.billing)}` }, '::ffff:10.1.2.3'))).toBeDefined();
    expect(xfcc.read(req({ 'x-forwarded-client-cert': `Cert=${escaped(certs.billing)}` }, '::1'))).toBeDefined();
    expect(xfcc.read(req({}, '192.0.2.1'))).toBeUndefined();
    expect(xfcc.present(req({}))).toBe(false);
    expect(xfcc.present(req({ 'x-forwarded-client-cert': 'x' }))).toBe(true);
  });

  it.each([
    ['an untrusted peer', { 'x-forwarded-client-cert': `Cert=${escaped(certs.billing)}` }, '192.0.2.1', 'certificate_header_untrusted'],
    [
      'an untrusted peer, even with a malformed header',
      { 'x-forwarded-client-cert': 'garbage' },
      '10.0.0.7x',
      'certificate_header_untrusted',
    ],
    ['no Cert=', { 'x-forwarded-client-cert': `Hash=${hexHash(certs.billing)}` }, PROXY, 'certificate_header_malformed'],
    [
      'a wrong Hash=',
      { 'x-forwarded-client-cert': `Hash=${hexHash(certs.reports)};Cert=${escaped(certs.billing)}` },
      PROXY,
      'certificate_header_malformed',
    ],
    [
      'two certificates in Cert=',
      { 'x-forwarded-client-cert': `Cert=${escaped(certs.billing)}${escaped(certs.ca)}` },
      PROXY,
      'certificate_header_malformed',
    ],
    ['bad URL encoding', { 'x-forwarded-client-cert': 'Cert=%E0%A4%A' }, PROXY, 'certificate_header_malformed'],
    ['not PEM', { 'x-forwarded-client-cert': 'Cert=hello' }, PROXY, 'certificate_header_malformed'],
    [
      'PEM of garbage',
      { 'x-forwarded-client-cert': `Cert=${encodeURIComponent('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')}` },
      PROXY,
      'certificate_header_malformed',
    ],
    ['an unterminated quote', { 'x-forwarded-client-cert': 'Cert="abc' }, PROXY, 'certificate_header_malformed'],
    ['a pair without =', { 'x-forwarded-client-cert': 'Cert' }, PROXY, 'certificate_header_malformed'],
    ['an empty element', { 'x-forwarded-client-cert': `Cert=${escaped(certs.billing)},` }, PROXY, 'certificate_header_malformed'],
  ])('XFCC: %s is refused with 400', (_, headers, peer, reason) => {
    expect(refusal(() => xfcc.read(req(headers, peer)))).toEqual({ status: 400, reason });
  });

  it('refuses the forwarded header sent twice, in every source: the proxy sends one', () => {
    const sources = [
      ['xfcc', 'X-Forwarded-Client-Cert', `Cert="${escaped(certs.billing)}"`],
      ['escaped-pem', 'X-SSL-Client-Cert', escaped(certs.billing)],
      ['rfc9440', 'Client-Cert', b64(certs.billing)],
    ] as const;
    for (const [source, name, value] of sources) {
      const read = reader({ source, trustedProxies: [PROXY] });
      expect(read.read(req({ [name]: value }))?.names.dns).toEqual(['billing.internal']);
      // Two lines, the first a client's the proxy did not strip: Node joins them with ", ".
      const twice = { ...req({ [name.toLowerCase()]: `${value}, ${value}` }), rawHeaders: [name, value, name.toLowerCase(), value] };
      expect({ source, ...refusal(() => read.read(twice)) }).toEqual({ source, status: 400, reason: 'certificate_header_malformed' });
    }
  });

  it('parses quoted XFCC values with escapes, commas and semicolons', () => {
    expect(parseXfcc('By=a;Subject="CN=x,O=\\"y\\";z";URI=u, Hash=h')).toEqual([
      new Map([
        ['by', 'a'],
        ['subject', 'CN=x,O="y";z'],
        ['uri', 'u'],
      ]),
      new Map([['hash', 'h']]),
    ]);
  });

  it('escaped PEM (nginx): one certificate, one header', () => {
    const nginx = reader({ source: 'escaped-pem', trustedProxies: [PROXY] });
    expect(nginx.read(req({ 'X-SSL-Client-Cert': escaped(certs.billing) }))?.names.dns).toEqual(['billing.internal']);
    expect(nginx.read(req({ 'X-SSL-Client-Cert': '' }))).toBeUndefined();
    expect(refusal(() => nginx.read(req({ 'X-SSL-Client-Cert': escaped(certs.billing) }, '10.0.0.8')))).toEqual({
      status: 400,
      reason: 'certificate_header_untrusted',
    });
    const twice = {
      ...req({ 'x-ssl-client-cert': escaped(certs.billing) }),
      rawHeaders: ['X-SSL-Client-Cert', 'a', 'x-ssl-client-cert', 'b'],
    };
    expect(refusal(() => nginx.read(twice))).toEqual({ status: 400, reason: 'certificate_header_malformed' });
    const named = reader({ source: 'escaped-pem', headerName: 'X-Client-Cert', trustedProxies: () => true });
    expect(named.read(req({ 'x-client-cert': escaped(certs.reports) }, '203.0.113.9'))?.names.uri).toEqual([
      'spiffe://example.org/ns/prod/sa/reports',
    ]);
  });

  it('RFC 9440 Client-Cert and Client-Cert-Chain byte sequences', () => {
    const rfc = reader({ source: 'rfc9440', trustedProxies: [PROXY] });
    const got = rfc.read(req({ 'Client-Cert': b64(certs.billing), 'Client-Cert-Chain': `${b64(certs.ca)}, ${b64(certs.otherCa)}` }));
    expect(got?.chain.map((c) => c.subject)).toEqual([certs.ca.certificate.subject, certs.otherCa.certificate.subject]);
    const trailing = `:${Buffer.concat([certs.billing.certificate.raw, Buffer.from([0, 0])]).toString('base64')}:`;
    for (const bad of [certs.billing.certificate.raw.toString('base64'), ':a*b:', ':AAA:', `${b64(certs.billing)}x`, trailing])
      expect(refusal(() => rfc.read(req({ 'Client-Cert': bad })))).toEqual({ status: 400, reason: 'certificate_header_malformed' });
    expect(refusal(() => rfc.read(req({ 'Client-Cert-Chain': b64(certs.ca) })))).toEqual({
      status: 400,
      reason: 'certificate_header_malformed',
    });
    expect(refusal(() => rfc.read(req({ 'Client-Cert-Chain': b64(certs.ca) }, '10.9.9.9')))).toEqual({
      status: 400,
      reason: 'certificate_header_untrusted',
    });
    const twice = {
      ...req({ 'client-cert': b64(certs.billing) }),
      rawHeaders: ['Client-Cert', b64(certs.billing), 'Client-Cert', b64(certs.reports)],
    };
    expect(refusal(() => rfc.read(twice))).toEqual({ status: 400, reason: 'certificate_header_malformed' });
  });

  it('refuses configurations that cannot be safe', () => {
    expect(() => reader({ source: 'xfcc' })).toThrow(
      'test(): "trustedProxies" must be a non-empty list of IP addresses and CIDR blocks, or a function (address) => boolean (got undefined)',
    );
    expect(() => reader({ source: 'xfcc', trustedProxies: [] })).toThrow('(got an empty array)');
    expect(() => reader({ source: 'xfcc', trustedProxies: ['10.0.0.0/33'] })).toThrow('(got an array with another entry)');
    expect(() => reader({ source: 'xfcc', trustedProxies: ['proxy.local'] })).toThrow('(got an array with another entry)');
    expect(() => reader({ trustedProxies: [PROXY] })).toThrow('test(): "trustedProxies" must be absent with source "socket"');
    expect(() => reader({ source: 'pem' as never })).toThrow(
      'test(): "source" must be one of "socket", "xfcc", "escaped-pem", "rfc9440" (got "pem")',
    );
    expect(() => reader({ source: 'xfcc', headerName: 'bad header', trustedProxies: [PROXY] })).toThrow(
      '"headerName" must be an HTTP field name',
    );
  });
});

describe('the TLS socket', () => {
  let server: Server;
  let port: number;
  const socketReader = reader({});
  const answers: unknown[] = [];

  beforeAll(async () => {
    server = createServer(
      { key: certs.server.key, cert: certs.server.cert, ca: certs.ca.cert, requestCert: true, rejectUnauthorized: false },
      (r, res) => {
        try {
          const got = socketReader.read(r);
          answers.push(got === undefined ? 'none' : { thumbprint: got.thumbprint, chain: got.chain.length });
        } catch (thrown) {
          answers.push(isAuthError(thrown) ? `${thrown.status} ${String(thrown.reason)}` : 'throw');
        }
        res.end();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = (client?: TestCertificate): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const r = request(
        { host: '127.0.0.1', port, path: '/', ca: certs.ca.cert, agent: false, ...(client ? { cert: client.cert, key: client.key } : {}) },
        (res) => {
          res.resume();
          res.on('end', () => resolve(answers.pop()));
        },
      );
      r.on('error', reject);
      r.end();
    });

  it('reads an authorized certificate, refuses an unauthorized one, and none is none', async () => {
    expect(await get(certs.billing)).toEqual({ thumbprint: certificateThumbprint(certs.billing.certificate), chain: 1 });
    expect(await get(certs.untrusted)).toBe('401 certificate_untrusted');
    expect(await get(certs.expired)).toBe('401 certificate_untrusted');
    expect(await get()).toBe('none');
  });

  it('never reads a header with the socket source', () => {
    expect(socketReader.read(req({ 'x-forwarded-client-cert': `Cert=${escaped(certs.billing)}` }))).toBeUndefined();
  });
});
