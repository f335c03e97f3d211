/** MemoryReplayStore sizing: what one subject can hold, in entries and in bytes, however long its nonces are. */
import { MemoryReplayStore } from '../../src/stores/replay.js';

// The shape DpopBinding claims: one subject per proof key, jtis of up to 256 characters.
const DPOP_SUBJECT = `dpop:${'k'.repeat(43)}`;
const longJti = (i: number): string => `${i}-`.padEnd(256, 'j');

/** Claims fresh nonces for `subject` until the store refuses one; returns how many it took and the refusal. */
async function fillUntilRefused(
  store: MemoryReplayStore,
  subject: string,
  nonce: (i: number) => string,
  limit: number,
): Promise<{ accepted: number; refusal: unknown }> {
  for (let i = 0; i < limit; i++) {
    try {
      await store.claim({ subject, time: '', nonce: nonce(i), ttlMs: 66_000 });
    } catch (refusal) {
      return { accepted: i, refusal };
    }
  }
  return { accepted: limit, refusal: undefined };
}

describe('MemoryReplayStore sizing', () => {
  it('one subject claiming 256-character nonces fills its own quota (429), never the default store: another subject is still accepted', async () => {
    const store = new MemoryReplayStore();
    const { accepted, refusal } = await fillUntilRefused(store, DPOP_SUBJECT, longJti, 150_000);
    expect(refusal).toMatchObject({ code: 'rate_limited', reason: 'replay_store_full' });
    expect(accepted).toBeGreaterThan(10_000);
    expect(await store.claim({ subject: `dpop:${'o'.repeat(43)}`, time: '', nonce: longJti(0), ttlMs: 66_000 })).toBe(true);
    expect(store.bytes).toBeLessThanOrEqual(16 * 1024 * 1024);
  });

  it('the per-subject quota is counted in bytes too: with a small maxBytes one subject gets 429 before the store is full', async () => {
    const store = new MemoryReplayStore({ maxBytes: 1024 * 1024 });
    const { refusal } = await fillUntilRefused(store, 'svc-client', (i) => `nonce-${i}`.padEnd(64, 'x'), 100_000);
    expect(refusal).toMatchObject({ code: 'rate_limited', reason: 'replay_store_full' });
    expect(store.bytes).toBeLessThanOrEqual(512 * 1024);
    expect(await store.claim({ subject: 'other', time: '', nonce: 'n', ttlMs: 1000 })).toBe(true);
  });

  it('maxBytesPerSubject is checked like the other sizes', () => {
    for (const bad of [0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      expect(() => new MemoryReplayStore({ maxBytesPerSubject: bad })).toThrow(TypeError);
      expect(() => new MemoryReplayStore({ maxBytesPerSubject: bad })).toThrow(
        /^new MemoryReplayStore\(\): "maxBytesPerSubject" must be an integer >= 1/,
      );
    }
  });
});
