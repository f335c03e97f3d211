/**
 * Subject cut-offs of RedisRevocationList against the lifetime bound of the verifiers (shared Redis,
 * keys under a prefix of this run, real time): a cut-off lives as long as any token it covers can be
 * accepted, and a token that would outlive the cut-offs (longer than `maxTokenLifetimeSeconds` from its
 * `iat`) is refused outright rather than only until it gets close enough to its `exp`.
 */
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import request from 'supertest';
import { Redis } from 'ioredis';
import { apiJwtScheme, authenticate } from '../../src/index.js';
import { RedisRevocationList } from '../../src/redis.js';
import { redisUrl } from '../helpers/services.js';

const REDIS_URL = redisUrl();
const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const RSA_PRIVATE = fixture('apijwt/rsa_private.pem');
const RSA_PUBLIC = fixture('apijwt/rsa_public.pem');
const MODEL = { allowed: { scopes: { PER_KEY: { user: ['orders:read'] } } } };
const LIFETIME = 2; // seconds, for the list and the verifier alike

function apiJwt(sub: string, iat: number, exp: number): string {
  const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: 'auth_user', sub, iat, jti: randomUUID(), exp, level: '1.0', scopes: 'orders:read' })}`;
  return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey(RSA_PRIVATE)).toString('base64url')}`;
}

const untilEpochMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));

describe('RedisRevocationList subject cut-offs and maxTokenLifetimeSeconds (APIJwt)', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `test:revocation-lifetime:${randomUUID()}:`;
  const list = new RedisRevocationList(redis, { keyPrefix: prefix, maxTokenLifetimeSeconds: LIFETIME });
  const app = express();
  app.get(
    '/r',
    authenticate([apiJwtScheme({ ...MODEL, publicKeys: [RSA_PUBLIC], isRevoked: list.forApiJwt(), maxTokenLifetimeSeconds: LIFETIME })]),
    (req, res) => {
      res.json({ subject: req.principal?.subject });
    },
  );
  const present = (token: string) => request(app).get('/r').set('Authorization', `Bearer ${token}`);

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('a token issued for longer than maxTokenLifetimeSeconds is refused for its whole life, not accepted once its cut-off expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = apiJwt('alice', now, now + LIFETIME + 3);
    await list.revokeSubject('alice', now);
    expect((await present(token)).body).toMatchObject({ reason: 'lifetime_too_long' });
    // Past the cut-off's lifetime, and close enough to exp that "exp - now" is within the bound.
    await untilEpochMs((now + LIFETIME + 1.2) * 1000);
    const late = await present(token);
    expect(late.status).toBe(401);
    expect(late.body).toMatchObject({ reason: 'lifetime_too_long' });
  }, 15_000);

  it('a cut-off set ahead of now lives until the last token it covers has expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cutoff = now + 2;
    await list.revokeSubject('bob', cutoff); // every token issued up to `cutoff`
    const token = apiJwt('bob', cutoff, cutoff + LIFETIME); // covered, and within the lifetime bound
    await untilEpochMs((cutoff + 1.2) * 1000); // issued, not yet expired, and more than LIFETIME after the revoke call
    const res = await present(token);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ reason: 'revoked' });
    const after = apiJwt('bob', cutoff + 1, cutoff + 1 + LIFETIME); // issued after the cut-off
    expect((await present(after)).status).toBe(200);
  }, 15_000);
});
