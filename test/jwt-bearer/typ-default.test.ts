/**
 * The token type under jwtBearerScheme's default `jwt` profile: `typ` is not checked by default
 * (Keycloak, Auth0 and Entra ID write `JWT`), so an audience that may be a client id is warned about
 * at construction (`typ_unchecked`): an ID token issued to that client has the same `aud` and would
 * pass as an access token (RFC 8725 §3.11, RFC 9068 §4). With `typ: 'at+jwt'` it is refused.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { jwtBearerScheme, JwtAccessTokenVerifier, type JwtAccessTokenVerifierOptions, type Logger } from '../../src/index.js';

const ISS = 'https://issuer.example.test/';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

function recorder(): { logger: Logger; codes: string[]; messages: string[] } {
  const codes: string[] = [];
  const messages: string[] = [];
  const none = (): void => undefined;
  return {
    codes,
    messages,
    logger: {
      debug: none,
      info: none,
      error: none,
      warn: (fields, message) => {
        codes.push(String(fields['code']));
        messages.push(message ?? '');
      },
    },
  };
}

describe('typ_unchecked: warned at construction when an audience may be a client id', () => {
  it.each([
    ['a bare client-id-like audience', 1, { audience: 'orders-app' }],
    ['an Entra ID application GUID', 1, { audience: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' }],
    [
      'several issuers, one with a bare audience',
      1,
      {
        issuers: [
          { issuer: ISS, audience: 'https://api.example.test', publicKeys: [publicKey] },
          { issuer: 'https://b.example.test/', audience: ['api://orders', 'orders-app'], publicKeys: [publicKey] },
        ],
      },
    ],
    ['an https API identifier', 0, { audience: 'https://api.example.test' }],
    ['an api:// identifier', 0, { audience: 'api://orders' }],
    ['a bare audience with typ at+jwt', 0, { audience: 'orders-app', typ: 'at+jwt' }],
    ['a bare audience under the rfc9068 profile', 0, { audience: 'orders-app', profile: 'rfc9068' }],
    ['a bare audience with validate: { typ_unchecked: false }', 0, { audience: 'orders-app', validate: { typ_unchecked: false } }],
  ] as Array<[string, number, Partial<JwtAccessTokenVerifierOptions>]>)('%s → %i warning(s)', (_name, count, options) => {
    const { logger, codes, messages } = recorder();
    const base = options.issuers ? {} : { issuer: ISS, publicKeys: [publicKey] };
    // DPoP pinned to this API's origin, so the only warning left to count is the one under test.
    jwtBearerScheme({ ...base, dpop: { origins: ['https://api.example.test'] }, ...options, logger });
    expect(codes).toEqual(new Array<string>(count).fill('typ_unchecked'));
    for (const message of messages) {
      expect(message).toMatch(/^jwtBearerScheme\(\): "typ" is not checked/);
      expect(message).not.toContain('orders-app'); // names the issuer, never the option's value
    }
  });

  it('the risk it names: an ID token for client orders-app passes without typ, and is refused with typ at+jwt', async () => {
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({ iss: ISS, aud: 'orders-app', sub: 'alice', exp: now + 300, iat: now, nonce: 'n-0S6_WzA2Mj', auth_time: now })}`;
    const idToken = `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    const quiet = recorder().logger;
    await expect(
      new JwtAccessTokenVerifier({ issuer: ISS, audience: 'orders-app', publicKeys: [publicKey], logger: quiet }).verify(idToken),
    ).resolves.toMatchObject({ subject: 'alice' });
    await expect(
      new JwtAccessTokenVerifier({ issuer: ISS, audience: 'orders-app', publicKeys: [publicKey], typ: 'at+jwt' }).verify(idToken),
    ).rejects.toMatchObject({ code: 'token_invalid', reason: 'type_invalid' });
  });
});
