/**
 * RedisRevocationList against the shared Redis (keys under a prefix of this run, removed after it):
 * tokens by jti until their expiry, subjects by a cut-off that only ever rises, the adapters for the
 * JWT schemes, and a 503 (never a pass) when Redis cannot answer.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisRevocationList } from '../../src/redis.js';
import { bothRedisClients, unreachableRedis } from '../helpers/redis-clients.js';

const PREFIX = `test:revocation:${randomUUID()}:`;

describe('RedisRevocationList (real Redis)', () => {
  const { io, node } = bothRedisClients(PREFIX);
  const now = Date.now();
  const nowSeconds = Math.floor(now / 1000);
  /** A list on `client` whose clock stands at `now`, with a one-hour token lifetime. */
  const list = (client: Redis | typeof node = io): RedisRevocationList =>
    new RedisRevocationList(client, { keyPrefix: PREFIX, maxTokenLifetimeSeconds: 3600, clock: () => now });

  it('a jti revoked through one client library is refused through the other, until the token expires', async () => {
    await list(io).revokeToken('jti-a', nowSeconds + 120);
    expect(await list(node).isRevoked({ jti: 'jti-a' })).toBe(true);
    expect(await list(node).isRevoked({ jti: 'jti-b' })).toBe(false);
    const [key] = await io.keys(`${PREFIX}jti:*`);
    expect(key).toBe(`${PREFIX}jti:{jti-a}`);
    const ttl = await io.pttl(key as string);
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    await list().revokeToken('jti-default');
    expect(await io.pttl(`${PREFIX}jti:{jti-default}`)).toBeGreaterThan(3_590_000);
    // An already expired token is refused by the verifier anyway: nothing is stored.
    await list().revokeToken('jti-expired', nowSeconds - 1);
    expect(await io.exists(`${PREFIX}jti:{jti-expired}`)).toBe(0);
    expect(await list().isRevoked({ jti: 'jti-expired' })).toBe(false);
  });

  it('a subject cut-off refuses tokens issued at or before it, and a later revocation with an earlier cut-off never lowers it', async () => {
    const l = list();
    await l.revokeSubject('carol', nowSeconds - 10);
    await l.revokeSubject('carol', nowSeconds - 100);
    expect(await l.isRevoked({ subject: 'carol', issuedAt: nowSeconds - 10 })).toBe(true);
    expect(await l.isRevoked({ subject: 'carol', issuedAt: nowSeconds - 50 })).toBe(true);
    expect(await l.isRevoked({ subject: 'carol', issuedAt: nowSeconds - 9 })).toBe(false);
    expect(await l.isRevoked({ subject: 'carol' })).toBe(true); // no issue time: cannot be after the cut-off
    expect(await l.isRevoked({ subject: 'dave', issuedAt: nowSeconds - 50 })).toBe(false);
    await l.revokeSubject('carol', nowSeconds + 5); // a later cut-off does raise it
    expect(await l.isRevoked({ subject: 'carol', issuedAt: nowSeconds })).toBe(true);
    // Kept for the lifetime after the cut-off; the subject is hash-tagged and encoded in the key.
    const ttl = await io.pttl(`${PREFIX}sub:{carol}:carol`);
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_605_000);
    await l.revokeSubject('a b/{c}');
    expect(await io.exists(`${PREFIX}sub:{a b/_c_}:a%20b%2F%7Bc%7D`)).toBe(1);
  });

  it('a cut-off older than the token lifetime covers no valid token: nothing is stored', async () => {
    await list().revokeSubject('erin', nowSeconds - 3601);
    expect(await io.exists(`${PREFIX}sub:{erin}:erin`)).toBe(0);
    expect(await list().isRevoked({ subject: 'erin' })).toBe(false);
  });

  it('forApiJwt reads jti and iat; forAsymmetricJwt falls back from iat to time', async () => {
    const l = list();
    await l.revokeToken('jti-api', nowSeconds + 60);
    await l.revokeSubject('frank', nowSeconds - 100);
    const apiJwt = l.forApiJwt();
    expect(await apiJwt({ id: 'someone', raw: { jti: 'jti-api', iat: nowSeconds } })).toBe(true);
    expect(await apiJwt({ id: 'frank', raw: { jti: 'jti-other', iat: nowSeconds - 100 } })).toBe(true);
    expect(await apiJwt({ id: 'frank', raw: { jti: 'jti-other', iat: nowSeconds - 99 } })).toBe(false);
    const asymmetric = l.forAsymmetricJwt();
    expect(await asymmetric('frank', { time: String(nowSeconds - 101) })).toBe(true);
    expect(await asymmetric('frank', { time: String(nowSeconds - 99) })).toBe(false);
    expect(await asymmetric('frank', { iat: nowSeconds - 99, time: String(nowSeconds - 200) })).toBe(false);
    expect(await asymmetric('frank', { time: 'not a number' })).toBe(true); // no usable issue time
  });

  it('refuses maxTokenLifetimeSeconds out of range, and rejects with a 503 when Redis does not answer', async () => {
    expect(() => new RedisRevocationList(io, { maxTokenLifetimeSeconds: 1.5 })).toThrow(
      /^new RedisRevocationList\(\): "maxTokenLifetimeSeconds" must be /,
    );
    const down = unreachableRedis();
    try {
      const l = new RedisRevocationList(down, { keyPrefix: PREFIX, timeoutMs: 300 });
      await expect(l.isRevoked({ jti: 'j', subject: 's', issuedAt: nowSeconds })).rejects.toMatchObject({
        status: 503,
        code: 'dependency_unavailable',
      });
      await expect(l.revokeToken('j')).rejects.toMatchObject({ status: 503 });
    } finally {
      down.disconnect();
    }
  });
});
