/**
 * Outages with real processes: a private redis-server killed, frozen and restarted on the same port;
 * the local KMS slowed and stopped; JWKS and introspection endpoints stopped. Requests that need the
 * dependency get 503 within the configured time, nothing is let through, cached credentials keep
 * working, a health route answers meanwhile, and service resumes by itself.
 */
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  ApiKeyManager,
  apiJwtScheme,
  apiKeyScheme,
  asymmetricJwtScheme,
  authenticate,
  buildJwks,
  createAuthHeader,
  introspectionScheme,
  jwkThumbprint,
  kmsauthScheme,
  KmsTokenGenerator,
  KmsTokenValidator,
} from '../../src/index.js';
import type { ApiKeyStore, KmsClientLike, ReplayStore } from '../../src/index.js';
import { signCompact } from '../../src/jwt/compact.js';
import { pyJsonDumps } from '../../src/jwt/pyjson.js';
import { RedisApiKeyStore, RedisReplayStore, redisReady } from '../../src/redis.js';
import { createKmsClient, startLocalKms, type LocalKms } from '../../src/kms.js';
import { listen, type Listening } from '../helpers/http.js';
import { PrivateRedis } from '../helpers/redis-server.js';

const keyText = (name: string): string => readFileSync(new URL(`../fixtures/asymmetric-jwt/keys/${name}`, import.meta.url), 'utf8');
const ED_PRIVATE = keyText('ed25519_private.pem');
const ED_PUBLIC = keyText('ed25519_public.pem');
const TIMEOUT_MS = 300;
/** Generous bound for "503 within the configured time" (the timeout plus scheduling slack). */
const BOUND_MS = 2000;
/**
 * Deadline of the same stores and clients on the happy paths (before, between and after outages): the
 * short outage deadline is what the 503 assertions measure, but on a loaded machine a healthy Redis or
 * KMS can take longer than 300 ms now and then, and a happy path must not fail for that.
 */
const HAPPY_TIMEOUT_MS = 10_000;
/** True while an outage is being measured: the dependencies are then used with TIMEOUT_MS. */
let outage = false;
const during = async <T>(work: () => Promise<T>): Promise<T> => {
  outage = true;
  try {
    return await work();
  } finally {
    outage = false;
  }
};

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

