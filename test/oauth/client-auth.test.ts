import fc from 'fast-check';
import '../helpers/fast-check-seed.js';
import { clientAuthenticator } from '../../src/protocols/oauth/index.js';

/** How an RFC 6749 §2.3.1 server reads a Basic header: base64, split at the first ':', form-decode. */
function serverDecode(header: string): [string, string] {
  const raw = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return [decode(raw.slice(0, colon)), decode(raw.slice(colon + 1))];
}

describe('client authentication', () => {
  it('client_secret_basic form-encodes id and secret so any characters round-trip (RFC 6749 §2.3.1)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (id, secret) => {
        const headers: Record<string, string> = {};
        clientAuthenticator({ method: 'client_secret_basic', clientId: id, clientSecret: secret }).apply(
          new URLSearchParams(),
          headers,
          'http://x/token',
          undefined,
          0,
        );
        expect(serverDecode(headers['authorization'] ?? '')).toEqual([id, secret]);
      }),
    );
  });

  it('client_secret_post puts both in the form and nothing in headers', () => {
    const form = new URLSearchParams();
    const headers: Record<string, string> = {};
    clientAuthenticator({ method: 'client_secret_post', clientId: 'a b', clientSecret: 's:+/' }).apply(
      form,
      headers,
      'http://x/token',
      undefined,
      0,
    );
    expect(Object.fromEntries(form)).toEqual({ client_id: 'a b', client_secret: 's:+/' });
    expect(headers).toEqual({});
  });
});
