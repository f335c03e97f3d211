import { FLOOR_NONCE_STORE_OPTIONS, measureFloors } from '../../bench/floor.js';
import { MemoryReplayStore } from '../../src/index.js';

describe('bench floor', () => {
  it('times the nonce claim in four samples within a minute (a run of three short rounds) without the store refusing', async () => {
    const store = new MemoryReplayStore(FLOOR_NONCE_STORE_OPTIONS);
    for (let i = 0; i < 4; i++) expect((await measureFloors(store))['nonce-memory']).toBeGreaterThan(0);
  }, 120_000);
});