async function timed<T>(work: () => PromiseLike<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}
async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`not recovered within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
function expect503(res: request.Response, ms: number): void {
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ code: 'dependency_unavailable' });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(ms).toBeLessThan(BOUND_MS);
}

describe('Redis stopped mid-run (private redis-server, asymmetric JWT nonces + API keys)', () => {
  let redis: PrivateRedis;
  let io: Redis;
  let node: ReturnType<typeof createClient>;
  let http: Listening;
  let apiKey = '';
  const prefix = `hardening:${randomUUID()}:`;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    // Both client libraries, each with its own reconnect policy: ioredis for nonces, node-redis for keys.
    io = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    io.on('error', () => undefined);
    node = createClient({ url: redis.url, socket: { reconnectStrategy: () => 100 } });
    node.on('error', () => undefined);
    await node.connect();
    await Promise.all([redisReady(io), redisReady(node)]);
    // The same Redis data through two deadlines, picked by the phase (see HAPPY_TIMEOUT_MS).
    const keyStores = [TIMEOUT_MS, HAPPY_TIMEOUT_MS].map((timeoutMs) => new RedisApiKeyStore(node, { keyPrefix: prefix, timeoutMs }));
    const keyStore = (): ApiKeyStore => keyStores[outage ? 0 : 1] as ApiKeyStore;
    const phasedKeys: ApiKeyStore = {
      save: (r) => keyStore().save(r),
      get: (id) => keyStore().get(id),
      list: () => keyStore().list(),
      delete: (id) => keyStore().delete(id),
    };
    const nonceStores = [TIMEOUT_MS, HAPPY_TIMEOUT_MS].map((timeoutMs) => new RedisReplayStore(io, { keyPrefix: prefix, timeoutMs }));
    const phasedNonces: ReplayStore = { claim: (c) => (nonceStores[outage ? 0 : 1] as ReplayStore).claim(c) };
    const manager = new ApiKeyManager({ store: phasedKeys, pepper: randomBytes(32) });
    apiKey = (await manager.issue({ owner: 'reporter' })).key;
    const app = express();
    app.get('/health', (_req, res) => {
      res.json({ ok: true });
    });
    app.get(
      '/jwt',
      authenticate([asymmetricJwtScheme({ users: { svc: { publicKeys: [ED_PUBLIC] } }, replayStore: phasedNonces })]),
      (req, res) => {
        res.json(req.principal);
      },
    );
    app.get('/key', authenticate([apiKeyScheme({ manager })]), (req, res) => {
      res.json(req.principal);
    });
    http = await listen(app);
  });

  afterAll(async () => {
    await http?.close();
    io?.disconnect();
    if (node?.isOpen) node.destroy();
    await redis?.dispose();
  });

  const jwt = (): string => createAuthHeader({ username: 'svc', privateKey: ED_PRIVATE });
  const get = (path: string, headers: Record<string, string> = {}): request.Test => request(http.server).get(path).set(headers);

  it('works while Redis is up; replays are refused', async () => {
    const header = jwt();
    expect((await get('/jwt', { Authorization: header })).status).toBe(200);
    expect((await get('/jwt', { Authorization: header })).body.code).toBe('replay');
    expect((await get('/key', { 'X-API-Key': apiKey })).status).toBe(200);
  });

  it('killed: every request that needs Redis is a 503 within the bound, none passes; /health answers; restart resumes by itself', async () => {
    await redis.kill();
    await during(async () => {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          timed(() => (i % 2 === 0 ? get('/jwt', { Authorization: jwt() }) : get('/key', { 'X-API-Key': apiKey }))),
        ),
      );
      for (const { value, ms } of results) expect503(value, ms);
      const health = await timed(() => get('/health'));
      expect(health.value.status).toBe(200);
      expect(health.ms).toBeLessThan(BOUND_MS);

      // A token first seen during the outage is not accepted later as "already checked".
      const duringOutage = jwt();
      expect503((await timed(() => get('/jwt', { Authorization: duringOutage }))).value, 0);
    });

    await redis.restart();
    const recoveredIn = await eventually(async () => (await get('/jwt', { Authorization: jwt() })).status === 200, 10_000);
    expect(recoveredIn).toBeLessThan(10_000);
    await eventually(async () => (await get('/key', { 'X-API-Key': apiKey })).status === 200, 10_000);
    // Replay protection is intact after the restart (AOF kept the nonces).
    const header = jwt();
    expect((await get('/jwt', { Authorization: header })).status).toBe(200);
    expect((await get('/jwt', { Authorization: header })).body.code).toBe('replay');
  }, 30_000);

  it('frozen (SIGSTOP): 503 within the bound while it hangs, back to 200 on SIGCONT', async () => {
    redis.pause();
    try {
      await during(async () => {
        const results = await Promise.all(Array.from({ length: 10 }, () => timed(() => get('/jwt', { Authorization: jwt() }))));
        for (const { value, ms } of results) expect503(value, ms);
        const key = await timed(() => get('/key', { 'X-API-Key': apiKey }));
        expect503(key.value, key.ms);
        expect((await get('/health')).status).toBe(200);
      });
    } finally {
      redis.resume();
    }
    await eventually(async () => (await get('/jwt', { Authorization: jwt() })).status === 200, 10_000);
    expect((await get('/key', { 'X-API-Key': apiKey })).status).toBe(200);
    expect(unhandled).toEqual([]);
  }, 30_000);
});

describe('KMS slow or down (local KMS, real SDK)', () => {
  let kms: LocalKms;
  let client: ReturnType<typeof createKmsClient>;
  let happyClient: ReturnType<typeof createKmsClient>;
  let http: Listening;
  // One validator (one cache) over the same local KMS through two deadlines, picked by the phase.
  const kmsFor = (): KmsClientLike => (outage ? client : happyClient);
  const phasedKms: KmsClientLike = {
    encrypt: (i) => kmsFor().encrypt(i),
    decrypt: (i) => kmsFor().decrypt(i),
    describeKey: (i) => kmsFor().describeKey(i),
  };
  let stateDir: string;
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' };
  const headersFor = (from: string): Promise<Record<string, string>> =>
    new KmsTokenGenerator({ authKey: 'alias/svc', authContext: { from, to: 'api', user_type: 'service' }, kms: happyClient }).getHeaders();

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'authnz-hardening-kms-'));
    kms = await startLocalKms({ stateFile: join(stateDir, 'kms.json') });
    client = createKmsClient({ endpoint: kms.url, credentials, region: 'us-east-1', timeoutMs: 500 });
    happyClient = createKmsClient({ endpoint: kms.url, credentials, region: 'us-east-1', timeoutMs: HAPPY_TIMEOUT_MS });
    const arn = (await client.sdk.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await client.sdk.send(new CreateAliasCommand({ AliasName: 'alias/svc', TargetKeyId: arn }));
    const validator = new KmsTokenValidator({ authKey: ['alias/svc'], userAuthKey: null, toAuthContext: 'api', kms: phasedKms });
    const app = express();
    app.get('/health', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/who', authenticate([kmsauthScheme({ validator })]), (req, res) => {
      res.json(req.principal);
    });
    http = await listen(app);
  });

  afterAll(async () => {
    kms.delayMs = 0;
    await http.close();
    client.destroy();
    happyClient.destroy();
    await kms.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('slow KMS: new tokens 503 within the timeout, cached ones keep working, /health answers meanwhile', async () => {
    const cached = await headersFor('cached-svc');
    expect((await request(http.server).get('/who').set(cached)).status).toBe(200);
    const fresh = await headersFor('fresh-svc'); // made before the slowdown
    kms.delayMs = 5000;
    try {
      await during(async () => {
        const slow = timed(() => request(http.server).get('/who').set(fresh));
        // While that Decrypt hangs, the event loop serves health and cached tokens at once.
        const health = await timed(() => request(http.server).get('/health'));
        expect(health.value.status).toBe(200);
        const hit = await timed(() => request(http.server).get('/who').set(cached));
        expect([hit.value.status, hit.value.body.subject]).toEqual([200, 'cached-svc']);
        const done = await slow;
        expect503(done.value, done.ms);
        expect(health.ms).toBeLessThan(done.ms);
      });
    } finally {
      kms.delayMs = 0;
    }
    expect((await request(http.server).get('/who').set(fresh)).status).toBe(200);
  }, 20_000);

  it('KMS stopped: new tokens 503, cached ones work; restarted on the same port: new tokens work again', async () => {
    const cached = await headersFor('before-stop');
    expect((await request(http.server).get('/who').set(cached)).status).toBe(200);
    const fresh = await headersFor('after-stop');
    const port = kms.port;
    await kms.close();
    await during(async () => {
      const down = await timed(() => request(http.server).get('/who').set(fresh));
      expect503(down.value, down.ms);
      expect((await request(http.server).get('/who').set(cached)).status).toBe(200);
      expect((await request(http.server).get('/health')).status).toBe(200);
    });
    kms = await startLocalKms({ port, stateFile: join(stateDir, 'kms.json') });
    await eventually(async () => (await request(http.server).get('/who').set(fresh)).status === 200, 10_000);
  }, 20_000);
});

describe('key endpoints down (JWKS for APIJwt and asymmetric JWT, OAuth introspection)', () => {
  const NOW = Math.floor(Date.now() / 1000);
  // APIJwt is RS256-only (api_jwt); asymmetric JWT takes the EC keys from the same JWKS.
  const known = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const unknown = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const knownRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const unknownRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let jwks: Listening;
  let introspection: Listening;
  let http: Listening;
  let jwksUri = '';
  const active = new Set(['cached-token', 'fresh-token']);

  const apiJwt = (key: KeyObject, kid: string, sub: string): string =>
    signCompact('RS256', key, JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }), pyJsonDumps({ iss: 'auth_user', sub, exp: NOW + 600 }));

  beforeAll(async () => {
    jwks = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(buildJwks([known.publicKey, knownRsa.publicKey])));
    });
    jwksUri = `${jwks.url}/jwks.json`;
    introspection = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('token') ?? '';
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(active.has(token) ? { active: true, sub: token, exp: NOW + 600 } : { active: false }));
      });
    });
    const app = express();
    app.get('/health', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/apijwt', authenticate([apiJwtScheme({ jwksUri, jwks: { cooldownMs: 0, timeoutMs: 500 } })]), (req, res) => {
      res.json(req.principal);
    });
    app.get(
      '/ajwt',
      authenticate([asymmetricJwtScheme({ users: { svc: { jwks: [jwksUri] } }, jwks: { cooldownMs: 0, timeoutMs: 500 } })]),
      (req, res) => {
        res.json(req.principal);
      },
    );
    app.get(
      '/oauth',
      authenticate([
        introspectionScheme({
          endpoint: `${introspection.url}/introspect`,
          clientAuth: { method: 'client_secret_post', clientId: 'rs', clientSecret: 'rs-secret' },
          timeoutMs: 500,
        }),
      ]),
      (req, res) => {
        res.json(req.principal);
      },
    );
    http = await listen(app);
  });

  afterAll(async () => {
    await http.close();
    if (jwks.server.listening) await jwks.close();
    if (introspection.server.listening) await introspection.close();
  });

  // asymmetric_jwt_auth selects JWKS keys by the JWKS `kid` (here the RFC 7638 thumbprint).
  const ajwt = (key: KeyObject, kid: string): string =>
    `JWT ${signCompact('ES256', key, JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' }), JSON.stringify({ username: 'svc', time: Math.floor(Date.now() / 1000), nonce: randomUUID() }))}`;

  it('cached keys and answers keep working with the endpoints stopped; unknown ones get 503, not 401', async () => {
    const kid = jwkThumbprint(known.publicKey);
    const rsaKid = jwkThumbprint(knownRsa.publicKey);
    const get = (path: string, authorization: string): request.Test => request(http.server).get(path).set('Authorization', authorization);
    // Warm the caches while the endpoints are up.
    expect((await get('/apijwt', `Bearer ${apiJwt(knownRsa.privateKey, rsaKid, 'alice')}`)).status).toBe(200);
    expect((await get('/ajwt', ajwt(known.privateKey, kid))).status).toBe(200);
    expect((await get('/oauth', 'Bearer cached-token')).status).toBe(200);

    await jwks.close();
    await introspection.close();

    // Cached key, new token: verified offline.
    const apiOk = await get('/apijwt', `Bearer ${apiJwt(knownRsa.privateKey, rsaKid, 'bob')}`);
    expect([apiOk.status, apiOk.body.subject]).toEqual([200, 'bob']);
    expect((await get('/ajwt', ajwt(known.privateKey, kid))).status).toBe(200);
    expect((await get('/oauth', 'Bearer cached-token')).status).toBe(200);

    // Unknown key / never-seen token: the endpoint cannot be asked, so 503 (not 401, not 200).
    const unknownKid = jwkThumbprint(unknown.publicKey);
    const a = await timed(() => get('/apijwt', `Bearer ${apiJwt(unknownRsa.privateKey, jwkThumbprint(unknownRsa.publicKey), 'eve')}`));
    expect503(a.value, a.ms);
    const b = await timed(() => get('/ajwt', ajwt(unknown.privateKey, unknownKid)));
    expect503(b.value, b.ms);
    const c = await timed(() => get('/oauth', 'Bearer fresh-token'));
    expect503(c.value, c.ms);
    expect((await request(http.server).get('/health')).status).toBe(200);
  }, 20_000);
});
