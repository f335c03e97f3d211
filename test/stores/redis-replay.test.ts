/**
 * RedisReplayStore against a real Redis (REDIS_URL, default redis://127.0.0.1:6379): the two-instance
 * race, both client libraries, Cluster-safe keys, and a 503 within a bounded time when Redis is down.
 */
import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createAuthHeader } from '../../src/schemes/asymmetric-jwt/index.js';
import { RedisReplayStore } from '../../src/redis.js';
import { appWith, keyText } from '../asymmetric-jwt/helpers.js';
import { redisUrl } from '../helpers/services.js';
import { bothRedisClients } from '../helpers/redis-clients.js';

const REDIS_URL = redisUrl();
const PREFIX = `test:ajwt:${randomUUID()}:`;
const users = { 'svc-client': { publicKeys: [keyText('ed25519_public.pem')] } };
const privateKey = keyText('ed25519_private.pem');

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.once('listening', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

describe('RedisReplayStore (real Redis)', () => {
  const { io, node } = bothRedisClients(PREFIX);

  it('keyPrefix names the key namespace, as in every Redis store; "prefix" is an unknown option, warned about and ignored', () => {
    const claim = { subject: 's', time: '1', nonce: 'n' };
    expect(new RedisReplayStore(io, { keyPrefix: 'a:' }).keyFor(claim)).toMatch(/^a:\{s\}:/);
    expect(new RedisReplayStore(io, { keyPrefix: 'b:' }).keyFor(claim)).toMatch(/^b:\{s\}:/);
    expect(new RedisReplayStore(io).keyFor(claim)).toMatch(/^authnz:nonce:\{s\}:/);
    const warned: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (_f: Record<string, unknown>, m?: string) => void warned.push(m ?? ''),
    };
    expect(new RedisReplayStore(io, { logger, ...({ prefix: 'b:' } as object) }).keyFor(claim)).toMatch(/^authnz:nonce:\{s\}:/);
    expect(warned).toEqual(['new RedisReplayStore(): unknown option "prefix"; it is ignored']);
    expect(() => new RedisReplayStore(io, { keyPrefix: 5 as unknown as string })).toThrow(
      'new RedisReplayStore(): "keyPrefix" must be a string (got 5)',
    );
  });

  it('claims once with SET NX PX for ioredis and node-redis alike, with a TTL and a hash-tagged key', async () => {
    for (const client of [io, node]) {
      // A happy path: a generous deadline (outages.test.ts measures the short one).
      const store = new RedisReplayStore(client, { keyPrefix: PREFIX, timeoutMs: 5000 });
      const claim = { subject: 'a:b{c}', time: '1700000000', nonce: randomUUID(), ttlMs: 40_000 };
      expect(await store.claim(claim)).toBe(true);
      expect(await store.claim(claim)).toBe(false);
      expect(await store.claim({ ...claim, time: '1700000001' })).toBe(true);
      const key = store.keyFor(claim);
      expect(key.startsWith(`${PREFIX}{a:b_c_}:`)).toBe(true);
      const ttl = await io.pttl(key);
      expect(ttl).toBeGreaterThan(30_000);
      expect(ttl).toBeLessThanOrEqual(40_000);
    }
  });

  it('race: two app instances, own clients, one Redis, 200 concurrent requests with one token → exactly one 200', async () => {
    const clientA = new Redis(REDIS_URL);
    const clientB = createClient({ url: REDIS_URL });
    await clientB.connect();
    const prefix = `${PREFIX}race:`;
    const servers = [
      appWith({ users, replayStore: new RedisReplayStore(clientA, { keyPrefix: prefix, timeoutMs: 2000 }) }).listen(0, '127.0.0.1'),
      appWith({ users, replayStore: new RedisReplayStore(clientB, { keyPrefix: prefix, timeoutMs: 2000 }) }).listen(0, '127.0.0.1'),
    ];
    try {
      const urls = await Promise.all(servers.map(listen));
      const header = createAuthHeader({ username: 'svc-client', privateKey });
      const responses = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const res = await fetch(`${urls[i % 2]}/whoami`, { headers: { authorization: header } });
          return { status: res.status, body: (await res.json()) as { code?: string } };
        }),
      );
      expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
      const rejected = responses.filter((r) => r.status !== 200);
      expect(rejected).toHaveLength(199);
      expect(rejected.every((r) => r.status === 401 && r.body.code === 'replay')).toBe(true);
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      clientA.disconnect();
      await clientB.close();
    }
  });

  it('Redis down (closed port): 503 dependency_unavailable within a bounded time, never a pass', async () => {
    const down = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: true,
    });
    down.on('error', () => undefined);
    try {
      const app = appWith({ users, replayStore: new RedisReplayStore(down, { keyPrefix: PREFIX, timeoutMs: 300 }) });
      const { default: request } = await import('supertest');
      const started = Date.now();
      const res = await request(app)
        .get('/whoami')
        .set('Authorization', createAuthHeader({ username: 'svc-client', privateKey }));
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('dependency_unavailable');
      expect(res.headers['retry-after']).toBeDefined();
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      down.disconnect();
    }
  });

  it('recovers by itself: same store and client answer 503 while Redis is unreachable, then work again', async () => {
    // A TCP relay in front of the real Redis lets the test cut and restore the connection.
    const target = new URL(REDIS_URL);
    const sockets = new Set<Socket>();
    const relay = (): NetServer =>
      createServer((inbound) => {
        const outbound = connect(Number(target.port || 6379), target.hostname);
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        inbound.pipe(outbound).pipe(inbound);
      });
    let server = relay().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    const store = new RedisReplayStore(client, { keyPrefix: PREFIX, timeoutMs: 300 });
    const claim = (): { subject: string; time: string; nonce: string; ttlMs: number } => ({
      subject: 'svc-client',
      time: '1',
      nonce: randomUUID(),
      ttlMs: 5000,
    });
    try {
      expect(await store.claim(claim())).toBe(true);
      await new Promise((resolve) => {
        server.close(resolve);
        for (const s of sockets) s.destroy();
      });
      await expect(store.claim(claim())).rejects.toMatchObject({ code: 'dependency_unavailable', status: 503 });
      server = relay().listen(port, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      let recovered = false;
      for (let i = 0; i < 40 && !recovered; i++) {
        recovered = await store.claim(claim()).then(
          () => true,
          () => false,
        );
        if (!recovered) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(recovered).toBe(true);
    } finally {
      client.disconnect();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
