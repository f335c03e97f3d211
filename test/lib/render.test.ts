/**
 * AuthErrors as HTTP responses: the RFC 9457 problem body, RFC 6750 challenges, Retry-After, and
 * nothing internal written. writeProblem answers real requests on a loopback server.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError, type Challenge } from '../../src/errors.js';
import {
  challengesFor,
  formatChallenge,
  oauthErrorFor,
  problemType,
  toAuthError,
  toProblem,
  withOwnChallenge,
  writeProblem,
} from '../../src/lib/render.js';

const BEARER: readonly Challenge[] = [{ scheme: 'Bearer', params: { realm: 'api' } }];

/** Answers one request with `write(res)` on a loopback server; the response as fetch sees it. */
async function answer(write: (res: ServerResponse) => void): Promise<Response> {
  const server = createServer((_req, res) => write(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  } finally {
    server.close();
  }
}

describe('toProblem', () => {
  it('is the RFC 9457 body with a URN type, and a reason only when the error has one', () => {
    const error = new AuthError('token_expired', { reason: 'expired', detail: 'The token has expired.', cause: new Error('secret') });
    expect(problemType('token_expired')).toBe('urn:authnz-express:problem:token_expired');
    expect(toProblem(error)).toEqual({
      type: 'urn:authnz-express:problem:token_expired',
      title: 'Expired credentials',
      status: 401,
      detail: 'The token has expired.',
      code: 'token_expired',
      reason: 'expired',
    });
    expect(Object.keys(toProblem(new AuthError('forbidden')))).not.toContain('reason');
  });
});

describe('formatChallenge', () => {
  it('quotes params in order, skips undefined ones, and writes the bare scheme without params', () => {
    expect(formatChallenge({ scheme: 'Bearer' })).toBe('Bearer');
    expect(formatChallenge({ scheme: 'Bearer', params: {} })).toBe('Bearer');
    expect(formatChallenge({ scheme: 'Bearer', params: { realm: 'api', scope: 'a b' } })).toBe('Bearer realm="api", scope="a b"');
    const params = { realm: 'api', error: undefined } as unknown as Record<string, string>;
    expect(formatChallenge({ scheme: 'Bearer', params })).toBe('Bearer realm="api"');
  });

  it('replaces quotes, backslashes and characters outside visible ASCII, and stops at 200 characters', () => {
    expect(formatChallenge({ scheme: 'Bearer', params: { error_description: 'a"b\\c\r\nd\u00e9' } })).toBe(
      'Bearer error_description="a b c  d "',
    );
    const long = formatChallenge({ scheme: 'Bearer', params: { error_description: 'x'.repeat(500) } });
    expect(long).toBe(`Bearer error_description="${'x'.repeat(200)}"`);
  });
});

describe('oauthErrorFor and challengesFor', () => {
  it('maps statuses to the RFC 6750 error codes', () => {
    expect(oauthErrorFor(new AuthError('request_malformed'))).toBe('invalid_request');
    expect(oauthErrorFor(new AuthError('token_invalid'))).toBe('invalid_token');
    expect(oauthErrorFor(new AuthError('credentials_missing'))).toBeUndefined();
    expect(oauthErrorFor(new AuthError('invalid_dpop_proof'))).toBe('invalid_dpop_proof');
    expect(oauthErrorFor(new AuthError('use_dpop_nonce'))).toBe('use_dpop_nonce');
    expect(oauthErrorFor(new AuthError('insufficient_scope'))).toBe('insufficient_scope');
    expect(oauthErrorFor(new AuthError('rate_limited'))).toBeUndefined();
    expect(oauthErrorFor(new AuthError('dependency_unavailable'))).toBeUndefined();
  });

  it("adds error and error_description to the route defaults; the error's own challenges win unchanged", () => {
    const invalid = new AuthError('token_invalid', { detail: 'bad signature' });
    expect(challengesFor(invalid, BEARER)).toEqual([
      { scheme: 'Bearer', params: { realm: 'api', error: 'invalid_token', error_description: 'bad signature' } },
    ]);
    expect(challengesFor(new AuthError('credentials_missing'), BEARER)).toEqual(BEARER);
    const own = new AuthError('token_invalid', { challenges: [{ scheme: 'DPoP', params: { algs: 'ES256' } }] });
    expect(challengesFor(own, BEARER)).toEqual([{ scheme: 'DPoP', params: { algs: 'ES256' } }]);
  });
});

describe('writeProblem', () => {
  it('writes status, problem+json, challenges, no-store and Content-Length, never the cause', async () => {
    const error = new AuthError('token_invalid', { reason: 'signature', detail: 'bad signature', cause: new Error('internal-detail') });
    const res = await answer((r) => writeProblem(error, r, BEARER));
    const text = await res.text();
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api", error="invalid_token", error_description="bad signature"');
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(JSON.parse(text)).toEqual(toProblem(error));
    expect(text).not.toContain('internal-detail');
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('writes Retry-After rounded up and extra headers; no challenge outside 400/401/403', async () => {
    const error = new AuthError('dependency_unavailable', { retryAfter: 2.2, headers: { 'DPoP-Nonce': 'n-1' } });
    const res = await answer((r) => writeProblem(error, r, BEARER));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('dpop-nonce')).toBe('n-1');
    expect(res.headers.get('www-authenticate')).toBeNull();
    await res.text();
  });

  it('destroys the connection when the headers were already sent', async () => {
    const failed = await answer((r) => {
      r.writeHead(200, { 'content-type': 'text/plain' });
      r.write('partial');
      writeProblem(new AuthError('token_invalid'), r, BEARER);
    }).then(
      (res) => res.text(),
      (error: unknown) => error,
    );
    // fetch fails on the cut body (undici's TypeError, from another realm than the test's).
    expect(failed).toMatchObject({ name: 'TypeError' });
  });
});

describe('toAuthError and withOwnChallenge', () => {
  it('passes AuthErrors through and turns anything else into a 401 that keeps the cause', () => {
    const error = new AuthError('forbidden');
    expect(toAuthError(error)).toBe(error);
    const thrown = new Error('boom');
    const converted = toAuthError(thrown);
    expect(converted).toMatchObject({ code: 'token_invalid', status: 401, reason: 'verification_failed', cause: thrown });
    expect(converted.detail).not.toContain('boom');
    expect(toAuthError('a string').code).toBe('token_invalid');
  });

  it("gives a scheme's rejection that scheme's challenge with invalid_token, keeping everything else", () => {
    const error = new AuthError('token_expired', { detail: 'expired', reason: 'expired', headers: { 'X-A': 'b' }, endsChain: true });
    const own = withOwnChallenge(error, { scheme: 'JWT', params: { realm: 'svc' } });
    expect(own).toMatchObject({ code: 'token_expired', detail: 'expired', reason: 'expired', headers: { 'X-A': 'b' }, endsChain: true });
    expect(own.challenges).toEqual([{ scheme: 'JWT', params: { realm: 'svc', error: 'invalid_token', error_description: 'expired' } }]);
    expect(withOwnChallenge(error, undefined)).toBe(error);
    const already = new AuthError('token_invalid', { challenges: [{ scheme: 'Basic' }] });
    expect(withOwnChallenge(already, { scheme: 'JWT' })).toBe(already);
  });
});
