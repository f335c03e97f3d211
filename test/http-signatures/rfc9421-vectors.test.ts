/**
 * RFC 9421 Appendix B: the B.1 keys, the B.2 signatures over the test request and response. The
 * signature bases match the RFC byte for byte, every signature verifies, the deterministic ones
 * (hmac-sha256, ed25519) are reproduced byte for byte, and altering any covered component refuses.
 * RFC 9530 §B: the Content-Digest examples.
 */
import {
  contentDigest,
  ContentDigestCheck,
  hmacSecret,
  httpMessage,
  signMessage,
  verifyMessage,
  type HttpMessage,
  type HttpMessageInit,
  type VerificationKey,
} from '../../src/protocols/http-signatures/index.js';
import { isAuthError } from '../../src/errors.js';
import { fixtureText, REQUEST_DIGEST, rfcPrivateKey, rfcPublicKey, testRequest } from './rfc9421.js';

const publicKey = rfcPublicKey;
const privateKey = rfcPrivateKey;
const sharedSecret = hmacSecret(Buffer.from(fixtureText('test-shared-secret.txt').trim(), 'base64'));

// B.1: the keys, by keyid, with the algorithm each is used with in B.2.
const KEYS: Record<string, VerificationKey> = {
  'test-key-rsa': { key: publicKey('test-key-rsa'), algorithms: ['rsa-v1_5-sha256'] },
  'test-key-rsa-pss': { key: publicKey('test-key-rsa-pss'), algorithms: ['rsa-pss-sha512'] },
  'test-key-ecc-p256': { key: publicKey('test-key-ecc-p256') },
  'test-key-ed25519': { key: publicKey('test-key-ed25519') },
  'test-shared-secret': { key: sharedSecret, algorithms: ['hmac-sha256'] },
};

// §2.4 / B.2: the test request and response.
const REQUEST = testRequest();
const RESPONSE: HttpMessageInit = {
  status: 200,
  headers: {
    Date: 'Tue, 20 Apr 2021 02:07:56 GMT',
    'Content-Type': 'application/json',
    'Content-Digest': 'sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:',
    'Content-Length': '23',
  },
};

interface Vector {
  readonly section: string;
  readonly message: HttpMessageInit;
  readonly input: string;
  readonly signature: string;
  readonly base: string;
}

