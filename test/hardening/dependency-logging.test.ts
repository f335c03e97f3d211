/**
 * A 503 is never silent on the server: a dependency failure reaches the logger wherever the operator
 * gave it (the scheme, the brute-force guard or `authenticate()`), and with no logger at all one line
 * a minute per reason goes to stderr, naming the dependency and why. Never the credential.
 */
import express from 'express';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ApiKeyManager, apiKeyScheme, authenticate, jwtBearerScheme, parseApiKey, type Logger } from '../../src/index.js';
import { RedisApiKeyStore, redisBruteForce, redisReady } from '../../src/redis.js';
import { PrivateRedis } from '../helpers/redis-server.js';

interface Line {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string | undefined;
}

function recorder(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message?: string) => {
    lines.push({ level, fields, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Collects what is written to stderr while `run` runs (and still passes it through). */
async function stderrOf(run: () => Promise<void>): Promise<string> {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    await run();
  } finally {
    process.stderr.write = original;
  }
  return text;
}

describe('dependency failures reach the operator (Redis API key store killed)', () => {
  let redis: PrivateRedis;
  let client: Redis;
  let manager: ApiKeyManager;
  let key = '';
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    // As docs/apikeys.md wires it: a Redis store behind the manager.
    client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await redisReady(client);
    manager = new ApiKeyManager({
      store: new RedisApiKeyStore(client, { keyPrefix: `test:deplog:${randomBytes(4).toString('hex')}:` }),
      pepper: randomBytes(32),
    });
    key = (await manager.issue({ owner: 'svc' })).key;
    await redis.kill();
  });
  afterAll(async () => {
    client.disconnect();
    await redis.kill();
  });

  const appWith = (scheme: ReturnType<typeof apiKeyScheme>, logger?: Logger) => {
    const a = express();
    a.get('/r', authenticate([scheme], logger ? { logger } : {}), (_q, r) => {
      r.send('ok');
    });
    return a;
  };

  it('a logger given only to the scheme receives the failure: dependency and reason, never the key', async () => {
    const logger = recorder();
    const res = await request(appWith(apiKeyScheme({ manager, logger })))
      .get('/r')
      .set('X-API-Key', key);
    expect(res.status).toBe(503);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({ target: 'apikey', reason: expect.any(String) });
    expect(errors[0]?.message).toMatch(/^apiKeyScheme\(\): .*503/);
    const secret = parseApiKey(key)?.secret ?? key;
    expect(JSON.stringify(logger.lines)).not.toContain(secret);
  });

  it('a logger given only to redisBruteForce() receives the failure of its counter store', async () => {
    const logger = recorder();
    const guard = redisBruteForce(client, { logger, keyPrefix: `test:deplog-bf:${randomBytes(4).toString('hex')}:`, timeoutMs: 300 });
    const res = await request(appWith(guard.protect(apiKeyScheme({ manager }))))
      .get('/r')
      .set('X-API-Key', key);
    expect(res.status).toBe(503);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]?.fields).toMatchObject({ target: 'rate_limit_store', where: 'bruteForce()' });
    // A logger was given in the chain: nothing goes to stderr for it.
    const text = await stderrOf(async () => {
      expect(
        (
          await request(appWith(guard.protect(apiKeyScheme({ manager }))))
            .get('/r')
            .set('X-API-Key', key)
        ).status,
      ).toBe(503);
    });
    expect(text).not.toContain('authnz-express');
  });

  it('with no logger anywhere, one stderr line per reason names the dependency and why, not one per request', async () => {
    const a = appWith(apiKeyScheme({ manager }));
    const statuses: number[] = [];
    const text = await stderrOf(async () => {
      for (let i = 0; i < 11; i++) statuses.push((await request(a).get('/r').set('X-API-Key', key)).status);
    });
    expect(new Set(statuses)).toEqual(new Set([503]));
    const lines = text.split('\n').filter((l) => l.startsWith('authnz-express'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines)
      expect(line).toMatch(
        /^authnz-express \[dependency_unavailable\]: apiKeyScheme\(\): apikey answered 503 \(\w+\) \(target=apikey, reason=\w+/,
      );
    // One line per reason (ioredis's failure changes as it gives up reconnecting), not one per request.
    const reasons = lines.map((l) => /reason=(\w+)/.exec(l)?.[1]);
    expect(new Set(reasons).size).toBe(lines.length);
    expect(lines.length).toBeLessThan(statuses.length);
    expect(text).not.toContain(parseApiKey(key)?.secret ?? key);
  });
});

describe('dependency failures of jwtBearerScheme reach its own logger', () => {
  it('a JWKS endpoint that refuses connections: 503, and the scheme logger hears which dependency failed', async () => {
    const logger = recorder();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const scheme = jwtBearerScheme({
      issuer: 'https://issuer.example',
      audience: 'https://api.example',
      jwksUri: 'http://127.0.0.1:9/jwks?tenant=secret',
      logger,
    });
    const a = express();
    a.get('/r', authenticate([scheme]), (_q, r) => {
      r.send('ok');
    });
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ iss: 'https://issuer.example', aud: 'https://api.example', sub: 's', exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url');
    const res = await request(a)
      .get('/r')
      .set('Authorization', `Bearer ${header}.${payload}.${'A'.repeat(342)}`);
    expect(res.status).toBe(503);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({ target: 'jwt-bearer', reason: 'jwks_unavailable' });
    expect(errors[0]?.message).toMatch(/^jwtBearerScheme\(\): .*503/);
    expect(JSON.stringify(logger.lines)).not.toContain('tenant=secret');
  });
});
