/**
 * RemoteJwks, a remote JWK Set as a key source: caching by kid, the cooldown on unknown kids and
 * failures, serving cached keys through an outage, which entries count, the key of a token without
 * a kid, revalidation, removed keys and the size cap. The endpoint is an injected fetch.
 */
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemoteJwks } from '../../src/keys/remote-jwks.js';

// The RSA key (RS512, use sig) of the asymmetric JWT vectors, as a JWK with its kid.
const vectorKeys = JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/asymmetric-jwt/asymmetric_jwt_auth-1.2.1.json'), 'utf8')) as {
  keys: Record<string, { as_jwk: Record<string, unknown> }>;
};
const rsaJwk = vectorKeys.keys['rsa']?.as_jwk as Record<string, unknown>;
const kid = rsaJwk['kid'] as string;
const rsaKey = createPublicKey({ key: rsaJwk as JsonWebKey, format: 'jwk' });

describe('RemoteJwks', () => {
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
    expect(key?.equals(rsaKey)).toBe(true);
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

  it('a token without a kid gets the one key that fits its algorithm, none when several fit or none does', async () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const ep = fakeEndpoint();
    ep.set({ keys: [rsaJwk, { ...ed, kid: 'ed' }] });
    const jwks = new RemoteJwks('https://peer.example/jwks', { fetch: ep.fetch, cooldownMs: 0 });
    expect((await jwks.getOnlyKey('RS512'))?.equals(rsaKey)).toBe(true);
    // The RSA JWK is restricted to RS512; RS256 fits no key of the set.
    expect(await jwks.getOnlyKey('RS256')).toBeUndefined();
    expect((await jwks.getOnlyKey('EdDSA'))?.asymmetricKeyType).toBe('ed25519');
    const two = fakeEndpoint();
    two.set({ keys: [rsaJwk, { ...rsaJwk, kid: 'copy' }] });
    expect(await new RemoteJwks('https://peer.example/jwks', { fetch: two.fetch, cooldownMs: 0 }).getOnlyKey('RS512')).toBeUndefined();
    // getKey without a kid never picks a key.
    expect(await jwks.getKey(undefined, 'RS512')).toBeUndefined();
  });

  it('revalidate() downloads a stale set only, and tells listeners which kids left or changed', async () => {
    let now = 0;
    const ep = fakeEndpoint();
    const jwks = new RemoteJwks('https://peer.example/jwks', { fetch: ep.fetch, clock: () => now, cacheSeconds: 60 });
    const removed: Array<readonly string[]> = [];
    jwks.onKeysRemoved((kids) => removed.push(kids));
    expect(jwks.revalidate()).toBeUndefined(); // nothing fetched yet
    await jwks.getKey(kid);
    expect(jwks.revalidate()).toBeUndefined(); // fresh
    now = 61_000;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    ep.set({ keys: [{ ...other, kid: 'next' }] });
    await jwks.revalidate();
    expect(ep.calls()).toBe(2);
    expect(removed).toEqual([[kid, '']]);
    expect(await jwks.getKey(kid)).toBeUndefined();
    now = 122_000;
    ep.set({
      keys: [
        { ...other, kid: 'next' },
        { ...rsaJwk, kid: 'back' },
      ],
    });
    await jwks.revalidate();
    expect(removed).toHaveLength(1); // a key added is not a key removed
  });

  it('refuses a set larger than maxBytes: 503, and the key stays unknown', async () => {
    const ep = fakeEndpoint();
    ep.set({ keys: [rsaJwk], padding: 'x'.repeat(2000) });
    const small = new RemoteJwks('https://peer.example/jwks', { fetch: ep.fetch, maxBytes: 1000 });
    await expect(small.getKey(kid)).rejects.toMatchObject({ code: 'dependency_unavailable', reason: 'jwks_unavailable' });
    const enough = new RemoteJwks('https://peer.example/jwks', { fetch: ep.fetch, maxBytes: 10_000 });
    expect(await enough.getKey(kid)).toBeDefined();
  });

  it('refuses options out of range when constructed', () => {
    expect(() => new RemoteJwks('https://peer.example/jwks', { cacheSeconds: Number.NaN })).toThrow(/"cacheSeconds"/);
    expect(() => new RemoteJwks('https://peer.example/jwks', { timeoutMs: 0 })).toThrow(/"timeoutMs"/);
    expect(() => new RemoteJwks('https://peer.example/jwks', { maxBytes: 1.5 })).toThrow(/"maxBytes"/);
    expect(() => new RemoteJwks('not a url')).toThrow(TypeError);
    expect(new RemoteJwks('https://peer.example/a/../jwks').url).toBe('https://peer.example/jwks');
  });
});
