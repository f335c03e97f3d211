/**
 * Peer suites, ported case by case (inputs and expected outcomes, not code):
 *
 * - spiffe/go-spiffe at commit e9973f6314a3fa0e36eb1f00fbfe37bdc1554b96, spiffeid/id_test.go
 *   (TestFromString, TestFromURI, TestFromSegments) against `isSpiffeId`, and
 *   spiffeid/trustdomain_test.go (TestTrustDomainFromString) against the trust domain keys of
 *   `clientCertificateScheme({ trustBundles })`, the one place a bare trust domain is accepted here.
 *   spiffeid/match_test.go (MatchID, MatchOneOf, MatchMemberOf) against the `allow` list
 *   (`spiffeId`, `spiffeIdPrefix`) of the scheme, with real certificates forwarded in XFCC.
 *   go-spiffe returns one of several error messages; `isSpiffeId` answers only yes or no, so each
 *   refused case keeps go-spiffe's message as its label and asserts the refusal.
 * - envoyproxy/envoy at commit e3df3ef15f55218f6894cab04cd7766537361643,
 *   test/extensions/formatter/xfcc_value/xfcc_value_test.cc (XfccValueTest.Test: Envoy's own
 *   reader of x-forwarded-client-cert, `%XFCC_VALUE(uri)%`) against `parseXfcc` and the XFCC reader;
 *   and at commit 49f5d59e8c73382d6b940b8f96e1fbcf494bf08e, test/common/http/conn_manager_utility_test.cc
 *   (the Mtls* cases: the headers Envoy writes) as inputs to `parseXfcc`, with the elements they hold.
 */
import { clientCertificateScheme, isSpiffeId, type ClientCertificateIdentity } from '../../src/index.js';
import { isAuthError } from '../../src/errors.js';
import { clientCertificateReader, parseXfcc } from '../../src/lib/client-certificate.js';
import { issueTestCertificate, testCertificates, type TestCertificate } from '../helpers/certificates.js';

// go-spiffe's character classes: trust domain = lower-case letters, digits, `.`, `-`, `_`; path
// segment = those plus upper-case letters.
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const SPECIAL = '.-_';
const TD_CHARS = new Set(`${LOWER}${DIGITS}${SPECIAL}`);
const PATH_CHARS = new Set(`${LOWER}${LOWER.toUpperCase()}${DIGITS}${SPECIAL}`);

const BAD_TD_CHAR = 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores';
const BAD_PATH_CHAR = 'path segment characters are limited to letters, numbers, dots, dashes, and underscores';

/** Every code point 0..255 (go-spiffe runs them all so that UTF-8 above 0x7F is refused too). */
const codePoints = Array.from({ length: 256 }, (_, i) => ({ i, c: String.fromCharCode(i), hex: i.toString(16).toUpperCase() }));

describe('go-spiffe spiffeid/id_test.go TestFromString → isSpiffeId', () => {
  it.each([
    ['spiffe://trustdomain', 'path is optional'],
    ['spiffe://trustdomain/.path', 'dots within a segment'],
    ['spiffe://trustdomain/..path', 'dots within a segment'],
    ['spiffe://trustdomain/...', 'three dots are not a dot segment'],
  ])('accepts %s (%s)', (id) => {
    expect(isSpiffeId(id)).toBe(true);
  });

  it.each([
    ['', 'cannot be empty'],
    ['s', 'scheme is missing or invalid'],
    ['spiffe:/', 'scheme is missing or invalid'],
    ['Spiffe://', 'scheme is missing or invalid'],
    ['spiffe://', 'trust domain is missing'],
    ['spiffe:///', 'trust domain is missing'],
    ['spiffe://trustdomain/', 'path cannot have a trailing slash'],
    ['spiffe://trustdomain//', 'path cannot contain empty segments'],
    ['spiffe://trustdomain//path', 'path cannot contain empty segments'],
    ['spiffe://trustdomain/path/', 'path cannot have a trailing slash'],
    ['spiffe://trustdomain/.', 'path cannot contain dot segments'],
    ['spiffe://trustdomain/./path', 'path cannot contain dot segments'],
    ['spiffe://trustdomain/path/./other', 'path cannot contain dot segments'],
    ['spiffe://trustdomain/path/..', 'path cannot contain dot segments'],
    ['spiffe://trustdomain/..', 'path cannot contain dot segments'],
    ['spiffe://trustdomain/../path', 'path cannot contain dot segments'],
    ['spiffe://trustdomain/path/../other', 'path cannot contain dot segments'],
    ['spiffe://%F0%9F%A4%AF/path', BAD_TD_CHAR],
    ['spiffe://trustdomain/%F0%9F%A4%AF', BAD_PATH_CHAR],
    ['spiffe://%62%61%64/path', BAD_TD_CHAR],
    ['spiffe://trustdomain/%62%61%64', BAD_PATH_CHAR],
  ])('refuses %j (%s)', (id) => {
    expect(isSpiffeId(id)).toBe(false);
  });

  // `/` is the segment delimiter, so go-spiffe leaves it out of the character sweep.
  const swept = codePoints.filter(({ c }) => c !== '/');

  it.each(swept)('trust domain character 0x$hex', ({ c }) => {
    expect(isSpiffeId(`spiffe://trustdomain${c}/path`)).toBe(TD_CHARS.has(c));
  });

  it.each(swept)('path character 0x$hex', ({ c }) => {
    expect(isSpiffeId(`spiffe://trustdomain/path${c}`)).toBe(PATH_CHARS.has(c));
  });

  it('sweeps the accepted characters as go-spiffe does (39 in a trust domain, 65 in a path)', () => {
    expect(swept.filter(({ c }) => isSpiffeId(`spiffe://trustdomain${c}/path`))).toHaveLength(39);
    expect(swept.filter(({ c }) => isSpiffeId(`spiffe://trustdomain/path${c}`))).toHaveLength(65);
  });
});

