/**
 * The checks of the Authorization header made before any scheme runs: one header, of bounded size,
 * in valid syntax. Requests are IncomingMessages with the headers Node would have parsed.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { checkAuthorizationHeader } from '../../src/lib/authorization-header.js';

/** A request carrying the raw header lines `raw` ([name, value, name, value, …]), as Node parses them. */
function requestWith(raw: string[]): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.rawHeaders = raw;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    // Node keeps the first of repeated Authorization headers.
    if (req.headers[name] === undefined) req.headers[name] = raw[i + 1] as string;
  }
  return req;
}

const reasonOf = (raw: string[], maxBytes = 100): string | undefined => checkAuthorizationHeader(requestWith(raw), maxBytes)?.reason;

describe('checkAuthorizationHeader', () => {
  it('passes a request without the header, and one well-formed header', () => {
    expect(checkAuthorizationHeader(requestWith(['Host', 'x']), 100)).toBeUndefined();
    expect(checkAuthorizationHeader(requestWith(['Authorization', 'Bearer abc.def-_~+/=']), 100)).toBeUndefined();
    expect(checkAuthorizationHeader(requestWith(['authorization', 'Digest a="b", c="d"']), 100)).toBeUndefined();
  });

  it('refuses a repeated header, whatever the case of its names, with 400 duplicate_authorization', () => {
    const error = checkAuthorizationHeader(requestWith(['Authorization', 'Bearer a', 'Host', 'x', 'AUTHORIZATION', 'Bearer b']), 100);
    expect(error).toMatchObject({ status: 400, code: 'request_malformed', reason: 'duplicate_authorization' });
    expect(reasonOf(['authorization', 'Bearer a', 'Authorization', 'Bearer a'])).toBe('duplicate_authorization');
    // A header whose name only starts like it is another header.
    expect(reasonOf(['Authorization', 'Bearer a', 'Authorizations', 'x'])).toBeUndefined();
  });

  it('refuses a header longer than maxBytes, and accepts one of exactly maxBytes', () => {
    const header = `Bearer ${'a'.repeat(93)}`;
    expect(header).toHaveLength(100);
    expect(reasonOf(['Authorization', header], 100)).toBeUndefined();
    expect(reasonOf(['Authorization', `${header}a`], 100)).toBe('authorization_too_large');
  });

  it('refuses invalid syntax and a list of credentials', () => {
    expect(reasonOf(['Authorization', 'Bearer  abc'])).toBe('authorization_syntax');
    expect(reasonOf(['Authorization', 'Bear er abc'])).toBeUndefined();
    expect(reasonOf(['Authorization', 'Bearer\tabc'])).toBe('authorization_syntax');
    expect(reasonOf(['Authorization', 'Bearer abc, Basic xyz'])).toBe('authorization_list');
  });

  it('checks duplicates before size, and size before syntax', () => {
    const long = `Bearer  ${'a'.repeat(200)}`;
    expect(reasonOf(['Authorization', long, 'Authorization', 'Bearer a'])).toBe('duplicate_authorization');
    expect(reasonOf(['Authorization', long])).toBe('authorization_too_large');
  });
});
