/**
 * Component values (RFC 9421 §2.1, §2.2) from the RFC's own examples: field lines combined and
 * trimmed, `sf`, `key`, `bs`, `req`, and every derived component; then the same over a real socket,
 * where a second field line changes what was signed.
 */
import express from 'express';
import { componentFromText, componentValue, httpMessage, type HttpMessage } from '../../src/index.js';
import { headerLine, listen, rawGet, type Listening } from '../helpers/http.js';
import { authenticate, httpSignatureScheme, signMessage } from '../../src/index.js';
import { ed } from './helpers.js';

const value = (message: HttpMessage, text: string): string =>
  componentValue(message, componentFromText(text), { 'example-dict': 'dictionary' });

describe('RFC 9421 §2.1: HTTP fields', () => {
  const message = httpMessage({
    headers: [
      ['Host', 'www.example.com'],
      ['X-OWS-Header', '   Leading and trailing whitespace.   '],
      ['Cache-Control', 'max-age=60'],
      ['Cache-Control', '   must-revalidate'],
      ['Example-Dict', ' a=1,    b=2;x=1;y=2,   c=(a   b   c)'],
      ['Example-Header', 'value, with, lots'],
      ['Example-Header', 'of, commas'],
    ],
  });

  it.each([
    ['host', 'www.example.com'],
    ['x-ows-header', 'Leading and trailing whitespace.'],
    ['cache-control', 'max-age=60, must-revalidate'],
    ['example-dict', 'a=1,    b=2;x=1;y=2,   c=(a   b   c)'],
    ['"example-dict";sf', 'a=1, b=2;x=1;y=2, c=(a b c)'],
    ['"example-dict";key="a"', '1'],
    ['"example-dict";key="b"', '2;x=1;y=2'],
    ['"example-dict";key="c"', '(a b c)'],
    ['example-header', 'value, with, lots, of, commas'],
    ['"example-header";bs', ':dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:'],
  ])('%s: %s', (component, expected) => {
    expect(value(message, component)).toBe(expected);
  });

  it('a Signature member can be covered by its label (RFC 9421 §7.3.7)', () => {
    const signed = httpMessage({ headers: { Signature: 'sig1=:AAAA:, sig2=:BBBB:' } });
    expect(value(signed, '"signature";key="sig1"')).toBe(':AAAA:');
  });

  it('an absent field or dictionary key is component_missing; sf on an unknown field is component_invalid', () => {
    expect(() => value(message, 'x-absent')).toThrow(expect.objectContaining({ reason: 'component_missing' }) as Error);
    expect(() => value(message, '"example-dict";key="z"')).toThrow(expect.objectContaining({ reason: 'component_missing' }) as Error);
    expect(() => value(message, '"cache-control";sf')).toThrow(expect.objectContaining({ reason: 'component_invalid' }) as Error);
  });
});

describe('RFC 9421 §2.2: derived components', () => {
  const request = httpMessage({ method: 'POST', url: 'https://www.example.com/path?param=value&foo=bar&baz=bat%2Dman' });
  it.each([
    ['@method', 'POST'],
    ['@target-uri', 'https://www.example.com/path?param=value&foo=bar&baz=bat%2Dman'],
    ['@authority', 'www.example.com'],
    ['@scheme', 'https'],
    ['@request-target', '/path?param=value&foo=bar&baz=bat%2Dman'],
    ['@path', '/path'],
    ['@query', '?param=value&foo=bar&baz=bat%2Dman'],
    ['"@query-param";name="baz"', 'bat-man'],
  ])('%s: %s', (component, expected) => {
    expect(value(request, component)).toBe(expected);
  });

  it('@authority drops the default port and lower-cases; @query of no query is "?"; @path of none is "/"', () => {
    expect(value(httpMessage({ url: 'https://WWW.Example.com:443' }), '@authority')).toBe('www.example.com');
    expect(value(httpMessage({ url: 'http://www.example.com:8080/x' }), '@authority')).toBe('www.example.com:8080');
    expect(value(httpMessage({ url: 'https://www.example.com/path' }), '@query')).toBe('?');
    expect(value(httpMessage({ url: 'https://www.example.com' }), '@path')).toBe('/');
    expect(value(httpMessage({ url: 'https://www.example.com/path?queryString' }), '@query')).toBe('?queryString');
  });

  it('@query-param decodes and re-encodes names and values (§2.2.8)', () => {
    const m = httpMessage({
      url: 'https://example.com/parameters?var=this%20is%20a%20big%0Avalue&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something&qux=',
    });
    expect(value(m, '"@query-param";name="var"')).toBe('this%20is%20a%20big%0Avalue');
    expect(value(m, '"@query-param";name="bar"')).toBe('with%20plus%20whitespace');
    expect(value(m, '"@query-param";name="fa%C3%A7ade%22%3A%20"')).toBe('something');
    expect(value(m, '"@query-param";name="qux"')).toBe('');
    const repeated = httpMessage({ url: 'https://example.com/p?a=1&a=2' });
    expect(() => value(repeated, '"@query-param";name="a"')).toThrow(expect.objectContaining({ reason: 'component_invalid' }) as Error);
  });

  it('@status of a response; req takes the component from the request it answers', () => {
    const response = httpMessage({ status: 200, request });
    expect(value(response, '@status')).toBe('200');
    expect(value(response, '"@authority";req')).toBe('www.example.com');
    expect(() => value(request, '@status')).toThrow(expect.objectContaining({ reason: 'component_missing' }) as Error);
    expect(() => value(httpMessage({ status: 200 }), '"@method";req')).toThrow(
      expect.objectContaining({ reason: 'component_missing' }) as Error,
    );
  });
});

describe('field lines over a real socket', () => {
  // rawGet sends `Host: 127.0.0.1`, so this app serves that origin.
  const origin = 'http://127.0.0.1';
  let server: Listening;
  beforeAll(async () => {
    const app = express();
    app.get(
      '/r',
      authenticate([httpSignatureScheme({ origins: [origin], publicKeys: { 'ed-1': { key: ed.publicKey } } })]),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    server = await listen(app);
  });
  afterAll(() => server.close());

  /** Signature lines for GET /r with `x-account` as signed. */
  function signatureLines(account: string): Buffer[] {
    const { signatureInput, signature } = signMessage({
      message: httpMessage({ method: 'GET', url: `${origin}/r`, headers: { 'x-account': account } }),
      components: ['@method', '@authority', '@target-uri', 'x-account'],
      key: { key: ed.privateKey, keyId: 'ed-1' },
    });
    return [headerLine('Signature-Input', signatureInput), headerLine('Signature', signature)];
  }

  it('one line as signed: 200; the same plus a second X-Account line: 401 (the lines are combined)', async () => {
    const signed = signatureLines('me');
    expect((await rawGet(server.port, '/r', [...signed, headerLine('X-Account', 'me')])).status).toBe(200);
    const second = await rawGet(server.port, '/r', [...signed, headerLine('X-Account', 'me'), headerLine('X-Account', 'victim')]);
    expect(second.status).toBe(401);
  });

  it('two lines, each trimmed, signed as their combination: 200', async () => {
    const res = await rawGet(server.port, '/r', [
      ...signatureLines('me, you'),
      headerLine('X-Account', ' me '),
      headerLine('X-Account', 'you'),
    ]);
    expect(res.status).toBe(200);
  });
});
