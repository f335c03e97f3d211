/**
 * Every Redis-backed store on a real Redis Cluster (three masters, three replicas on loopback), with
 * both cluster clients: nonces, API keys, rate limits, brute force, the introspection cache and the
 * revocation list. A CROSSSLOT reply would surface as a rejected call (503 with the Redis error as
 * cause) and fail the test; the first test proves the cluster does refuse a cross-slot command.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { ApiKeyManager, authenticate, type Middleware } from '../../src/index.js';
import {
  RedisApiKeyStore,
  RedisIntrospectionCache,
  RedisReplayStore,
  RedisRevocationList,
  redisBruteForce,
  redisCommand,
  redisRateLimit,
} from '../../src/redis.js';
import { toyScheme } from '../helpers/toy-scheme.js';
import { CLIENT_KINDS, clusterClient, docsClusterClient, type ClusterClient } from './clients.js';
import { rawCommand, useCluster } from '../helpers/redis-cluster.js';

const PEPPER = 'cluster-suite-pepper-0123456789abcdef';
const getCluster = useCluster();

function appWith(limit: Middleware): express.Express {
  const app = express();
  app.get('/r', authenticate([toyScheme()]), limit, (_q, r) => {
    r.send('ok');
  });
  return app;
}

it('the cluster refuses a command whose keys cross slots (so the suites below would see it)', async () => {
  const port = getCluster().nodes[0]?.port as number;
  const reply = await rawCommand(port, ['MGET', '{a}x', '{b}y']).catch((e: Error) => e.message);
  expect(reply).toMatch(/^-(CROSSSLOT|MOVED)/);
});

describe.each(CLIENT_KINDS)('stores on a Redis Cluster with %s', (kind) => {
  let c: ClusterClient;
  const prefix = `test:cluster:${kind}:${randomUUID()}:`;

  beforeAll(async () => {
    c = await clusterClient(
      kind,
      getCluster().nodes.map((n) => n.port),
    );
  });
  afterAll(async () => {
    await c?.close();
  });

  it('ready() on a healthy cluster, the client built as docs/deployment.md does: resolves, and the claim after it passes', async () => {
    const docs = await docsClusterClient(kind, getCluster().rootNodes, { keyPrefix: prefix, timeoutMs: 2000 });
    try {
      const started = Date.now();
      await docs.replayStore.ready({ timeoutMs: 10_000 });
      const tookMs = Date.now() - started;
      expect(await docs.replayStore.claim({ subject: 'svc-ready', time: '1', nonce: randomUUID(), ttlMs: 40_000 })).toBe(true);
      console.log(`ready() with ${kind} on a healthy cluster: ${tookMs} ms`);
    } finally {
      docs.close();
    }
  });

  it('RedisReplayStore: one claim per nonce, subjects spread over several masters', async () => {
    const store = new RedisReplayStore(c.client, { keyPrefix: prefix, timeoutMs: 2000 });
    const masters = new Set<number>();
    for (const subject of ['svc-a', 'svc-b', 'svc-c', 'svc-d', 'svc-e', 'svc-f']) {
      const claim = { subject, time: '1700000000', nonce: randomUUID(), ttlMs: 40_000 };
      expect(await store.claim(claim)).toBe(true);
      expect(await store.claim(claim)).toBe(false);
      masters.add(await getCluster().masterOfSlot(await getCluster().slotOf(store.keyFor(claim))));
    }
    expect(masters.size).toBeGreaterThan(1);
  });

  it('RedisReplayStore with waitReplicas 1: the claim is acknowledged by the replica of its shard', async () => {
    const store = new RedisReplayStore(c.client, { keyPrefix: prefix, timeoutMs: 2000, waitReplicas: 1, waitTimeoutMs: 1000 });
    const claim = { subject: 'svc-wait', time: '1', nonce: randomUUID(), ttlMs: 40_000 };
    expect(await store.claim(claim)).toBe(true);
    expect(await store.claim(claim)).toBe(false);
    const master = await getCluster().masterOfSlot(await getCluster().slotOf(store.keyFor(claim)));
    const [replica] = await getCluster().replicasOf(master);
    // READONLY lets the replica answer for its slots: the key is there, not only on the master.
    const direct = new Redis({ host: '127.0.0.1', port: replica as number, lazyConnect: true });
    try {
      await direct.connect();
      expect(await direct.call('READONLY')).toBe('OK');
      expect(await direct.exists(store.keyFor(claim))).toBe(1);
    } finally {
      direct.disconnect();
    }
  });

  it('RedisApiKeyStore: issue, verify, list, revoke and delete through ApiKeyManager', async () => {
    const store = new RedisApiKeyStore(c.client, { keyPrefix: prefix, timeoutMs: 2000 });
    const manager = new ApiKeyManager({ store, pepper: PEPPER });
    const issued = await Promise.all(['a', 'b', 'c', 'd'].map((owner) => manager.issue({ owner, scopes: ['read'] })));
    for (const { key, record } of issued) expect((await manager.verify(key)).record.id).toBe(record.id);
    expect((await manager.list()).map((r) => r.owner).sort()).toEqual(['a', 'b', 'c', 'd']);
    const first = issued[0] as (typeof issued)[number];
    expect(await manager.revoke(first.record.id)).toBe(true);
    await expect(manager.verify(first.key)).rejects.toMatchObject({ code: 'token_invalid', reason: 'revoked' });
    await store.delete(first.record.id);
    expect(await store.get(first.record.id)).toBeUndefined();
  });

  it('redisRateLimit: 3 per minute, then 429', async () => {
    const app = appWith(redisRateLimit(c.client, { name: 'r', limit: 3, windowSeconds: 60, keyPrefix: prefix, timeoutMs: 2000 }));
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await request(app).get('/r').set('Authorization', 'Toy alice')).status);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
  });

  it('redisBruteForce: locks a subject out after maxFailures, across the cluster', async () => {
    const guard = redisBruteForce(c.client, { maxFailures: 2, freeRetries: 5, lockSeconds: 30, keyPrefix: prefix, timeoutMs: 2000 });
    const app = express();
    app.get('/r', authenticate([guard.protect(toyScheme())]), (_q, r) => {
      r.send('ok');
    });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await request(app).get('/r').set('Authorization', 'Toy bad')).status);
    expect(codes.slice(0, 2)).toEqual([401, 401]);
    expect(codes.slice(2)).toEqual([429, 429]);
  });

  it('RedisIntrospectionCache: answers shared through the cluster, TTL capped by cacheSeconds', async () => {
    const cache = new RedisIntrospectionCache(c.client, { keyPrefix: prefix, timeoutMs: 2000, cacheSeconds: 5 });
    const entry = { active: true as const, claims: { sub: 'alice', scope: 'read' } };
    await cache.set('k1', entry, 60_000);
    expect(await cache.get('k1')).toEqual(entry);
    await cache.set('k2', { active: false }, 1000);
    expect(await cache.get('k2')).toEqual({ active: false });
    const send = redisCommand(c.client, { timeoutMs: 2000 });
    const ttl = Number(await send(['PTTL', `${prefix}k1`]));
    expect(ttl).toBeGreaterThan(3000);
    expect(ttl).toBeLessThanOrEqual(5000);
    expect(await cache.get('missing')).toBeUndefined();
  });

  it('RedisRevocationList: by jti and by subject cut-off', async () => {
    const list = new RedisRevocationList(c.client, { keyPrefix: prefix, timeoutMs: 2000 });
    const now = Math.floor(Date.now() / 1000);
    await list.revokeToken('jti-1', now + 60);
    expect(await list.isRevoked({ jti: 'jti-1', subject: 'alice', issuedAt: now })).toBe(true);
    expect(await list.isRevoked({ jti: 'jti-2', subject: 'alice', issuedAt: now })).toBe(false);
    await list.revokeSubject('bob', now - 10);
    await list.revokeSubject('bob', now - 100); // an earlier cut-off never lowers the later one
    expect(await list.isRevoked({ subject: 'bob', issuedAt: now - 10 })).toBe(true);
    expect(await list.isRevoked({ subject: 'bob', issuedAt: now - 50 })).toBe(true);
    expect(await list.isRevoked({ subject: 'bob', issuedAt: now - 9 })).toBe(false);
    expect(await list.isRevoked({ subject: 'bob' })).toBe(true);
  });
});