const VECTORS: readonly Vector[] = [
  {
    section: 'B.2.1 minimal (rsa-pss-sha512)',
    message: REQUEST,
    input: 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"',
    signature:
      'sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:',
    base: '"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"',
  },
  {
    section: 'B.2.2 selective (rsa-pss-sha512)',
    message: REQUEST,
    input:
      'sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"',
    signature:
      'sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:',
    base: [
      '"@authority": example.com',
      `"content-digest": ${REQUEST_DIGEST}`,
      '"@query-param";name="Pet": dog',
      '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"',
    ].join('\n'),
  },
  {
    section: 'B.2.3 full coverage (rsa-pss-sha512)',
    message: REQUEST,
    input:
      'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"',
    signature:
      'sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:',
    base: [
      '"date": Tue, 20 Apr 2021 02:07:55 GMT',
      '"@method": POST',
      '"@path": /foo',
      '"@query": ?param=Value&Pet=dog',
      '"@authority": example.com',
      '"content-type": application/json',
      `"content-digest": ${REQUEST_DIGEST}`,
      '"content-length": 18',
      '"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"',
    ].join('\n'),
  },
  {
    section: 'B.2.4 response (ecdsa-p256-sha256)',
    message: RESPONSE,
    input: 'sig-b24=("@status" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-ecc-p256"',
    signature: 'sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==:',
    base: [
      '"@status": 200',
      '"content-type": application/json',
      '"content-digest": sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:',
      '"content-length": 23',
      '"@signature-params": ("@status" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-ecc-p256"',
    ].join('\n'),
  },
  {
    section: 'B.2.5 hmac-sha256',
    message: REQUEST,
    input: 'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
    signature: 'sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:',
    base: [
      '"date": Tue, 20 Apr 2021 02:07:55 GMT',
      '"@authority": example.com',
      '"content-type": application/json',
      '"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
    ].join('\n'),
  },
  {
    section: 'B.2.6 ed25519',
    message: REQUEST,
    input: 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    signature: 'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:',
    base: [
      '"date": Tue, 20 Apr 2021 02:07:55 GMT',
      '"@method": POST',
      '"@path": /foo',
      '"@authority": example.com',
      '"content-type": application/json',
      '"content-length": 18',
      '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    ].join('\n'),
  },
];

// The vectors were made at `created`; the clock stands there, and nothing beyond RFC 9421 is required.
const AT = 1618884473 * 1000;

function verify(vector: Vector, message: HttpMessage = httpMessage(vector.message)): ReturnType<typeof verifyMessage> {
  return verifyMessage({
    message,
    signatureInput: vector.input,
    signature: vector.signature,
    keyLookup: (keyId) => KEYS[keyId],
    requiredComponents: [],
    clock: () => AT,
  });
}

async function reason(pending: Promise<unknown>): Promise<string | undefined> {
  try {
    await pending;
  } catch (thrown) {
    if (isAuthError(thrown)) return thrown.reason;
    throw thrown;
  }
  return undefined;
}

describe('RFC 9421 Appendix B.2', () => {
  it.each(VECTORS.map((v) => [v.section, v] as const))('%s: the signature base matches and the signature verifies', async (_, vector) => {
    const verified = await verify(vector);
    expect(verified.signatureBase).toBe(vector.base);
    expect(verified.label).toBe(vector.input.slice(0, vector.input.indexOf('=')));
  });

  it('B.2.5 and B.2.6 are reproduced byte for byte (deterministic algorithms)', () => {
    const message = httpMessage(REQUEST);
    const hmac = signMessage({
      message,
      components: ['date', '@authority', 'content-type'],
      key: { key: sharedSecret, keyId: 'test-shared-secret' },
      params: { created: 1618884473 },
      label: 'sig-b25',
    });
    expect(hmac.signatureInput).toBe(VECTORS[4]?.input);
    expect(hmac.signature).toBe(VECTORS[4]?.signature);
    const ed = signMessage({
      message,
      components: ['date', '@method', '@path', '@authority', 'content-type', 'content-length'],
      key: { key: privateKey('test-key-ed25519'), keyId: 'test-key-ed25519' },
      params: { created: 1618884473 },
      label: 'sig-b26',
    });
    expect(ed.signatureInput).toBe(VECTORS[5]?.input);
    expect(ed.signature).toBe(VECTORS[5]?.signature);
  });

  it('signatures made here with the B.1 private keys verify (rsa-pss-sha512, rsa-v1_5-sha256, ecdsa-p256-sha256)', async () => {
    const message = httpMessage(REQUEST);
    for (const [keyId, algorithm] of [
      ['test-key-rsa-pss', 'rsa-pss-sha512'],
      ['test-key-rsa', 'rsa-v1_5-sha256'],
      ['test-key-ecc-p256', 'ecdsa-p256-sha256'],
    ] as const) {
      const signed = signMessage({
        message,
        components: ['@method', '@authority', '@target-uri', 'content-digest'],
        key: { key: privateKey(keyId), algorithm, keyId },
        params: { created: 1618884473 },
      });
      const verified = await verifyMessage({
        message,
        signatureInput: signed.signatureInput,
        signature: signed.signature,
        keyLookup: (id) => KEYS[id],
        clock: () => AT,
      });
      expect(verified.algorithm).toBe(algorithm);
    }
  });

  // Each covered component of each vector, changed in the message: the signature no longer verifies.
  const ALTERATIONS: Record<string, (init: HttpMessageInit) => HttpMessageInit> = {
    '"date"': (m) => ({ ...m, headers: { ...(m.headers as Record<string, string>), Date: 'Tue, 20 Apr 2021 02:07:56 GMT' } }),
    '"@method"': (m) => ({ ...m, method: 'PUT' }),
    '"@path"': (m) => ({ ...m, url: 'https://example.com/fo0?param=Value&Pet=dog' }),
    '"@query"': (m) => ({ ...m, url: 'https://example.com/foo?param=Value&Pet=cat' }),
    '"@query-param";name="Pet"': (m) => ({ ...m, url: 'https://example.com/foo?param=Value&Pet=cat' }),
    '"@authority"': (m) => ({ ...m, url: 'https://example.org/foo?param=Value&Pet=dog' }),
    '"content-type"': (m) => ({ ...m, headers: { ...(m.headers as Record<string, string>), 'Content-Type': 'text/plain' } }),
    '"content-digest"': (m) => ({
      ...m,
      headers: { ...(m.headers as Record<string, string>), 'Content-Digest': contentDigest('{"hello": "world!"}', ['sha-512']) },
    }),
    '"content-length"': (m) => ({ ...m, headers: { ...(m.headers as Record<string, string>), 'Content-Length': '19' } }),
    '"@status"': (m) => ({ ...m, status: 201 }),
  };
  const cases = VECTORS.flatMap((vector) => {
    const components = vector.base
      .split('\n')
      .slice(0, -1)
      .map((line) => line.slice(0, line.lastIndexOf(': ')));
    return components.map((component) => [vector.section, component, vector] as const);
  });

  it.each(cases)('%s: altering %s refuses', async (_, component, vector) => {
    const alter = ALTERATIONS[component];
    expect(alter).toBeDefined();
    expect(await reason(verify(vector, httpMessage((alter as (i: HttpMessageInit) => HttpMessageInit)(vector.message))))).toBe(
      'signature_invalid',
    );
  });

  it('B.2.1 (no components) is refused when its parameters change: the nonce is signed', async () => {
    const vector = VECTORS[0] as Vector;
    expect(await reason(verify({ ...vector, input: vector.input.replace('yemd', 'yemf') }))).toBe('signature_invalid');
  });
});

describe('RFC 9530 Content-Digest examples', () => {
  // RFC 9530 §B.1 / §2: the body {"hello": "world"} and its digests.
  const body = '{"hello": "world"}';
  it('computes the sha-256 and sha-512 digests of the examples', () => {
    expect(contentDigest(body, ['sha-256'])).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
    expect(contentDigest(body, ['sha-512'])).toBe(REQUEST_DIGEST);
  });

  it('checks a streamed body against every digest it knows, and refuses a changed body', () => {
    const check = new ContentDigestCheck(`sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, ${REQUEST_DIGEST}`, 1024);
    check.update(Buffer.from(body.slice(0, 5)));
    check.update(Buffer.from(body.slice(5)));
    expect(() => check.finish()).not.toThrow();
    const changed = new ContentDigestCheck(REQUEST_DIGEST, 1024);
    changed.update(Buffer.from('{"hello": "world!"}'));
    expect(() => changed.finish()).toThrow(expect.objectContaining({ reason: 'digest_mismatch', status: 401 }) as Error);
  });
});
