import { createHash } from 'node:crypto';
import { tokenCacheKey } from '../../src/schemes/kmsauth/token-cache.js';

describe('kmsauth tokenCacheKey (one-shot hash)', () => {
  it('is the base64 SHA-256 of the length-prefixed `to`, username and token', () => {
    const expected = createHash('sha256').update('10:my-service26:2/service/billing-worker-7abc.def==').digest('base64');
    expect(tokenCacheKey('my-service', '2/service/billing-worker-7', 'abc.def==')).toBe(expected);
  });

  it('gives different keys when the same characters are split differently between username and token', () => {
    expect(tokenCacheKey('svc', '2/service/a', 'bc')).not.toBe(tokenCacheKey('svc', '2/service/ab', 'c'));
    expect(tokenCacheKey('svc', '2/service/a', 'bc')).not.toBe(tokenCacheKey('svcx', '2/service/a', 'bc'));
  });
});
