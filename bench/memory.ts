/**
 * Memory held per 100,000 entries of the in-memory stores, measured as the growth of the live heap
 * (after a full collection) and of the resident set: used nonces (`MemoryReplayStore.claim`) and API
 * key records (`ApiKeyManager.issue` into `MemoryApiKeyStore`). Usage: node --expose-gc --import tsx
 * bench/memory.ts [count] (default 100,000).
 */
import { randomUUID } from 'node:crypto';
import { ApiKeyManager, MemoryApiKeyStore, MemoryReplayStore } from '../src/index.js';

import { live, settle } from './heap.js';

const count = Number(process.argv[2] ?? 100_000);

async function measure(name: string, fill: () => Promise<unknown>): Promise<void> {
  const before = live();
  const kept = await fill();
  const after = live();
  const per = (bytes: number): string =>
    `${(((bytes / count) * 100_000) / 1024 / 1024).toFixed(1)} MiB per 100,000 (${(bytes / count).toFixed(0)} B each)`;
  console.log(`${name.padEnd(34)} heap ${per(after.heap - before.heap)}; rss ${per(after.rss - before.rss)}`);
  if (kept === undefined) throw new Error('nothing kept');
}

const nonces = Array.from({ length: count }, () => randomUUID());
await settle();
await measure('MemoryReplayStore, used nonces', async () => {
  const store = new MemoryReplayStore({ maxEntries: count * 2, maxBytes: 1024 * 1024 * 1024, maxEntriesPerSubject: count * 2 });
  const now = String(Math.floor(Date.now() / 1000));
  for (let i = 0; i < count; i++)
    await store.claim({ subject: `client-${i % 100}`, time: now, nonce: nonces[i] as string, ttlMs: 600_000 });
  if (store.size !== count) throw new Error(`the store holds ${store.size} nonces, not ${count}`);
  return store;
});
await measure('MemoryApiKeyStore, API key records', async () => {
  const store = new MemoryApiKeyStore();
  const manager = new ApiKeyManager({ store, pepper: 'authnz-bench-pepper-authnz-bench-pepper' });
  for (let i = 0; i < count; i++) await manager.issue({ owner: `client-${i}`, scopes: ['user:all'] });
  return store;
});
