import { generateKeyPairSync, sign } from 'node:crypto';
import { decodeBase64UrlStrict, hasDuplicateTopLevelKeys } from '../../src/jwt/compact.js';
import { importPublicKey } from '../../src/index.js';
import {
  algorithmsForKey,
  parseCompact,
  signBytes,
  signCompact,
  verifyParsed,
  verifySignature,
  verifySignatureAsync,
  type JwsAlgorithm,
} from '../../src/jwt/compact.js';

describe('hasDuplicateTopLevelKeys', () => {
  it.each([
    ['{"a":1,"b":2}', false],
    ['{"a":1,"a":2}', true],
    ['{"a":{"a":1},"b":[{"a":2}]}', false],
    ['{"a":"a:b","b":"\\"a\\":"}', false],
    ['{"a":1,"\\u0061":2}', true],
    ['{ "a" : 1 , "a" : 2 }', true],
  ])('%s → %s', (text, expected) => {
    expect(hasDuplicateTopLevelKeys(text)).toBe(expected);
  });
});

describe('decodeBase64UrlStrict', () => {
  it('accepts canonical base64url and rejects padding, other alphabets and stray bits', () => {
    expect(decodeBase64UrlStrict('YWJj')?.toString()).toBe('abc');
    expect(decodeBase64UrlStrict('YWI')?.toString()).toBe('ab');
    expect(decodeBase64UrlStrict('YWI=')).toBeUndefined();
    expect(decodeBase64UrlStrict('YW+/')).toBeUndefined();
    expect(decodeBase64UrlStrict('YWJ')).toBeUndefined(); // non-zero trailing bits
    expect(decodeBase64UrlStrict('Y')).toBeUndefined();
  });
});

describe('decodeBase64UrlStrict agrees with the decode-and-re-encode rule', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const roundTrip = (s: string): string | undefined => {
    if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return undefined;
    const bytes = Buffer.from(s, 'base64url');
    return bytes.toString('base64url') === s ? bytes.toString('hex') : undefined;
  };
  it('on every 2- and 3-character final group, after a full group, and on junk', () => {
    const disagree: string[] = [];
    const check = (s: string): void => {
      if (decodeBase64UrlStrict(s)?.toString('hex') !== roundTrip(s)) disagree.push(s);
    };
    for (const a of alphabet) {
      for (const b of alphabet) {
        check(a + b);
        check(`QUJD${a}${b}`);
        for (const c of alphabet) check(a + b + c);
      }
    }
    for (const junk of ['', 'A', 'AB=', 'A+B/', 'ab cd', 'QUJDR', 'QUJD\u00e9A']) check(junk);
    expect(disagree).toEqual([]);
    expect(decodeBase64UrlStrict('YWI')?.toString()).toBe('ab');
    expect(decodeBase64UrlStrict('YWJ')).toBeUndefined();
  });
});

