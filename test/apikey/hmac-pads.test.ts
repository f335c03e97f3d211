/**
 * The manager's per-request HMAC (key pads hashed once, two hash copies per message) gives the same
 * bytes as `createHmac('sha256', pepper)` for peppers shorter than, equal to and longer than the
 * SHA-256 block, and the manager still accepts its keys and refuses altered ones.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { apiKeyHasher, parseApiKey } from '../../src/schemes/apikey/format.js';
import { ApiKeyManager, MemoryApiKeyStore } from '../../src/index.js';

describe('API key HMAC with precomputed pads', () => {
  it('equals createHmac for peppers of every length class', () => {
    for (const length of [1, 16, 32, 63, 64, 65, 200]) {
      const pepper = randomBytes(length);
      const hasher = apiKeyHasher(pepper);
      for (let i = 0; i < 5; i++) {
        const key = `ak_${randomBytes(8).toString('hex')}.${randomBytes(32).toString('base64url')}`;
        const parsed = parseApiKey(key);
        if (!parsed) throw new Error('unparsable test key');
        expect(hasher(parsed).equals(createHmac('sha256', pepper).update(key).digest())).toBe(true);
      }
    }
  });

  it('keeps no link to a pepper buffer changed after it was built', () => {
    const pepper = Buffer.from('p'.repeat(40));
    const hasher = apiKeyHasher(pepper);
    const parsed = parseApiKey(`ak_${'0'.repeat(16)}.${'s'.repeat(43)}`);
    if (!parsed) throw new Error('unparsable test key');
    const before = hasher(parsed);
    pepper.fill(0);
    expect(hasher(parsed).equals(before)).toBe(true);
  });

  it('the manager verifies its keys and refuses a changed secret', async () => {
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: 'a-pepper-of-forty-characters-0123456789' });
    const { key } = await manager.issue({ owner: 'o', scopes: ['s'] });
    await expect(manager.verify(key)).resolves.toHaveProperty('record.owner', 'o');
    const last = key.slice(-1) === 'A' ? 'B' : 'A';
    await expect(manager.verify(key.slice(0, -1) + last)).rejects.toMatchObject({ status: 401 });
  });
});
