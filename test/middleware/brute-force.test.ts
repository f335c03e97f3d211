/**
 * bruteForce(): a concurrent burst verifies at most `maxFailures` credentials, only requests that carry
 * a credential are counted or locked, the client key is pluggable, and a per-subject lock cannot be
 * used by strangers to lock the owner out.
 */
import express from 'express';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import {
  ApiKeyManager,
  AuthnzerverClient,
  KmsTokenValidator,
  MemoryApiKeyStore,
  apiJwtScheme,
  apiKeyScheme,
  asymmetricJwtScheme,
  authenticate,
  authnzerverScheme,
  bruteForce,
  introspectionScheme,
  jwtBearerScheme,
  kmsauthScheme,
  memoryLimiterFactory,
  parseApiKey,
  type AuthScheme,
  type KmsClientLike,
  type LimiterFactory,
} from '../../src/index.js';
import { Redis } from 'ioredis';
import { redisBruteForce, redisLimiterFactory, redisReady } from '../../src/redis.js';
import { toyScheme } from '../helpers/toy-scheme.js';
import { redisUrl } from '../helpers/services.js';

const prefix = () => `test:bfm:${randomBytes(6).toString('hex')}:`;

/** Counts how many credentials reach the scheme's verification, which takes 25 ms (a store round trip). */
function counted(scheme: AuthScheme): { scheme: AuthScheme; verified: () => number } {
  let n = 0;
  return {
    verified: () => n,
    scheme: {
      ...scheme,
      async authenticate(req) {
        if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) n += 1;
        await new Promise((resolve) => setTimeout(resolve, 25));
        return scheme.authenticate(req);
      },
    },
  };
}

function app(scheme: AuthScheme, optional = false) {
  const a = express();
  a.set('trust proxy', true);
  a.get('/r', authenticate([scheme], { optional }), (req, r) => {
    r.send(req.principal?.subject ?? 'anonymous');
  });
  return a;
}

describe('bruteForce: reserve before verify', () => {
  it('a burst of 200 concurrent wrong guesses from one address verifies at most maxFailures', async () => {
    const guard = bruteForce({ maxFailures: 5, freeRetries: 100, keyPrefix: prefix() });
    const probe = counted(toyScheme());
    const a = app(guard.protect(probe.scheme));
    const server = a.listen(0, '127.0.0.1');
    try {
      const codes = await Promise.all(
        Array.from({ length: 200 }, () =>
          request(server)
            .get('/r')
            .set('X-Forwarded-For', '203.0.113.9')
            .set('Authorization', 'Toy bad')
            .then((r) => r.status),
        ),
      );
      expect(probe.verified()).toBeLessThanOrEqual(5);
      expect(codes.filter((c) => c === 401)).toHaveLength(probe.verified());
      expect(codes.filter((c) => c === 429)).toHaveLength(200 - probe.verified());
    } finally {
      server.close();
    }
  });

  it('a burst of 50 concurrent correct requests from one address all succeed and lock nothing', async () => {
    const guard = bruteForce({ maxFailures: 5, freeRetries: 100, keyPrefix: prefix() });
    const a = app(guard.protect(counted(toyScheme()).scheme));
    const server = a.listen(0, '127.0.0.1');
    try {
      const codes = await Promise.all(
        Array.from({ length: 50 }, () =>
          request(server)
            .get('/r')
            .set('X-Forwarded-For', '203.0.113.10')
            .set('Authorization', 'Toy alice')
            .then((r) => r.status),
        ),
      );
      expect(codes).toEqual(Array.from({ length: 50 }, () => 200));
      // Nothing was counted: five wrong guesses are still answered 401, the sixth is locked.
      const after: number[] = [];
      for (let i = 0; i < 6; i++)
        after.push((await request(server).get('/r').set('X-Forwarded-For', '203.0.113.10').set('Authorization', 'Toy bad')).status);
      expect(after).toEqual([401, 401, 401, 401, 401, 429]);
    } finally {
      server.close();
    }
  });
});