describe('JWS codec', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');

  it('signs and verifies ES256 and EdDSA; the key decides the algorithm', () => {
    const es = parseCompact(signCompact('ES256', ec.privateKey, '{"alg":"ES256"}', '{"sub":"x"}'));
    expect(() => verifyParsed(es, ec.publicKey, ['ES256'])).not.toThrow();
    expect(() => verifyParsed(es, ed.publicKey, ['EdDSA'])).toThrow(expect.objectContaining({ code: 'algorithm_not_allowed' }));
    const eddsa = parseCompact(signCompact('EdDSA', ed.privateKey, '{"alg":"EdDSA"}', '{"sub":"x"}'));
    expect(() => verifyParsed(eddsa, ed.publicKey, ['EdDSA'])).not.toThrow();
  });

  it('rejects ECDSA signatures with r or s zero or out of range', () => {
    const token = signCompact('ES256', ec.privateKey, '{"alg":"ES256"}', '{"sub":"x"}');
    const [h, p] = token.split('.') as [string, string];
    const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    const bad = [
      Buffer.alloc(64),
      Buffer.concat([Buffer.alloc(32), Buffer.alloc(32, 1)]),
      Buffer.concat([n, n]),
      Buffer.concat([Buffer.alloc(32, 0xff), Buffer.alloc(32, 0xff)]),
      Buffer.alloc(63, 1),
    ];
    for (const sig of bad) {
      const parsed = parseCompact(`${h}.${p}.${sig.toString('base64url')}`);
      expect(() => verifyParsed(parsed, ec.publicKey, ['ES256'])).toThrow(expect.objectContaining({ code: 'signature_invalid' }));
    }
  });

  it('ES384 with P-384 keys: r || s of 96 bytes verifies, the DER form and other key types do not', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    expect(algorithmsForKey(importPublicKey(p384.publicKey))).toEqual(['ES384']);
    const token = signCompact('ES384', p384.privateKey, '{"alg":"ES384"}', '{"sub":"x"}');
    expect(() => verifyParsed(parseCompact(token), p384.publicKey, ['ES384'])).not.toThrow();
    expect(() => verifyParsed(parseCompact(token), p384.publicKey, ['ES256'])).toThrow(
      expect.objectContaining({ code: 'algorithm_not_allowed' }),
    );
    const [h, p] = token.split('.') as [string, string];
    const der = sign('sha384', Buffer.from(`${h}.${p}`), p384.privateKey).toString('base64url');
    expect(() => verifyParsed(parseCompact(`${h}.${p}.${der}`), p384.publicKey, ['ES384'])).toThrow(
      expect.objectContaining({ code: 'signature_invalid' }),
    );
  });

  it('rejects crit headers and oversized tokens', () => {
    const token = signCompact('EdDSA', ed.privateKey, '{"alg":"EdDSA","crit":["exp"]}', '{}');
    expect(() => parseCompact(token)).toThrow(expect.objectContaining({ code: 'critical_header' }));
    expect(() => parseCompact('a'.repeat(9000))).toThrow(expect.objectContaining({ code: 'too_large' }));
  });
});

describe('verifySignatureAsync (thread pool) agrees with verifySignature', () => {
  const pairs = {
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ed25519: generateKeyPairSync('ed25519'),
    p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  };
  const cases: Array<[JwsAlgorithm, keyof typeof pairs]> = [
    ['RS256', 'rsa'],
    ['RS384', 'rsa'],
    ['RS512', 'rsa'],
    ['PS256', 'rsa'],
    ['PS384', 'rsa'],
    ['PS512', 'rsa'],
    ['ES256', 'p256'],
    ['ES384', 'p384'],
    ['EdDSA', 'ed25519'],
  ];
  const data = Buffer.from('header.payload', 'ascii');

  it.each(cases)('%s: good, tampered, other data, other key type', async (alg, family) => {
    const { publicKey, privateKey } = pairs[family];
    const signature = signBytes(alg, privateKey, data);
    const tampered = Buffer.from(signature);
    tampered.writeUInt8((tampered.at(-1) ?? 0) ^ 1, tampered.length - 1);
    const otherType = family === 'ed25519' ? pairs.rsa.publicKey : pairs.ed25519.publicKey;
    const inputs: Array<[Buffer, Buffer, typeof publicKey]> = [
      [data, signature, publicKey],
      [data, tampered, publicKey],
      [Buffer.from('header.other', 'ascii'), signature, publicKey],
      [data, signature, otherType],
      [data, Buffer.alloc(0), publicKey],
    ];
    const outcomes = await Promise.all(inputs.map(([d, s, k]) => verifySignatureAsync(alg, k, d, s)));
    expect(outcomes).toEqual(inputs.map(([d, s, k]) => verifySignature(alg, k, d, s)));
    expect(outcomes).toEqual([true, false, false, false, false]);
  });

  it('refuses an ECDSA signature that is DER or padded rather than r || s', async () => {
    const { publicKey, privateKey } = pairs.p256;
    const der = sign('sha256', data, privateKey); // DER encoding, the wrong size for JWS
    await expect(verifySignatureAsync('ES256', publicKey, data, der)).resolves.toBe(false);
    const padded = Buffer.concat([signBytes('ES256', privateKey, data), Buffer.alloc(1)]);
    await expect(verifySignatureAsync('ES256', publicKey, data, padded)).resolves.toBe(false);
  });
});
