/**
 * The cache of verified tokens: keyed by a digest, filled from a token's second verification,
 * re-checking time claims on every hit, bounded in bytes, and dropping what a removed key verified.
 */
import { VerifiedTokenCache, type VerifiedEntry } from '../../src/lib/verified-cache.js';

const NOW = 1_800_000_000;

function cache(options: { maxBytes?: number; clock?: () => number } = {}): VerifiedTokenCache<string> {
  return new VerifiedTokenCache<string>({
    maxBytes: options.maxBytes ?? 1024 * 1024,
    entryOverheadBytes: 100,
    timePolicy: { clockToleranceSeconds: 0 },
    clock: options.clock ?? (() => NOW * 1000),
  });
}

const entry = (value: string, keySet = 'issuer-a', kid = 'k1', exp = NOW + 60): VerifiedEntry<string> => ({
  value,
  claims: { exp },
  keySet,
  kid,
});

/** Admits `key` twice: the second verification is the one that fills the cache. */
function verifiedTwice(c: VerifiedTokenCache<string>, key: string, e: VerifiedEntry<string>): void {
  c.admit(key, e);
  c.admit(key, e);
}

describe('VerifiedTokenCache.keyOf', () => {
  it('is a 43-character base64url digest that depends on the token and its context, and holds neither', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
    const key = VerifiedTokenCache.keyOf(token);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(VerifiedTokenCache.keyOf(token)).toBe(key);
    expect(VerifiedTokenCache.keyOf(`${token}x`)).not.toBe(key);
    expect(VerifiedTokenCache.keyOf(token, 'audience-b')).not.toBe(key);
    // The separator keeps context and token apart: ("a", "bc") and ("ab", "c") differ.
    expect(VerifiedTokenCache.keyOf('bc', 'a')).not.toBe(VerifiedTokenCache.keyOf('c', 'ab'));
    expect(key).not.toContain('eyJ');
  });
});

describe('VerifiedTokenCache', () => {
  it('caches a token from its second verification on, not its first', async () => {
    const c = cache();
    const key = VerifiedTokenCache.keyOf('token-1');
    c.admit(key, entry('alice'));
    expect(c.size).toBe(0);
    expect(await c.lookup(key)).toBeUndefined();
    c.admit(key, entry('alice'));
    expect(c.size).toBe(1);
    expect(await c.lookup(key)).toEqual({ hit: 'alice' });
  });

  it('checks the time claims again on every hit, and drops an entry that no longer passes', async () => {
    let now = NOW * 1000;
    const c = cache({ clock: () => now });
    const key = VerifiedTokenCache.keyOf('token-2');
    verifiedTwice(c, key, entry('bob', 'issuer-a', 'k1', NOW + 10));
    now = (NOW + 9) * 1000;
    expect(await c.lookup(key)).toEqual({ hit: 'bob' });
    now = (NOW + 10) * 1000;
    expect(await c.lookup(key)).toEqual({ refused: 'expired' });
    expect(c.size).toBe(0);
    expect(await c.lookup(key)).toBeUndefined();
  });

  it('forgetSignedBy drops only the tokens of those kids in that key set', async () => {
    const c = cache();
    const keys = ['t-a1', 't-a2', 't-b1'].map((t) => VerifiedTokenCache.keyOf(t));
    verifiedTwice(c, keys[0] as string, entry('a1', 'issuer-a', 'k1'));
    verifiedTwice(c, keys[1] as string, entry('a2', 'issuer-a', 'k2'));
    verifiedTwice(c, keys[2] as string, entry('b1', 'issuer-b', 'k1'));
    c.forgetSignedBy('issuer-a', ['k1']);
    expect(c.size).toBe(2);
    expect(await c.lookup(keys[0] as string)).toBeUndefined();
    expect(await c.lookup(keys[1] as string)).toEqual({ hit: 'a2' });
    expect(await c.lookup(keys[2] as string)).toEqual({ hit: 'b1' });
  });

  it('awaits the revalidation before answering, and misses when it dropped the entry', async () => {
    const c = cache();
    const key = VerifiedTokenCache.keyOf('token-3');
    verifiedTwice(c, key, entry('carol', 'issuer-a', 'old-kid'));
    const seen: Array<VerifiedEntry<string>> = [];
    expect(await c.lookup(key, (e) => void seen.push(e))).toEqual({ hit: 'carol' });
    expect(seen.map((e) => e.kid)).toEqual(['old-kid']);
    const dropping = async (): Promise<void> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      c.forgetSignedBy('issuer-a', ['old-kid']);
    };
    expect(await c.lookup(key, () => dropping())).toBeUndefined();
  });

  it('holds no more than maxBytes: the least recently used entries go first', async () => {
    // Each entry costs its 43-character key plus 100 bytes of overhead: three fit in 450 bytes.
    const c = cache({ maxBytes: 450 });
    const keys = ['t1', 't2', 't3', 't4'].map((t) => VerifiedTokenCache.keyOf(t));
    for (const [i, key] of keys.slice(0, 3).entries()) verifiedTwice(c, key, entry(`v${i}`));
    expect(c.size).toBe(3);
    expect(await c.lookup(keys[0] as string)).toEqual({ hit: 'v0' }); // t1 is now the most recent
    verifiedTwice(c, keys[3] as string, entry('v3'));
    expect(c.size).toBe(3);
    expect(await c.lookup(keys[1] as string)).toBeUndefined();
    expect(await c.lookup(keys[0] as string)).toEqual({ hit: 'v0' });
    expect(await c.lookup(keys[3] as string)).toEqual({ hit: 'v3' });
  });
});
