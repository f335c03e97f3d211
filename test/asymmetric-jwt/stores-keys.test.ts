/**
 * MemoryReplayStore bound and flood through the scheme, and a JWKS outage through the scheme (the
 * parser and key source themselves: test/keys/openssh.test.ts, test/keys/remote-jwks.test.ts).
 */
import request from 'supertest';
import { createAuthHeader } from '../../src/schemes/asymmetric-jwt/index.js';
import { MemoryReplayStore } from '../../src/stores/replay.js';
import { appWith, keyText, vectors } from './helpers.js';

describe('MemoryReplayStore', () => {
  it('flood of distinct nonces: the bound holds, overflow gets 503, and no replay is ever accepted', async () => {
    const store = new MemoryReplayStore({ maxEntries: 200, maxEntriesPerSubject: 200 });
    const app = appWith({
      users: { 'svc-client': { publicKeys: [keyText('ed25519_public.pem')] } },
      replayStore: store,
      clock: () => 1700000000000,
    });
    const privateKey = keyText('ed25519_private.pem');
    const headers = Array.from({ length: 500 }, (_, i) =>
      createAuthHeader({ username: 'svc-client', privateKey, time: 1700000000, nonce: `flood-${i}` }),
    );
    const statuses: number[] = [];
    for (const h of headers) statuses.push((await request(app).get('/whoami').set('Authorization', h)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(200);
    expect(statuses.slice(200).every((s) => s === 503)).toBe(true);
    expect(store.size).toBeLessThanOrEqual(200);
    // Every accepted token is still remembered: replaying any of them is refused.
    for (const h of headers.slice(0, 200)) {
      const res = await request(app).get('/whoami').set('Authorization', h);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('replay');
    }
  });

  it('makes room once entries expire (and only then), by the injected clock', async () => {
    let now = 5_000;
    const store = new MemoryReplayStore({ maxEntries: 2, maxEntriesPerSubject: 2, clock: () => now });
    const claim = (nonce: string): Promise<boolean> => store.claim({ subject: 'u', time: '1', nonce, ttlMs: 50 });
    expect(await claim('a')).toBe(true);
    expect(await claim('b')).toBe(true);
    await expect(claim('c')).rejects.toMatchObject({ code: 'dependency_unavailable', reason: 'replay_store_full' });
    now += 49;
    expect(await claim('a')).toBe(false);
    now += 1;
    expect(await claim('c')).toBe(true);
    expect(await claim('a')).toBe(true); // expired, so a new claim
    expect(store.size).toBeLessThanOrEqual(2);
  });
});

describe('RemoteJwks through the scheme', () => {
  const v1 = vectors('asymmetric_jwt_auth-1.2.1.json');
  // A JWKS endpoint that cannot be reached.
  const down: typeof fetch = async () => {
    throw new TypeError('fetch failed');
  };

  it('a JWKS outage answers 503 through the scheme unless a stored key verifies', async () => {
    const header = v1.client_tokens['rsa_RS512'] as { authorization: string };
    const only = appWith({
      users: { 'svc-client': { jwks: ['https://peer.example/jwks'] } },
      clock: () => 1700000000000,
      jwks: { fetch: down },
    });
    expect((await request(only).get('/whoami').set('Authorization', header.authorization)).status).toBe(503);
    const both = appWith({
      users: { 'svc-client': { jwks: ['https://peer.example/jwks'], publicKeys: [keyText('rsa_public.openssh')] } },
      clock: () => 1700000000000,
      jwks: { fetch: down },
    });
    const res = await request(both).get('/whoami').set('Authorization', header.authorization);
    expect(res.status).toBe(200);
    expect(res.body.details.via).toBe('stored');
  });
});
