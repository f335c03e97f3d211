/**
 * The process-wide note of shared stores (src/stores/shared.ts): what was noted, once per kind in
 * the order first noted, under a registered symbol every copy of the library in the process reads.
 */
import { noteSharedStore, sharedStoreKinds } from '../../src/stores/shared.js';

const NOTE = Symbol.for('authnz-express.sharedStores');

describe('noteSharedStore / sharedStoreKinds', () => {
  afterEach(() => {
    delete (globalThis as Record<symbol, unknown>)[NOTE];
  });

  it('nothing noted: undefined; then each kind once, in the order first noted', () => {
    expect(sharedStoreKinds()).toBeUndefined();
    noteSharedStore('Redis');
    expect(sharedStoreKinds()).toBe('Redis');
    noteSharedStore('PostgreSQL');
    noteSharedStore('Redis');
    expect(sharedStoreKinds()).toBe('Redis, PostgreSQL');
  });

  it('the note lives on globalThis under Symbol.for, so another copy of the module sees it', () => {
    const fromAnotherCopy = new Set(['PostgreSQL']);
    (globalThis as Record<symbol, unknown>)[NOTE] = fromAnotherCopy;
    expect(sharedStoreKinds()).toBe('PostgreSQL');
    noteSharedStore('Redis');
    expect([...fromAnotherCopy]).toEqual(['PostgreSQL', 'Redis']);
    fromAnotherCopy.clear();
    expect(sharedStoreKinds()).toBeUndefined();
  });
});
