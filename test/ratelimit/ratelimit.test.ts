import express from 'express';
import request from 'supertest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { randomBytes } from 'node:crypto';
import {
  authenticate,
  rateLimit,
  bruteForce,
  ApiKeyManager,
  MemoryApiKeyStore,
  apiKeyScheme,
  parseApiKey,
  type Middleware,
} from '../../src/index.js';
import { redisRateLimit, redisBruteForce, redisReady } from '../../src/redis.js';
import { toyScheme } from '../helpers/toy-scheme.js';
import { redisUrl } from '../helpers/services.js';

const REDIS_URL = redisUrl();
const runId = () => `test:i5:${randomBytes(6).toString('hex')}:`;

function appWith(limit: Middleware, optional = true) {
  const a = express();
  a.set('trust proxy', true);
  a.get('/r', authenticate([toyScheme()], { optional }), limit, (_q, r) => {
    r.send('ok');
  });
  return a;
}

describe('rateLimit (memory)', () => {
  it('allows `limit` requests then 429 rate_limited with Retry-After and RateLimit-* headers', async () => {
    const app = appWith(rateLimit({ name: 'r', limit: 3, windowSeconds: 60, keyPrefix: runId() }));
    for (let i = 0; i < 3; i++) {
      const ok = await request(app).get('/r').set('Authorization', 'Toy alice');
      expect(ok.status).toBe(200);
      expect(ok.headers['ratelimit-limit']).toBe('3');
      expect(ok.headers['ratelimit-remaining']).toBe(String(2 - i));
      expect(Number(ok.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    const res = await request(app).get('/r').set('Authorization', 'Toy alice');
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(res.headers['ratelimit-remaining']).toBe('0');
    // Another principal has its own budget.
    expect((await request(app).get('/r').set('Authorization', 'Toy bob')).status).toBe(200);
  });

  it('keys anonymous requests on the client IP', async () => {
    const app = appWith(rateLimit({ name: 'anon', limit: 1, windowSeconds: 60, keyPrefix: runId() }));
    expect((await request(app).get('/r').set('X-Forwarded-For', '198.51.100.1')).status).toBe(200);
    expect((await request(app).get('/r').set('X-Forwarded-For', '198.51.100.1')).status).toBe(429);
    expect((await request(app).get('/r').set('X-Forwarded-For', '198.51.100.2')).status).toBe(200);
    // The same IP authenticated is a different key.
    expect((await request(app).get('/r').set('X-Forwarded-For', '198.51.100.1').set('Authorization', 'Toy carol')).status).toBe(200);
  });

  it('keys an anonymous IPv6 client by its /64 (ipv6Subnet), IPv4 and IPv4-mapped clients by their address', async () => {
    const app = appWith(rateLimit({ name: 'v6', limit: 2, windowSeconds: 60, keyPrefix: runId() }));
    const from = (address: string) =>
      request(app)
        .get('/r')
        .set('X-Forwarded-For', address)
        .then((r) => r.status);
    // New addresses inside one /64 share one counter; another /64 has its own.
    expect([await from('2001:db8:1:2::1'), await from('2001:db8:1:2:ffff::2'), await from('2001:db8:1:2:1:2:3:4')]).toEqual([
      200, 200, 429,
    ]);
    expect(await from('2001:db8:1:3::1')).toBe(200);
    expect([await from('::ffff:192.0.2.7'), await from('192.0.2.7'), await from('192.0.2.8')]).toEqual([200, 200, 200]);
    const perAddress = appWith(rateLimit({ name: 'v6', limit: 1, windowSeconds: 60, keyPrefix: runId(), ipv6Subnet: 128 }));
    const statuses = [];
    for (const address of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2::1'])
      statuses.push((await request(perAddress).get('/r').set('X-Forwarded-For', address)).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(() => rateLimit({ limit: 1, windowSeconds: 1, ipv6Subnet: 0 })).toThrow(
      'rateLimit(): "ipv6Subnet" must be an integer from 1 to 128',
    );
  });

  it('applies per-kind limits and keeps routes separate', async () => {
    const prefix = runId();
    const a = express();
    a.set('trust proxy', true);
    const auth = authenticate([toyScheme()], { optional: true });
    a.get(
      '/one',
      auth,
      rateLimit({ name: 'one', limit: 5, windowSeconds: 60, keyPrefix: prefix, byKind: { anonymous: { limit: 2, windowSeconds: 60 } } }),
      (_q, r) => {
        r.send('ok');
      },
    );
    a.get('/two', auth, rateLimit({ name: 'two', limit: 1, windowSeconds: 60, keyPrefix: prefix }), (_q, r) => {
      r.send('ok');
    });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await request(a).get('/one').set('X-Forwarded-For', '192.0.2.1')).status);
    expect(codes).toEqual([200, 200, 429]);
    const svc: number[] = [];
    for (let i = 0; i < 6; i++) svc.push((await request(a).get('/one').set('Authorization', 'Toy svc')).status);
    expect(svc).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await request(a).get('/two').set('Authorization', 'Toy svc')).status).toBe(200);
    expect((await request(a).get('/two').set('Authorization', 'Toy svc')).status).toBe(429);
  });

  it('rejects invalid rules at construction', () => {
    expect(() => rateLimit({ limit: 0, windowSeconds: 1 })).toThrow(/limit/);
    expect(() => rateLimit({ limit: 1, windowSeconds: 1, byKind: { user: { limit: 1, windowSeconds: -1 } } })).toThrow(
      /byKind.user.windowSeconds/,
    );
  });
});

function bfAppFor(guard: ReturnType<typeof bruteForce>) {
  const a = express();
  a.get('/r', authenticate([guard.protect(toyScheme())]), (req, r) => {
    r.send(req.principal?.subject);
  });
  return a;
}

describe('rateLimit (Redis, two instances)', () => {
  it('two apps with their own Redis clients share one limit', async () => {
    const c1 = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const c2 = createClient({ url: REDIS_URL });
    await c2.connect();
    await Promise.all([redisReady(c1), redisReady(c2)]);
    const prefix = runId();
    try {
      const opts = { name: 'shared', limit: 4, windowSeconds: 60, keyPrefix: prefix };
      const app1 = appWith(redisRateLimit(c1, opts));
      const app2 = appWith(redisRateLimit(c2, opts));
      const codes: number[] = [];
      for (let i = 0; i < 6; i++)
        codes.push(
          (
            await request(i % 2 === 0 ? app1 : app2)
              .get('/r')
              .set('Authorization', 'Toy shared-user')
          ).status,
        );
      expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
      const keys = await c1.keys(`${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.some((k) => k.includes('p:toy:shared-user'))).toBe(true);
    } finally {
      const keys = await c1.keys(`${prefix}*`);
      if (keys.length) await c1.del(...keys);
      c1.disconnect();
      c2.destroy();
    }
  });

  it('redisReady(): the first request after start-up is served, not 503; an absent Redis fails within its deadline', async () => {
    const lazy = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    const prefix = runId();
    try {
      expect(lazy.status).toBe('wait');
      await redisReady(lazy, { timeoutMs: 5000 });
      expect(lazy.status).toBe('ready');
      const app = bfAppFor(redisBruteForce(lazy, { maxFailures: 2, keyPrefix: prefix }));
      expect((await request(app).get('/r').set('Authorization', 'Toy bad')).status).toBe(401);
      expect((await request(app).get('/r').set('Authorization', 'Toy alice')).status).toBe(200);
    } finally {
      const keys = await lazy.keys(`${prefix}*`);
      if (keys.length) await lazy.del(...keys);
      lazy.disconnect();
    }
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    down.on('error', () => undefined);
    const started = Date.now();
    await expect(redisReady(down, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'dependency_unavailable',
      reason: 'redis_not_ready',
      status: 503,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    down.disconnect();
  });

  it('answers 503 when the Redis store cannot answer', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const app = appWith(redisRateLimit(down, { limit: 5, windowSeconds: 60, keyPrefix: runId(), timeoutMs: 200 }));
    const started = Date.now();
    const res = await request(app).get('/r');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('dependency_unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
    down.disconnect();
  });
});

describe('bruteForce', () => {
  function bfApp(
    scheme: Parameters<ReturnType<typeof bruteForce>['protect']>[0],
    guard: ReturnType<typeof bruteForce>,
    hint?: (req: { headers: Record<string, unknown> }) => string | undefined,
  ) {
    const a = express();
    a.set('trust proxy', true);
    a.get('/r', authenticate([guard.protect(scheme, hint as never)]), (req, r) => {
      r.send(req.principal?.subject);
    });
    return a;
  }

  it('slows after the free retries and locks out an IP after maxFailures (429 locked_out)', async () => {
    const guard = bruteForce({ maxFailures: 3, freeRetries: 1, baseDelayMs: 20, maxDelayMs: 40, lockSeconds: 30, keyPrefix: runId() });
    expect([1, 2, 3, 4, 10].map((n) => guard.delayFor(n))).toEqual([0, 20, 30, 40, 40]);
    const app = bfApp(toyScheme(), guard);
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push((await request(app).get('/r').set('X-Forwarded-For', '203.0.113.5').set('Authorization', 'Toy bad')).status);
    expect(codes).toEqual([401, 401, 401]);
    const locked = await request(app).get('/r').set('X-Forwarded-For', '203.0.113.5').set('Authorization', 'Toy bad');
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('locked_out');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(20);
    // Even a good credential is refused while locked; another IP is unaffected.
    expect((await request(app).get('/r').set('X-Forwarded-For', '203.0.113.5').set('Authorization', 'Toy alice')).status).toBe(429);
    expect((await request(app).get('/r').set('X-Forwarded-For', '203.0.113.6').set('Authorization', 'Toy alice')).status).toBe(200);
    await guard.reset({ ip: '203.0.113.5' });
    expect((await request(app).get('/r').set('X-Forwarded-For', '203.0.113.5').set('Authorization', 'Toy alice')).status).toBe(200);
  });

  it("subjectScope 'everywhere' locks a subject across IPs, using the API key id as the subject hint", async () => {
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32) });
    const { key, record } = await manager.issue({ owner: 'victim' });
    const p = parseApiKey(key)!;
    const wrong = `${p.prefix}_${p.id}.${'x'.repeat(43)}`;
    const guard = bruteForce({ maxFailures: 2, freeRetries: 5, lockSeconds: 30, keyPrefix: runId(), subjectScope: 'everywhere' });
    const hint = (req: { headers: Record<string, unknown> }) => parseApiKey(String(req.headers['x-api-key'] ?? ''))?.id;
    const app = bfApp(apiKeyScheme({ manager }), guard, hint);
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push(
        (
          await request(app)
            .get('/r')
            .set('X-Forwarded-For', `198.51.100.${i + 1}`)
            .set('X-API-Key', wrong)
        ).status,
      );
    expect(codes).toEqual([401, 401, 429]);
    const res = await request(app).get('/r').set('X-Forwarded-For', '198.51.100.99').set('X-API-Key', key);
    expect(res.status).toBe(429);
    expect(res.text).not.toContain(p.secret);
    await guard.reset({ subject: record.id });
    expect((await request(app).get('/r').set('X-Forwarded-For', '198.51.100.99').set('X-API-Key', key)).text).toBe('victim');
  });

  it('does not count missing credentials, 400s or successes', async () => {
    const guard = bruteForce({ maxFailures: 1, freeRetries: 5, keyPrefix: runId() });
    const app = bfApp(toyScheme(), guard);
    for (let i = 0; i < 3; i++) {
      expect((await request(app).get('/r').set('X-Forwarded-For', '192.0.2.44')).status).toBe(401);
      expect((await request(app).get('/r').set('X-Forwarded-For', '192.0.2.44').set('Authorization', 'Toy ')).status).toBe(400);
      expect((await request(app).get('/r').set('X-Forwarded-For', '192.0.2.44').set('Authorization', 'Toy ok')).status).toBe(200);
    }
  });

  it('locks out across two instances sharing Redis', async () => {
    const c1 = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const c2 = createClient({ url: REDIS_URL });
    await c2.connect();
    // Without this the first request met an ioredis client still connecting: 503 (the CI flake).
    await Promise.all([redisReady(c1), redisReady(c2)]);
    const prefix = runId();
    try {
      const opts = { maxFailures: 2, freeRetries: 5, lockSeconds: 30, keyPrefix: prefix };
      const app1 = bfApp(toyScheme(), redisBruteForce(c1, opts));
      const app2 = bfApp(toyScheme(), redisBruteForce(c2, opts));
      const codes: number[] = [];
      for (const app of [app1, app2, app1, app2])
        codes.push((await request(app).get('/r').set('X-Forwarded-For', '203.0.113.77').set('Authorization', 'Toy bad')).status);
      expect(codes).toEqual([401, 401, 429, 429]);
      expect((await request(app2).get('/r').set('X-Forwarded-For', '203.0.113.77').set('Authorization', 'Toy good')).status).toBe(429);
    } finally {
      const keys = await c1.keys(`${prefix}*`);
      if (keys.length) await c1.del(...keys);
      c1.disconnect();
      c2.destroy();
    }
  });
});

describe('rateLimit: IETF RateLimit / RateLimit-Policy fields (draft-8) and Retry-After', () => {
  /** Sends three requests over a limit of 2 per 60 s (memory or Redis) and checks every answer's fields. */
  async function check(limit: Middleware): Promise<void> {
    const app = appWith(limit);
    for (let i = 0; i < 2; i++) {
      const ok = await request(app).get('/r').set('Authorization', 'Toy dora');
      expect(ok.status).toBe(200);
      expect(ok.headers['ratelimit-policy']).toBe('"reports";q=2;w=60');
      expect(ok.headers['ratelimit']).toMatch(new RegExp(`^"reports";r=${1 - i};t=(\\d+)$`));
      const t = Number(/t=(\d+)$/.exec(String(ok.headers['ratelimit']))?.[1]);
      expect(t).toBeGreaterThanOrEqual(1);
      expect(t).toBeLessThanOrEqual(60);
      expect(ok.headers['retry-after']).toBeUndefined();
    }
    const over = await request(app).get('/r').set('Authorization', 'Toy dora');
    expect(over.status).toBe(429);
    expect(over.headers['ratelimit-policy']).toBe('"reports";q=2;w=60');
    const t = Number(/^"reports";r=0;t=(\d+)$/.exec(String(over.headers['ratelimit']))?.[1]);
    expect(t).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers['retry-after'])).toBe(t);
    // A per-kind rule is its own policy.
    const anon = await request(app).get('/r').set('X-Forwarded-For', '192.0.2.200');
    expect(anon.headers['ratelimit-policy']).toBe('"reports.anonymous";q=1;w=30');
  }
  const opts = { name: 'reports', limit: 2, windowSeconds: 60, byKind: { anonymous: { limit: 1, windowSeconds: 30 } } };

  it('memory', async () => {
    await check(rateLimit({ ...opts, keyPrefix: runId() }));
  });

  it('Redis', async () => {
    const client = new Redis(REDIS_URL);
    try {
      await redisReady(client);
      await check(redisRateLimit(client, { ...opts, keyPrefix: runId() }));
    } finally {
      client.disconnect();
    }
  });
});
