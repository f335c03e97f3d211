/** MemoryReplayStore bound and flood; the OpenSSH parser; RemoteJwks caching, cooldown and outages. */
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { KeyImportError } from '../../src/keys/import.js';
import { parseOpenSshPublicKey } from '../../src/keys/openssh.js';
import { RemoteJwks } from '../../src/keys/remote-jwks.js';
import { createAuthHeader, keyFingerprint, loadPublicKey } from '../../src/schemes/asymmetric-jwt/index.js';
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

describe('OpenSSH public keys', () => {
  it('parses ssh-rsa and ssh-ed25519 lines to the same key as the PEM form', () => {
    for (const name of ['rsa', 'ed25519', 'wrong_rsa']) {
      const parsed = parseOpenSshPublicKey(keyText(`${name}_public.openssh`));
      expect(parsed.key.export({ type: 'spki', format: 'pem' })).toBe(
        loadPublicKey(keyText(`${name}_public.pem`)).export({ type: 'spki', format: 'pem' }),
      );
      expect(parsed.comment).toBe(keyText(`${name}_public.openssh`).trim().split(' ')[2]);
      expect(parsed.comment).toMatch(/@vectors$/);
    }
  });

  it('rejects a blob whose type differs from the prefix, trailing bytes, truncation and other types', () => {
    const [, rsaBlob] = keyText('rsa_public.openssh').split(' ') as [string, string];
    const [, edBlob] = keyText('ed25519_public.openssh').split(' ') as [string, string];
    expect(() => parseOpenSshPublicKey(`ssh-ed25519 ${rsaBlob}`)).toThrow(KeyImportError);
    const trailing = Buffer.concat([Buffer.from(edBlob, 'base64'), Buffer.from([0, 0, 0, 1, 7])]).toString('base64');
    expect(() => parseOpenSshPublicKey(`ssh-ed25519 ${trailing}`)).toThrow(/32-byte/);
    const truncated = Buffer.from(rsaBlob, 'base64').subarray(0, 40).toString('base64');
    expect(() => parseOpenSshPublicKey(`ssh-rsa ${truncated}`)).toThrow(/truncated/);
    expect(() => parseOpenSshPublicKey('ecdsa-sha2-nistp256 AAAA')).toThrow(expect.objectContaining({ code: 'key_unsupported' }));
    expect(() => parseOpenSshPublicKey('not a key')).toThrow(expect.objectContaining({ code: 'key_unreadable' }));
  });

  it('a weak (1024-bit) ssh-rsa key is refused by the shared policy', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = publicKey.export({ format: 'jwk' });
    const field = (b: Buffer): Buffer => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(b.length);
      return Buffer.concat([length, b]);
    };
    const mpint = (b64: string): Buffer => {
      const raw = Buffer.from(b64, 'base64url');
      return (raw[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), raw]) : raw;
    };
    const blob = Buffer.concat([field(Buffer.from('ssh-rsa')), field(mpint(jwk.e as string)), field(mpint(jwk.n as string))]);
    expect(() => parseOpenSshPublicKey(`ssh-rsa ${blob.toString('base64')}`)).toThrow(expect.objectContaining({ code: 'key_weak' }));
  });
});

