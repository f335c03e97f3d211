/**
 * MemoryIntrospectionCache, the in-process default result cache of token introspection: answers kept
 * until their TTL by the injected clock, least recently used dropped first past `maxEntries`.
 */
import { MemoryIntrospectionCache, type IntrospectionCacheEntry } from '../../src/stores/introspection-cache.js';

const ACTIVE: IntrospectionCacheEntry = { active: true, claims: { sub: 'alice', scope: 'read' } };
const INACTIVE: IntrospectionCacheEntry = { active: false };

describe('MemoryIntrospectionCache', () => {
  it('answers what was set, active or inactive, and nothing for a key never set', async () => {
    const cache = new MemoryIntrospectionCache();
    await cache.set('a', ACTIVE, 60_000);
    await cache.set('b', INACTIVE, 60_000);
    expect(await cache.get('a')).toEqual(ACTIVE);
    expect(await cache.get('b')).toEqual({ active: false });
    expect(await cache.get('c')).toBeUndefined();
  });

  it('an entry lives until set time + ttlMs by the clock: there 1 ms before, gone at that instant and after', async () => {
    let now = 1_000_000;
    const cache = new MemoryIntrospectionCache({ clock: () => now });
    await cache.set('k', ACTIVE, 5000);
    now += 4999;
    expect(await cache.get('k')).toEqual(ACTIVE);
    now += 1;
    expect(await cache.get('k')).toBeUndefined();
    now -= 1000; // the clock going back does not bring an expired entry back: it was dropped
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', INACTIVE, 10);
    expect(await cache.get('k')).toEqual(INACTIVE);
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const cache = new MemoryIntrospectionCache({ maxEntries: 2 });
    await cache.set('a', ACTIVE, 60_000);
    await cache.set('b', ACTIVE, 60_000);
    expect(await cache.get('a')).toEqual(ACTIVE); // a is now more recent than b
    await cache.set('c', INACTIVE, 60_000);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toEqual(ACTIVE);
    expect(await cache.get('c')).toEqual(INACTIVE);
  });

  it('refuses maxEntries that is not an integer >= 1 and a clock that is not a function; warns about unknown options', () => {
    for (const maxEntries of [0, 1.5, -1, Number.NaN])
      expect(() => new MemoryIntrospectionCache({ maxEntries })).toThrow(/^new MemoryIntrospectionCache\(\): "maxEntries" must be /);
    expect(() => new MemoryIntrospectionCache({ clock: 5 as unknown as () => number })).toThrow(
      /^new MemoryIntrospectionCache\(\): "clock" must be a function/,
    );
    const warned: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (_fields: Record<string, unknown>, message?: string) => void warned.push(message ?? ''),
    };
    new MemoryIntrospectionCache({ logger, ...({ ttlSeconds: 5 } as object) });
    expect(warned).toEqual(['new MemoryIntrospectionCache(): unknown option "ttlSeconds"; it is ignored']);
  });
});