describe('bruteForce: reserve before verify, two instances sharing Redis', () => {
  it('100 concurrent wrong guesses split over two instances verify at most maxFailures in all', async () => {
    const clients = [new Redis(redisUrl()), new Redis(redisUrl())];
    const keyPrefix = prefix();
    try {
      await Promise.all(clients.map((c) => redisReady(c)));
      const probes = clients.map(() => counted(toyScheme()));
      // A generous store deadline: the point is the count, not the latency of a loaded machine.
      const servers = clients.map((c, i) =>
        app(
          redisBruteForce(c, { maxFailures: 5, freeRetries: 100, keyPrefix, timeoutMs: 5000 }).protect(
            (probes[i] as { scheme: AuthScheme }).scheme,
          ),
        ).listen(0, '127.0.0.1'),
      );
      try {
        const codes = await Promise.all(
          Array.from({ length: 100 }, (_x, i) =>
            request(servers[i % 2] as Server)
              .get('/r')
              .set('X-Forwarded-For', '203.0.113.11')
              .set('Authorization', 'Toy bad')
              .then((r) => r.status),
          ),
        );
        const verified = probes.reduce((n, p) => n + p.verified(), 0);
        expect(verified).toBeLessThanOrEqual(5);
        expect(codes.filter((c) => c === 401)).toHaveLength(verified);
        expect(codes.filter((c) => c === 429)).toHaveLength(100 - verified);
      } finally {
        for (const s of servers) s.close();
      }
    } finally {
      const keys = await (clients[0] as Redis).keys(`${keyPrefix}*`);
      if (keys.length) await (clients[0] as Redis).del(...keys);
      for (const c of clients) c.disconnect();
    }
  });
});

describe('bruteForce: only credentials are counted and locked', () => {
  it('every built-in scheme tells whether a request carries its credential, without verifying it', () => {
    const unused = (): never => {
      throw new Error('hasCredential must not call out');
    };
    const kms: KmsClientLike = { encrypt: unused, decrypt: unused, describeKey: unused };
    const secret = randomBytes(32).toString('base64url') + '=';
    const cases: Array<[AuthScheme, Record<string, string>]> = [
      [
        apiKeyScheme({ manager: new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32) }) }),
        { 'x-api-key': 'ak_x.y' },
      ],
      [apiJwtScheme({ publicKeys: [readFileSync('test/fixtures/apijwt/rsa_public.pem', 'utf8')] }), { authorization: 'Bearer a.b.c' }],
      [
        asymmetricJwtScheme({
          users: { svc: { publicKeys: [readFileSync('test/fixtures/asymmetric-jwt/keys/ed25519_public.pem', 'utf8')] } },
        }),
        { authorization: 'JWT a.b.c' },
      ],
      [
        kmsauthScheme({ validator: new KmsTokenValidator({ authKey: ['alias/x'], userAuthKey: null, toAuthContext: 'api', kms }) }),
        { 'x-auth-from': '2/service/a', 'x-auth-token': 'dG9rZW4=' },
      ],
      [
        introspectionScheme({
          endpoint: 'http://127.0.0.1:1/i',
          clientAuth: { method: 'client_secret_post', clientId: 'rs', clientSecret: 's' },
        }),
        { authorization: 'Bearer opaque' },
      ],
      [jwtBearerScheme({ issuer: 'https://as.invalid', audience: 'api' }), { authorization: 'Bearer a.b.c' }],
      [
        authnzerverScheme({ client: new AuthnzerverClient({ url: 'http://127.0.0.1:1', secret }), apiKeySecret: secret }),
        { authorization: 'AuthnzApiKey sealed' },
      ],
    ];
    for (const [scheme, headers] of cases) {
      expect([scheme.name, typeof scheme.hasCredential]).toEqual([scheme.name, 'function']);
      expect([scheme.name, scheme.hasCredential?.({ headers: {} })]).toEqual([scheme.name, false]);
      expect([scheme.name, scheme.hasCredential?.({ headers })]).toEqual([scheme.name, true]);
    }
  });

  it('a locked address still gets anonymous access on an optional route', async () => {
    const guard = bruteForce({ maxFailures: 2, freeRetries: 100, keyPrefix: prefix() });
    const a = app(guard.protect(toyScheme()), true);
    const from = '198.51.100.40';
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push((await request(a).get('/r').set('X-Forwarded-For', from).set('Authorization', 'Toy bad')).status);
    expect(codes).toEqual([401, 401, 429]);
    const anonymous = await request(a).get('/r').set('X-Forwarded-For', from);
    expect(anonymous.status).toBe(200);
    expect(anonymous.text).toBe('anonymous');
    // A credential from the locked address is still refused before it is verified.
    expect((await request(a).get('/r').set('X-Forwarded-For', from).set('Authorization', 'Toy alice')).status).toBe(429);
  });

  it('keyOf chooses the client key: two clients behind one proxy address are locked separately', async () => {
    const guard = bruteForce({
      maxFailures: 2,
      freeRetries: 100,
      keyPrefix: prefix(),
      keyOf: (req) => String(req.headers['x-client-id'] ?? 'none'),
    });
    const a = express(); // no trust proxy: every request comes from 127.0.0.1
    a.get('/r', authenticate([guard.protect(toyScheme())]), (req, r) => {
      r.send(req.principal?.subject);
    });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push((await request(a).get('/r').set('X-Client-Id', 'mallory').set('Authorization', 'Toy bad')).status);
    expect(codes).toEqual([401, 401, 429]);
    const alice = await request(a).get('/r').set('X-Client-Id', 'alice').set('Authorization', 'Toy alice');
    expect(alice.status).toBe(200);
    expect(alice.text).toBe('alice');
  });
});

