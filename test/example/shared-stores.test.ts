/**
 * The example app with REDIS_URL / DATABASE_URL (passed as options, as server.ts does): two instances
 * on one Redis and one PostgreSQL share nonces, rate limits and API keys.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createExampleApp, type ExampleApp } from '../../examples/express-app/app.js';
import { ApiKeyManager, parseApiKey } from '../../src/index.js';
import { PostgresApiKeyStore } from '../../src/postgres.js';
import { createAuthHeader } from '../../src/schemes/asymmetric-jwt/index.js';
import { freePort } from '../helpers/redis-server.js';
import { PrivatePostgres } from '../helpers/private-postgres.js';
import { databaseUrl, redisUrl } from '../helpers/services.js';

const REDIS_URL = redisUrl();
const DATABASE_URL = databaseUrl();

describe('example app on Redis and PostgreSQL (two instances)', () => {
  const devDir = mkdtempSync(join(tmpdir(), 'authnz-example-shared-'));
  const run = randomBytes(4).toString('hex');
  const stores = { redisUrl: REDIS_URL, databaseUrl: DATABASE_URL, keyPrefix: `test:example:${run}:`, pgSchema: `authnz_example_${run}` };
  const apps: ExampleApp[] = [];

  beforeAll(async () => {
    apps.push(await createExampleApp({ devDir, baseUrl: 'http://127.0.0.1:3000', stores }));
    apps.push(await createExampleApp({ devDir, baseUrl: 'http://127.0.0.1:3000', stores }));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${stores.keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${stores.pgSchema}" CASCADE`);
    await db.end();
    rmSync(devDir, { recursive: true, force: true });
  });

  it('says which stores it runs on', () => {
    expect(apps.map((a) => a.stores)).toEqual(['redis+postgres', 'redis+postgres']);
  });

  it('an asymmetric JWT accepted by one instance is a replay on the other', async () => {
    const header = createAuthHeader({
      username: 'svc-client',
      privateKey: readFileSync(join(devDir, 'asymmetric_jwt_svc_private.pem'), 'utf8'),
    });
    expect((await request(apps[0]!.app).get('/asymmetric-jwt/whoami').set('Authorization', header)).status).toBe(200);
    const replay = await request(apps[1]!.app).get('/asymmetric-jwt/whoami').set('Authorization', header);
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('replay');
  });

  it('the API key lives in PostgreSQL and the rate limit of 5 per minute is shared by both instances', async () => {
    const { key } = JSON.parse(readFileSync(join(devDir, 'apikey-dev.json'), 'utf8')) as { key: string };
    const codes: number[] = [];
    for (let i = 0; i < 7; i++)
      codes.push(
        (
          await request(apps[i % 2]!.app)
            .get('/apikey/reports')
            .set('X-API-Key', key)
        ).status,
      );
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT owner FROM "${stores.pgSchema}".authnz_api_keys`);
      expect(rows).toEqual([{ owner: 'dev-service' }]);
    } finally {
      await db.end();
    }
  });

  it('a dev key revoked in PostgreSQL stays revoked when an instance restarts (seeded only when absent)', async () => {
    const saved = JSON.parse(readFileSync(join(devDir, 'apikey-dev.json'), 'utf8')) as { key: string; pepper: string };
    const db = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      const manager = new ApiKeyManager({
        store: new PostgresApiKeyStore(db, { schema: stores.pgSchema }),
        pepper: Buffer.from(saved.pepper, 'base64url'),
      });
      expect(await manager.revoke(parseApiKey(saved.key)!.id)).toBe(true);
      apps.push(await createExampleApp({ devDir, baseUrl: 'http://127.0.0.1:3000', stores })); // a third instance starts, or one restarts
      for (const app of apps) {
        const res = await request(app.app).get('/apikey/datasets/mine').set('X-API-Key', saved.key);
        expect(res.status).toBe(401);
        expect(res.body.reason).toBe('revoked');
      }
    } finally {
      await db.end();
    }
  }, 60_000);
});

describe('example app start-up order', () => {
  it('waits for Redis before it is ready to serve: with Redis unreachable, start-up fails after readyTimeoutMs instead of serving 503s', async () => {
    const devDir = mkdtempSync(join(tmpdir(), 'authnz-example-ready-'));
    const redisUrl = `redis://127.0.0.1:${await freePort()}`; // nothing listens there
    try {
      const started = Date.now();
      const outcome = await createExampleApp({ devDir, baseUrl: 'http://127.0.0.1:3000', stores: { redisUrl, readyTimeoutMs: 1500 } }).then(
        async (app) => {
          await app.close();
          return 'started';
        },
        (error: unknown) => error,
      );
      expect(outcome).toMatchObject({ status: 503, code: 'dependency_unavailable', reason: 'redis_not_ready' });
      expect(Date.now() - started).toBeLessThan(10_000);
      // ioredis gives the connection attempt it was disconnected in 2 s to close before destroying it.
      await new Promise((resolve) => setTimeout(resolve, 2100));
    } finally {
      rmSync(devDir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('example app on a private PostgreSQL that is SIGKILLed and restarted (DATABASE_URL as in docs/deployment.md)', () => {
  const devDir = mkdtempSync(join(tmpdir(), 'authnz-example-pg-outage-'));
  let server: PrivatePostgres;
  let app: ExampleApp;
  beforeAll(async () => {
    server = await PrivatePostgres.start();
    app = await createExampleApp({ devDir, baseUrl: 'http://127.0.0.1:3000', stores: { databaseUrl: server.url }, log: () => undefined });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await server?.dispose();
    rmSync(devDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while PostgreSQL is down, and 200 again once it is back, in the same process', async () => {
    const { key } = JSON.parse(readFileSync(join(devDir, 'apikey-dev.json'), 'utf8')) as { key: string };
    const get = () => request(app.app).get('/apikey/datasets/mine').set('X-API-Key', key);
    expect((await get()).status).toBe(200); // the pool now holds an idle connection
    await server.kill();
    await new Promise((resolve) => setTimeout(resolve, 500)); // its 'error' event fires: no listener would end this process
    const down = await get();
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBeDefined();
    await server.restart();
    const restarted = Date.now();
    let status = 0;
    while (status !== 200 && Date.now() - restarted < 10_000) {
      status = (await get()).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  }, 60_000);
});