describe('go-spiffe spiffeid/id_test.go TestFromURI and TestFromSegments → isSpiffeId', () => {
  it.each(['spiffe://trustdomain', 'spiffe://trustdomain/path', 'spiffe://trustdomain/foo', 'spiffe://trustdomain/foo/bar'])(
    'accepts %s',
    (id) => {
      expect(isSpiffeId(id)).toBe(true);
    },
  );

  // FromURI's url.URL{Scheme: "SPIFFE"} is the string form below; FromSegments(td, seg) is the ID
  // with `/seg` appended.
  it.each([
    ['SPIFFE://trustdomain', 'scheme is missing or invalid'],
    ['spiffe://trust$domain', BAD_TD_CHAR],
    ['spiffe://trustdomain/path$', BAD_PATH_CHAR],
    ['spiffe://trustdomain/', 'segment "": path cannot contain empty segments'],
    ['spiffe://trustdomain//', `segment "/": ${BAD_PATH_CHAR}`],
    ['spiffe://trustdomain//foo', `segment "/foo": ${BAD_PATH_CHAR}`],
    ['spiffe://trustdomain/$', `segment "$": ${BAD_PATH_CHAR}`],
  ])('refuses %j (%s)', (id) => {
    expect(isSpiffeId(id)).toBe(false);
  });
});

describe('go-spiffe spiffeid/trustdomain_test.go TestTrustDomainFromString → trustBundles keys', () => {
  const { ca } = testCertificates();
  const withDomain = (domain: string): unknown =>
    clientCertificateScheme({ mapPrincipal: () => undefined, trustBundles: { [domain]: ca.cert } });

  it.each(codePoints)('trust domain character 0x$hex', ({ c }) => {
    if (TD_CHARS.has(c)) expect(withDomain(`trustdomain${c}`)).toBeDefined();
    else expect(() => withDomain(`trustdomain${c}`)).toThrow(/"trustBundles"/);
  });

  it('refuses the empty trust domain (trust domain is missing)', () => {
    expect(() => withDomain('')).toThrow(/"trustBundles"/);
  });

  // Differs on purpose: go-spiffe also accepts an ID (`spiffe://trustdomain/path`) and takes its
  // trust domain. A trustBundles key is compared with the trust domain of each SVID, so a key in
  // ID form would never match; it is refused at configuration time rather than silently unused.
  it.each(['spiffe://trustdomain', 'spiffe://trustdomain/path'])('refuses the ID form %s as a key (intentional difference)', (key) => {
    expect(() => withDomain(key)).toThrow(/"trustBundles"/);
  });

  it.each([
    ['spiffe:/trustdomain/path', 'scheme is missing or invalid'],
    ['spiffe://', 'trust domain is missing'],
    ['spiffe:///path', 'trust domain is missing'],
    ['spiffe://trustdomain/', 'path cannot have a trailing slash'],
    ['spiffe://trustdomain/path/', 'path cannot have a trailing slash'],
    ['spiffe://%F0%9F%A4%AF/path', BAD_TD_CHAR],
    ['spiffe://trustdomain/%F0%9F%A4%AF', BAD_PATH_CHAR],
  ])('refuses the bad ID %j (%s), as a key and as an ID', (id) => {
    expect(isSpiffeId(id)).toBe(false);
    expect(() => withDomain(id)).toThrow(/"trustBundles"/);
  });
});