describe('bruteForce: a subject lock is not a free denial of service', () => {
  async function victim() {
    const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32) });
    const { key, record } = await manager.issue({ owner: 'victim' });
    const p = parseApiKey(key)!;
    const wrong = `${p.prefix}_${p.id}.${'x'.repeat(43)}`;
    const hint = (req: { headers: Record<string, unknown> }) => parseApiKey(String(req.headers['x-api-key'] ?? ''))?.id;
    return { manager, key, record, wrong, hint };
  }

  it('12 wrong secrets for a key id from 12 addresses leave the owner, at its own address, unaffected', async () => {
    const v = await victim();
    const guard = bruteForce({ maxFailures: 10, freeRetries: 100, lockSeconds: 300, keyPrefix: prefix() });
    const a = app(guard.protect(apiKeyScheme({ manager: v.manager }), v.hint as never));
    for (let i = 0; i < 12; i++)
      expect(
        (
          await request(a)
            .get('/r')
            .set('X-Forwarded-For', `192.0.2.${i + 1}`)
            .set('X-API-Key', v.wrong)
        ).status,
      ).toBe(401);
    const owner = await request(a).get('/r').set('X-Forwarded-For', '198.51.100.200').set('X-API-Key', v.key);
    expect(owner.status).toBe(200);
    expect(owner.text).toBe('victim');
  });

  it('a stranger guessing one key id locks only its own address', async () => {
    const v = await victim();
    const guard = bruteForce({ maxFailures: 2, freeRetries: 100, keyPrefix: prefix() });
    const a = app(guard.protect(apiKeyScheme({ manager: v.manager }), v.hint as never));
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push((await request(a).get('/r').set('X-Forwarded-For', '192.0.2.77').set('X-API-Key', v.wrong)).status);
    expect(codes).toEqual([401, 401, 429]);
    expect((await request(a).get('/r').set('X-Forwarded-For', '192.0.2.77').set('X-API-Key', v.key)).status).toBe(429);
    expect((await request(a).get('/r').set('X-Forwarded-For', '192.0.2.78').set('X-API-Key', v.key)).text).toBe('victim');
  });

  it("subjectScope: 'everywhere' keeps the old per-subject lock for low-entropy secrets", async () => {
    const v = await victim();
    const guard = bruteForce({ maxFailures: 2, freeRetries: 100, keyPrefix: prefix(), subjectScope: 'everywhere' });
    const a = app(guard.protect(apiKeyScheme({ manager: v.manager }), v.hint as never));
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push(
        (
          await request(a)
            .get('/r')
            .set('X-Forwarded-For', `192.0.2.${i + 100}`)
            .set('X-API-Key', v.wrong)
        ).status,
      );
    expect(codes).toEqual([401, 401, 429]);
    expect((await request(a).get('/r').set('X-Forwarded-For', '198.51.100.201').set('X-API-Key', v.key)).status).toBe(429);
    await guard.reset({ subject: v.record.id });
    expect((await request(a).get('/r').set('X-Forwarded-For', '198.51.100.201').set('X-API-Key', v.key)).text).toBe('victim');
  });
});

