/**
 * The protocol functions without Express: RFC 9421 §2.4's response bound to its request (`req`),
 * Fetch `Request`/`Response` messages, Accept-Signature (§5) both ways, and signMessage's refusals.
 */
import { jest } from '@jest/globals';
import { constants, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import {
  httpMessage,
  messageFromFetchRequest,
  messageFromFetchResponse,
  parseAcceptSignature,
  serializeAcceptSignature,
  createSignedFetch,
  signBase,
  signMessage,
  verifyBase,
  verifyMessage,
} from '../../src/index.js';
import { ed, rsa } from './helpers.js';
import { listen } from '../helpers/http.js';
import { rfcPublicKey, testRequest } from './rfc9421.js';

const publicKey = rfcPublicKey;

// RFC 9421 §2.4: the 503 that answers a signed request, signed with test-key-ecc-p256 over its own
// fields and the request's signature, authority and method.
const REQUEST_SIGNATURE =
  'sig1=:LAH8BjcfcOcLojiuOBFWn0P5keD3xAOuJRGziCLuD8r5MW9S0RoXXLzLSRfGY/3SF8kVIkHjE13SEFdTo4Af/fJ/Pu9wheqoLVdwXyY/UkBIS1M8Brc8IODsn5DFIrG0IrburbLi0uCc+E2ZIIb6HbUJ+o+jP58JelMTe0QE3IpWINTEzpxjqDf5/Df+InHCAkQCTuKsamjWXUpyOT1Wkxi7YPVNOjW4MfNuTZ9HdbD2Tr65+BXeTG9ZS/9SWuXAc+BZ8WyPz0QRz//ec3uWXd7bYYODSjRAxHqX+S1ag3LZElYyUKaAIjZ8MGOt4gXEwCSLDv/zqxZeWLj/PDkn6w==:';
const REQUEST_INPUT =
  'sig1=("@method" "@authority" "@path" "content-digest" "content-length" "content-type");created=1618884475;keyid="test-key-rsa-pss"';
const request = httpMessage(testRequest({ 'Signature-Input': REQUEST_INPUT, Signature: REQUEST_SIGNATURE }));
const RESPONSE_INPUT =
  'reqres=("@status" "content-length" "content-type" "signature";req;key="sig1" "@authority";req "@method";req);created=1618884479;keyid="test-key-ecc-p256"';
const RESPONSE_SIGNATURE = 'reqres=:mh17P4TbYYBmBwsXPT4nsyVzW4Rp9Fb8WcvnfqKCQLoMvzOBLD/n32tL/GPW6XE5GAS5bdsg1khK6lBzV1Cx/Q==:';

describe('RFC 9421 §2.4: a response bound to its request', () => {
  const keys = {
    'test-key-ecc-p256': { key: publicKey('test-key-ecc-p256') },
  };
  const lookup = (keyId: string): (typeof keys)[keyof typeof keys] | undefined => keys[keyId as keyof typeof keys];
  const clock = (): number => 1618884479 * 1000;

  it('the response signature verifies, with the base of the RFC; another request does not', async () => {
    const response = httpMessage({
      status: 503,
      headers: { Date: 'Tue, 20 Apr 2021 02:07:56 GMT', 'Content-Type': 'application/json', 'Content-Length': '62' },
      request,
    });
    const verified = await verifyMessage({
      message: response,
      signatureInput: RESPONSE_INPUT,
      signature: RESPONSE_SIGNATURE,
      keyLookup: lookup,
      requiredComponents: [],
      clock,
    });
    expect(verified.signatureBase).toBe(
      [
        '"@status": 503',
        '"content-length": 62',
        '"content-type": application/json',
        `"signature";req;key="sig1": ${REQUEST_SIGNATURE.slice('sig1='.length)}`,
        '"@authority";req: example.com',
        '"@method";req: POST',
        `"@signature-params": ${RESPONSE_INPUT.slice('reqres='.length)}`,
      ].join('\n'),
    );
    const otherRequest = httpMessage({ method: 'PUT', url: 'https://example.com/foo', headers: { Signature: REQUEST_SIGNATURE } });
    await expect(
      verifyMessage({
        message: httpMessage({
          status: 503,
          headers: { 'Content-Type': 'application/json', 'Content-Length': '62' },
          request: otherRequest,
        }),
        signatureInput: RESPONSE_INPUT,
        signature: RESPONSE_SIGNATURE,
        keyLookup: lookup,
        requiredComponents: [],
        clock,
      }),
    ).rejects.toMatchObject({ reason: 'signature_invalid' });
  });
});

describe('Fetch messages', () => {
  it('a Fetch Request signed and verified; a Fetch Response with @status', async () => {
    const fetchRequest = new Request('https://api.example.com/items?id=3', { method: 'DELETE', headers: { 'x-reason': 'cleanup' } });
    const signed = signMessage({
      message: messageFromFetchRequest(fetchRequest),
      components: ['@method', '@authority', '@target-uri', 'x-reason'],
      key: { key: ed.privateKey, keyId: 'ed-1' },
    });
    expect(signed.signatureBase.split('\n').slice(0, 4)).toEqual([
      '"@method": DELETE',
      '"@authority": api.example.com',
      '"@target-uri": https://api.example.com/items?id=3',
      '"x-reason": cleanup',
    ]);
    const keyLookup = (): { key: KeyObject } => ({ key: ed.publicKey });
    await expect(
      verifyMessage({
        message: messageFromFetchRequest(fetchRequest),
        signatureInput: signed.signatureInput,
        signature: signed.signature,
        keyLookup,
      }),
    ).resolves.toMatchObject({ keyId: 'ed-1' });
    const response = new Response('{}', { status: 202, headers: { 'content-type': 'application/json' } });
    const signedResponse = signMessage({
      message: messageFromFetchResponse(response, messageFromFetchRequest(fetchRequest)),
      components: ['@status', 'content-type', '"@method";req'],
      key: { key: ed.privateKey, keyId: 'ed-1' },
    });
    expect(signedResponse.signatureBase.split('\n').slice(0, 3)).toEqual([
      '"@status": 202',
      '"content-type": application/json',
      '"@method";req: DELETE',
    ]);
  });
});

describe('Accept-Signature (RFC 9421 §5)', () => {
  it('serializes what to sign and parses it back', () => {
    const text = serializeAcceptSignature([
      {
        label: 'sig1',
        components: ['@method', '@target-uri', '"@query-param";name="id"', 'content-digest'],
        params: { created: true, nonce: true, tag: 'orders', keyid: 'k1' },
      },
    ]);
    expect(text).toBe('sig1=("@method" "@target-uri" "@query-param";name="id" "content-digest");created;nonce;tag="orders";keyid="k1"');
    expect(parseAcceptSignature(text)).toEqual([
      {
        label: 'sig1',
        components: ['"@method"', '"@target-uri"', '"@query-param";name="id"', '"content-digest"'],
        params: { created: true, nonce: true, tag: 'orders', keyid: 'k1' },
      },
    ]);
  });
});

describe('signMessage refusals', () => {
  const message = httpMessage({ method: 'GET', url: 'https://api.example.com/' });
  it.each([
    ['a bad label', { label: 'Sig 1' }, '"label"'],
    ['an unknown component', { components: ['@nope'] }, '"components"'],
    ['an algorithm the key cannot sign with', { key: { key: ed.privateKey, algorithm: 'ecdsa-p256-sha256' as const } }, 'cannot sign with'],
  ])('%s', (_, change, text) => {
    expect(() => signMessage({ message, components: ['@method'], key: { key: ed.privateKey }, ...change })).toThrow(text);
  });
  it('a covered component the message lacks', () => {
    expect(() => signMessage({ message, components: ['x-absent'], key: { key: ed.privateKey } })).toThrow(
      expect.objectContaining({ reason: 'component_missing' }) as Error,
    );
  });
});

describe('rsa-pss-sha512 salt length (RFC 9421 §3.3.1)', () => {
  const base = '"@method": GET\n"@signature-params": ("@method");created=1';
  const pss = (saltLength: number): Buffer =>
    cryptoSign('sha512', Buffer.from(base), { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });

  it('signs with a 64-byte salt', () => {
    const signature = signBase('rsa-pss-sha512', rsa.privateKey, base);
    const withSalt = (saltLength: number): boolean =>
      cryptoVerify('sha512', Buffer.from(base), { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    // 190 bytes: the largest salt of a 2048-bit key with SHA-512.
    expect([withSalt(64), withSalt(32), withSalt(190)]).toEqual([true, false, false]);
  });

  it.each([0, 32, 64, constants.RSA_PSS_SALTLEN_MAX_SIGN])('verifies a signature with salt length %i; a changed base does not', (salt) => {
    const signature = pss(salt);
    expect([
      verifyBase('rsa-pss-sha512', rsa.publicKey, base, signature),
      verifyBase('rsa-pss-sha512', rsa.publicKey, `${base} `, signature),
    ]).toEqual([true, false]);
  });
});

describe('HMAC only when the key lookup names it', () => {
  const pem = Buffer.from(ed.publicKey.export({ type: 'spki', format: 'pem' }));
  const message = httpMessage({ method: 'GET', url: 'https://api.example.com/r' });
  const signed = signMessage({
    message,
    components: ['@method', '@authority', '@target-uri'],
    key: { key: pem, keyId: 'k', algorithm: 'hmac-sha256' },
    params: { created: Math.floor(Date.now() / 1000) },
  });
  const verify = (algorithms?: readonly ('hmac-sha256' | 'ed25519')[]): Promise<unknown> =>
    verifyMessage({
      message,
      signatureInput: signed.signatureInput,
      signature: signed.signature,
      keyLookup: () => ({ key: pem, ...(algorithms === undefined ? {} : { algorithms }) }),
    });

  it('bytes without algorithms are not an HMAC secret (a public key passed as a Buffer cannot be signed with by anyone)', async () => {
    await expect(verify()).rejects.toMatchObject({ reason: 'algorithm_not_allowed' });
  });

  it('bytes with algorithms: ["hmac-sha256"] verify', async () => {
    await expect(verify(['hmac-sha256'])).resolves.toMatchObject({ algorithm: 'hmac-sha256' });
  });
});

describe('createSignedFetch and createRequestSigner: the key is checked when they are built', () => {
  it.each([
    ['a KeyObject given as the whole "key" option', () => ({ key: ed.privateKey as unknown as { key: KeyObject } })],
    ['a public key', () => ({ key: { key: ed.publicKey } })],
    ['a string', () => ({ key: { key: 'not a key' as unknown as KeyObject } })],
    ['an HMAC secret under 32 bytes', () => ({ key: { key: new Uint8Array(16) } })],
    ['an RSA key without "algorithm"', () => ({ key: { key: rsa.privateKey } })],
    ['an algorithm the key cannot make', () => ({ key: { key: ed.privateKey, algorithm: 'ecdsa-p256-sha256' as const } })],
  ])('%s: a TypeError naming "key", not a failure on the first request', (_name, options) => {
    expect(() => createSignedFetch(options())).toThrow(/^createSignedFetch\(\): "key/);
  });

  it('an option it does not know (keyId beside key) is warned about, naming the option', () => {
    const warned: string[] = [];
    const spy = jest.spyOn(console, 'warn').mockImplementation((line: unknown) => void warned.push(String(line)));
    try {
      createSignedFetch({ key: { key: ed.privateKey, keyId: 'k1' }, keyId: 'k1' } as Parameters<typeof createSignedFetch>[0]);
    } finally {
      spy.mockRestore();
    }
    expect(warned.join('\n')).toMatch(/createSignedFetch\(\).*"keyId"/);
  });
});

describe('createSignedFetch and redirects', () => {
  it('does not follow a redirect by default: the signature (for the first target only) is not sent on to the next', async () => {
    const seen: Array<string | undefined> = [];
    const elsewhere = await listen((req, res) => {
      seen.push(String(req.headers['signature']));
      res.end('ok');
    });
    const redirecting = await listen((_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/next` });
      res.end();
    });
    try {
      const signedFetch = createSignedFetch({ key: { key: ed.privateKey, keyId: 'k' } });
      const first = await signedFetch(`http://127.0.0.1:${redirecting.port}/start`, { method: 'POST', body: 'x' });
      expect([first.status, first.headers.get('location'), seen.length]).toEqual([307, `http://127.0.0.1:${elsewhere.port}/next`, 0]);
      // Asked for, it follows (the caller's choice).
      const followed = await signedFetch(`http://127.0.0.1:${redirecting.port}/start`, { redirect: 'follow' });
      expect([followed.status, seen.length]).toEqual([200, 1]);
    } finally {
      await Promise.all([elsewhere.close(), redirecting.close()]);
    }
  });
});