describe('go-spiffe spiffeid/match_test.go → allow (spiffeId, spiffeIdPrefix)', () => {
  const FOO = 'spiffe://foo.test';
  const FOO_A = 'spiffe://foo.test/A';
  const FOO_B = 'spiffe://foo.test/B';
  const FOO_C = 'spiffe://foo.test/sub/C';
  const BAR_A = 'spiffe://bar.test/A';
  // go-spiffe's six IDs; its zero ID is a certificate without a SPIFFE ID here.
  const presented: ReadonlyArray<readonly [string, TestCertificate]> = [
    ['zero', testCertificates().dnsOnly],
    ...[FOO, FOO_A, FOO_B, FOO_C, BAR_A].map((id) => [id, issueTestCertificate('svc', { uri: [id] })] as const),
  ];

  /** Which of the six the scheme with this allow list authenticates, and the reasons of the others. */
  async function outcomes(allow: readonly ClientCertificateIdentity[]): Promise<Record<string, string>> {
    const scheme = clientCertificateScheme({ allow, ca: testCertificates().ca.cert, source: 'xfcc', trustedProxies: ['127.0.0.1'] });
    const out: Record<string, string> = {};
    for (const [label, certificate] of presented) {
      const headers = { 'x-forwarded-client-cert': `Cert="${encodeURIComponent(certificate.cert)}"` };
      out[label] = await scheme
        .authenticate({ headers, rawHeaders: Object.entries(headers).flat(), socket: { remoteAddress: '127.0.0.1' } })
        .then(
          (principal) => `ok ${principal?.subject ?? ''}`,
          (error: unknown) => (isAuthError(error) ? `${error.status} ${error.reason ?? ''}` : String(error)),
        );
    }
    return out;
  }

  const REFUSED = '401 identity_not_allowed';

  it('MatchID against an ID with a path: only that ID', async () => {
    expect(await outcomes([{ spiffeId: FOO_A }])).toEqual({
      zero: REFUSED,
      [FOO]: REFUSED,
      [FOO_A]: `ok ${FOO_A}`,
      [FOO_B]: REFUSED,
      [FOO_C]: REFUSED,
      [BAR_A]: REFUSED,
    });
  });

  it('MatchID against an ID without a path: only that ID, not the IDs below it', async () => {
    expect(await outcomes([{ spiffeId: FOO }])).toEqual({
      zero: REFUSED,
      [FOO]: `ok ${FOO}`,
      [FOO_A]: REFUSED,
      [FOO_B]: REFUSED,
      [FOO_C]: REFUSED,
      [BAR_A]: REFUSED,
    });
  });

  it('MatchOneOf on a list of IDs: each listed ID, nothing else', async () => {
    expect(await outcomes([FOO, FOO_B, FOO_C, BAR_A].map((spiffeId) => ({ spiffeId })))).toEqual({
      zero: REFUSED,
      [FOO]: `ok ${FOO}`,
      [FOO_A]: REFUSED,
      [FOO_B]: `ok ${FOO_B}`,
      [FOO_C]: `ok ${FOO_C}`,
      [BAR_A]: `ok ${BAR_A}`,
    });
  });

  it('MatchMemberOf a trust domain (spiffeIdPrefix of the bare domain): every ID of it, no other domain', async () => {
    expect(await outcomes([{ spiffeIdPrefix: FOO }])).toEqual({
      zero: REFUSED,
      [FOO]: `ok ${FOO}`,
      [FOO_A]: `ok ${FOO_A}`,
      [FOO_B]: `ok ${FOO_B}`,
      [FOO_C]: `ok ${FOO_C}`,
      [BAR_A]: REFUSED,
    });
  });

  // Differs on purpose: go-spiffe's MatchOneOf() with no IDs refuses everything and
  // MatchMemberOf(empty trust domain) accepts only the zero ID. An allow list that can let nobody
  // in, or that names no trust domain, is a configuration mistake here, refused when the scheme is built.
  it.each([
    ['MatchOneOf with no IDs', []],
    ['MatchMemberOf the empty trust domain', [{ spiffeIdPrefix: 'spiffe://' }]],
  ])('%s: refused as configuration (intentional difference)', (_, allow) => {
    expect(() => clientCertificateScheme({ allow })).toThrow(/"allow/);
  });
});

describe('Envoy test/extensions/formatter/xfcc_value/xfcc_value_test.cc → parseXfcc', () => {
  /** What Envoy's `%XFCC_VALUE(uri)%` yields: the URI= of the first element that has one. */
  const uriOf = (header: string): string | undefined =>
    parseXfcc(header)
      .find((element) => element.has('uri'))
      ?.get('uri');

  it.each([
    ['normal value', 'By=test;URI=abc;DNS=example.com', 'abc'],
    ['special characters in a quoted value', String.raw`By=test;URI="a,b,c;\"e;f;g=x";DNS=example.com`, 'a,b,c;"e;f;g=x'],
    ['multiple elements', String.raw`By=test;DNS=example.com,By=test;URI="a,b,c;\"e;f;g=x";DNS=example.com`, 'a,b,c;"e;f;g=x'],
    ['escaped backslash', String.raw`By=test;DNS=example.com,By=test;URI="\\";DNS=example.com`, '\\'],
    ['escaped backslash and escaped quote', String.raw`By=test;DNS=example.com,By=test;URI="\\\"";DNS=example.com`, '\\"'],
    ['no required key', 'By=test;DNS=example.com', undefined],
  ])('%s', (_, header, uri) => {
    expect(uriOf(header)).toBe(uri);
  });

  it('keeps the other pairs of the elements apart (multiple elements)', () => {
    const elements = parseXfcc(String.raw`By=test;DNS=example.com,By=test;URI="a,b,c;\"e;f;g=x";DNS=example.com`);
    expect(elements.map((element) => Object.fromEntries(element))).toEqual([
      { by: 'test', dns: 'example.com' },
      { by: 'test', uri: 'a,b,c;"e;f;g=x', dns: 'example.com' },
    ]);
  });

  // Differs on purpose: Envoy's formatter yields no value for an unclosed quote; here the whole
  // header is refused (400), since a header we cannot read is not one to take a certificate from.
  it('unclosed quotes: refused as malformed (intentional: refuse rather than no value)', () => {
    let thrown: unknown;
    try {
      parseXfcc('By=test;URI="abc;DNS=example.com');
    } catch (error) {
      thrown = error;
    }
    expect(isAuthError(thrown) && thrown.status).toBe(400);
  });

  it('no XFCC header: no certificate', () => {
    const reader = clientCertificateReader({ source: 'xfcc', trustedProxies: ['127.0.0.1'] });
    expect(reader.read({ headers: {}, rawHeaders: [], socket: { remoteAddress: '127.0.0.1' } })).toBeUndefined();
  });
});

describe('Envoy test/common/http/conn_manager_utility_test.cc (headers Envoy writes) → parseXfcc', () => {
  const subject = '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=test.lyft.com';
  it.each([
    [
      'MtlsForwardOnlyClientCert',
      'By=test://foo.com/fe;URI=test://bar.com/be;DNS=example.com',
      [{ by: 'test://foo.com/fe', uri: 'test://bar.com/be', dns: 'example.com' }],
    ],
    [
      'MtlsSetForwardClientCert',
      'By=test://foo.com/be;Hash=abcdefg;URI=test://foo.com/fe;Cert="%3D%3Dabc%0Ade%3D";DNS=www.example.com',
      [{ by: 'test://foo.com/be', hash: 'abcdefg', uri: 'test://foo.com/fe', cert: '%3D%3Dabc%0Ade%3D', dns: 'www.example.com' }],
    ],
    [
      // DNS repeats (one pair per SAN); parseXfcc keeps the last, the names are read from the certificate.
      'MtlsAppendForwardClientCert',
      'By=test://foo.com/fe;URI=test://bar.com/be;DNS=test.com;DNS=test.com,By=test://foo.com/be;Hash=abcdefg;URI=test://foo.com/fe;Cert="%3D%3Dabc%0Ade%3D";DNS=www.example.com',
      [
        { by: 'test://foo.com/fe', uri: 'test://bar.com/be', dns: 'test.com' },
        { by: 'test://foo.com/be', hash: 'abcdefg', uri: 'test://foo.com/fe', cert: '%3D%3Dabc%0Ade%3D', dns: 'www.example.com' },
      ],
    ],
    [
      'MtlsAppendForwardClientCertLocalSanEmpty',
      'By=test://foo.com/fe;Hash=xyz;URI=test://bar.com/be,Hash=abcdefg;URI=test://foo.com/fe',
      [
        { by: 'test://foo.com/fe', hash: 'xyz', uri: 'test://bar.com/be' },
        { hash: 'abcdefg', uri: 'test://foo.com/fe' },
      ],
    ],
    [
      'MtlsSanitizeSetClientCert',
      `By=test://foo.com/be;Hash=abcdefg;Subject="${subject}";URI=test://foo.com/fe;Cert="abcde="`,
      [{ by: 'test://foo.com/be', hash: 'abcdefg', subject, uri: 'test://foo.com/fe', cert: 'abcde=' }],
    ],
    [
      'MtlsSanitizeSetClientCertPeerSanEmpty',
      `By=test://foo.com/be;Hash=abcdefg;Subject="${subject}";URI=`,
      [{ by: 'test://foo.com/be', hash: 'abcdefg', subject, uri: '' }],
    ],
  ])('%s', (_, header, elements) => {
    expect(parseXfcc(header).map((element) => Object.fromEntries(element))).toEqual(elements);
  });
});