describe('bruteForce: in-flight slots held across the slot window edge are not lost', () => {
  /**
   * The in-flight slot counter's window is shortened to 1 s through the factory (the real limiter,
   * memory or Redis, with a shorter window), so attempts can be held across its edge in a test.
   */
  const shortSlots =
    (base: LimiterFactory): LimiterFactory =>
    (config) =>
      base(config.keyPrefix.endsWith(':fl') ? { ...config, windowSeconds: 1 } : config);

  /** `Toy slow` succeeds after 1.6 s (held across the 1 s slot window); `Toy bad` fails after 25 ms. */
  function slowAndBad(): { scheme: AuthScheme; verifiedBad: () => number } {
    const inner = toyScheme();
    let bad = 0;
    return {
      verifiedBad: () => bad,
      scheme: {
        ...inner,
        async authenticate(req) {
          const slow = req.headers.authorization === 'Toy slow';
          if (!slow) bad += 1;
          await new Promise((resolve) => setTimeout(resolve, slow ? 1600 : 25));
          return inner.authenticate(req);
        },
      },
    };
  }

  async function burstAfterEdge(factory: LimiterFactory, from: string): Promise<{ verified: number; codes: number[] }> {
    const guard = bruteForce({ maxFailures: 5, freeRetries: 100, keyPrefix: prefix(), factory: shortSlots(factory), timeoutMs: 5000 });
    const probe = slowAndBad();
    const server = app(guard.protect(probe.scheme)).listen(0, '127.0.0.1');
    try {
      // Five correct credentials hold all five slots across the slot window's end, then give them back.
      const held = await Promise.all(
        Array.from({ length: 5 }, () =>
          request(server)
            .get('/r')
            .set('X-Forwarded-For', from)
            .set('Authorization', 'Toy slow')
            .then((r) => r.status),
        ),
      );
      expect(held).toEqual([200, 200, 200, 200, 200]);
      const codes = await Promise.all(
        Array.from({ length: 60 }, () =>
          request(server)
            .get('/r')
            .set('X-Forwarded-For', from)
            .set('Authorization', 'Toy bad')
            .then((r) => r.status),
        ),
      );
      return { verified: probe.verifiedBad(), codes };
    } finally {
      server.close();
    }
  }

  it('memory: after slots are released into a new window, a burst still verifies at most maxFailures', async () => {
    const { verified, codes } = await burstAfterEdge(memoryLimiterFactory, '203.0.113.60');
    expect(verified).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 401)).toHaveLength(verified);
    expect(codes.filter((c) => c === 429)).toHaveLength(60 - verified);
  });

  it('Redis: after slots are released into a new window, a burst still verifies at most maxFailures', async () => {
    const client = new Redis(redisUrl());
    try {
      await redisReady(client);
      const { verified, codes } = await burstAfterEdge(redisLimiterFactory(client), '203.0.113.61');
      expect(verified).toBeLessThanOrEqual(5);
      expect(codes.filter((c) => c === 401)).toHaveLength(verified);
      expect(codes.filter((c) => c === 429)).toHaveLength(60 - verified);
    } finally {
      client.disconnect();
    }
  });
});

describe('bruteForce: an IPv6 client is counted by its /64', () => {
  const guess = (a: express.Express, from: string) =>
    request(a)
      .get('/r')
      .set('X-Forwarded-For', from)
      .set('Authorization', 'Toy bad')
      .then((r) => r.status);

  it('wrong guesses from new addresses inside one /64 share one lock; another /64 is not locked', async () => {
    const guard = bruteForce({ maxFailures: 2, freeRetries: 100, keyPrefix: prefix() });
    const a = app(guard.protect(toyScheme()));
    const codes = [await guess(a, '2001:db8:5:6::1'), await guess(a, '2001:db8:5:6:ffff::2'), await guess(a, '2001:db8:5:6:1:2:3:4')];
    expect(codes).toEqual([401, 401, 429]);
    expect(await guess(a, '2001:db8:5:7::1')).toBe(401);
    // IPv4 clients, also as IPv4-mapped IPv6, keep a counter per address.
    expect([await guess(a, '::ffff:192.0.2.1'), await guess(a, '192.0.2.2'), await guess(a, '192.0.2.3')]).toEqual([401, 401, 401]);
    // An unlock by one address of the /64 unlocks the /64.
    await guard.reset({ ip: '2001:db8:5:6::99' });
    expect(await guess(a, '2001:db8:5:6::1')).toBe(401);
  });

  it('ipv6Subnet: 128 counts each IPv6 address on its own', async () => {
    const guard = bruteForce({ maxFailures: 2, freeRetries: 100, keyPrefix: prefix(), ipv6Subnet: 128 });
    const a = app(guard.protect(toyScheme()));
    expect([await guess(a, '2001:db8:5:6::1'), await guess(a, '2001:db8:5:6::2'), await guess(a, '2001:db8:5:6::3')]).toEqual([
      401, 401, 401,
    ]);
  });

  it('ipv6Subnet out of range is refused at start-up', () => {
    expect(() => bruteForce({ ipv6Subnet: 0 })).toThrow('bruteForce(): "ipv6Subnet" must be an integer from 1 to 128 (got 0)');
    expect(() => bruteForce({ ipv6Subnet: 129 })).toThrow('bruteForce(): "ipv6Subnet" must be an integer from 1 to 128 (got 129)');
  });
});