describe('RemoteJwks', () => {
  const v1 = vectors('asymmetric_jwt_auth-1.2.1.json');
  const rsaJwk = v1.keys?.['rsa']?.as_jwk as Record<string, unknown>;
  const kid = rsaJwk['kid'] as string;

  function fakeEndpoint(): {
    fetch: typeof fetch;
    calls: () => number;
    set: (body: unknown, status?: number) => void;
    fail: (on: boolean) => void;
  } {
    let calls = 0;
    let body: unknown = { keys: [rsaJwk] };
    let status = 200;
    let failing = false;
    return {
      fetch: async () => {
        calls++;
        if (failing) throw new TypeError('fetch failed');
        return new Response(JSON.stringify(body), { status });
      },
      calls: () => calls,
      set: (b, s = 200) => {
        body = b;
        status = s;
      },
      fail: (on) => {
        failing = on;
      },
    };
  }

  it('caches by kid, refetches once on an unknown kid within the cooldown, and returns undefined after', async () => {
    let now = 0;
    const ep = fakeEndpoint();
    const jwks = new RemoteJwks('https://peer.example/jwks', { fetch: ep.fetch, clock: () => now, cooldownMs: 30_000, cacheSeconds: 300 });
    const key = await jwks.getKey(kid);
    expect(key && keyFingerprint(key)).toBe(kid);
    await jwks.getKey(kid);
    expect(ep.calls()).toBe(1);
    now = 31_000;
    expect(await jwks.getKey('unknown')).toBeUndefined();
    expect(ep.calls()).toBe(2);
    expect(await jwks.getKey('unknown-2')).toBeUndefined();
    expect(ep.calls()).toBe(2); // cooldown: no download per request
    expect(await jwks.getKey(undefined)).toBeUndefined();
    now = 62_000;
    ep.set({ keys: [rsaJwk, { ...rsaJwk, kid: 'rotated' }] });
    expect(await jwks.getKey('rotated')).toBeDefined();
    expect(ep.calls()).toBe(3);
  });

  it('serves cached keys when the endpoint is down; 503 when it must fetch and cannot', async () => {
    let now = 0;
    const ep = fakeEndpoint();
    const jwks = new RemoteJwks('https://peer.example/jwks', { fetch: ep.fetch, clock: () => now, cacheSeconds: 1, cooldownMs: 500 });
    expect(await jwks.getKey(kid)).toBeDefined();
    ep.fail(true);
    now = 5000;
    expect(await jwks.getKey(kid)).toBeDefined();
    const cold = new RemoteJwks('https://peer.example/jwks', { fetch: ep.fetch, clock: () => now });
    await expect(cold.getKey(kid)).rejects.toMatchObject({ code: 'dependency_unavailable', status: 503 });
    ep.fail(false);
    ep.set({ error: 'x' }, 500);
    const bad = new RemoteJwks('https://peer.example/jwks', { fetch: ep.fetch, clock: () => now });
    await expect(bad.getKey(kid)).rejects.toMatchObject({ code: 'dependency_unavailable' });
  });

  it('skips encryption keys, keys without kid, private members and weak keys; requires https except loopback', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ep = fakeEndpoint();
    ep.set({
      keys: [
        { ...rsaJwk, kid: 'enc', use: 'enc' },
        { ...rsaJwk, kid: undefined },
        { ...publicKey.export({ format: 'jwk' }), kid: 'weak' },
        { ...rsaJwk, kid: 'ok' },
      ],
    });
    const jwks = new RemoteJwks('http://127.0.0.1:9/jwks', { fetch: ep.fetch });
    expect(await jwks.getKey('enc')).toBeUndefined();
    expect(await jwks.getKey('weak')).toBeUndefined();
    expect(await jwks.getKey('ok')).toBeDefined();
    expect(() => new RemoteJwks('http://peer.example/jwks')).toThrow(TypeError);
  });

  it('a JWKS outage answers 503 through the scheme unless a stored key verifies', async () => {
    const ep = fakeEndpoint();
    ep.fail(true);
    const header = v1.client_tokens['rsa_RS512'] as { authorization: string };
    const only = appWith({
      users: { 'svc-client': { jwks: ['https://peer.example/jwks'] } },
      clock: () => 1700000000000,
      jwks: { fetch: ep.fetch },
    });
    expect((await request(only).get('/whoami').set('Authorization', header.authorization)).status).toBe(503);
    const both = appWith({
      users: { 'svc-client': { jwks: ['https://peer.example/jwks'], publicKeys: [keyText('rsa_public.openssh')] } },
      clock: () => 1700000000000,
      jwks: { fetch: ep.fetch },
    });
    const res = await request(both).get('/whoami').set('Authorization', header.authorization);
    expect(res.status).toBe(200);
    expect(res.body.details.via).toBe('stored');
  });
});
