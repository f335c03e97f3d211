/**
 * Shared caches and revocation on a real Redis Cluster, with each cluster client: a revocation made
 * through one instance is seen by the others on their next request (APIJwt by jti and by subject
 * cut-off, asymmetric JWT by subject cut-off), an introspection answer fetched by one instance serves
 * the others, and both answer 503 when Redis cannot answer: never a pass.
 */
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { Cluster } from 'ioredis';
import { apiJwtScheme, asymmetricJwtScheme, authenticate, type AuthScheme } from '../../src/index.js';
import { RedisIntrospectionCache, RedisRevocationList, type RedisClientLike } from '../../src/redis.js';
import { createAuthHeader } from '../../src/schemes/asymmetric-jwt/index.js';
import { introspectionScheme } from '../../src/schemes/introspection/scheme.js';
import { CLIENT_KINDS, clusterClient, type ClusterClient } from './clients.js';
import { useCluster } from '../helpers/redis-cluster.js';

const getCluster = useCluster();
const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const RSA_PRIVATE = fixture('apijwt/rsa_private.pem');
const RSA_PUBLIC = fixture('apijwt/rsa_public.pem');
const ED_PRIVATE = fixture('asymmetric-jwt/keys/ed25519_private.pem');
const ED_PUBLIC = fixture('asymmetric-jwt/keys/ed25519_public.pem');
const MODEL = { allowed: { scopes: { PER_KEY: { user: ['orders:read'] } } } };

/** An APIJwt token with `iat` and `jti` (the Python issuer's claims plus the two registered ones). */
function apiJwt(sub: string, iat: number, jti: string): string {
  const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: 'auth_user', sub, iat, jti, exp: iat + 600, level: '1.0', scopes: 'orders:read' })}`;
  return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey(RSA_PRIVATE)).toString('base64url')}`;
}

function appWith(scheme: AuthScheme): express.Express {
  const app = express();
  app.get('/r', authenticate([scheme]), (req, res) => {
    res.json({ subject: req.principal?.subject });
  });
  return app;
}

let endpoint: Server;
let endpointUrl = '';
let introspections = 0;
beforeAll(async () => {
  endpoint = createServer((req, res) => {
    introspections += 1;
    req.resume();
    req.on('end', () => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ active: true, sub: 'carol', scope: 'read', exp: Math.floor(Date.now() / 1000) + 300 }));
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`;
});
afterAll(async () => {
  endpoint.closeAllConnections();
  await new Promise((resolve) => endpoint.close(resolve));
});

function introspecting(client: RedisClientLike, prefix: string, timeoutMs = 2000): AuthScheme {
  return introspectionScheme({
    endpoint: endpointUrl,
    clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret' },
    cache: new RedisIntrospectionCache(client, { keyPrefix: prefix, timeoutMs }),
  });
}

describe.each(CLIENT_KINDS)('shared revocation and introspection cache on a Redis Cluster (%s, two instances)', (kind) => {
  const clients: ClusterClient[] = [];
  const prefix = `test:cluster:shared:${kind}:${randomUUID()}:`;
  beforeAll(async () => {
    const ports = getCluster().nodes.map((n) => n.port);
    clients.push(await clusterClient(kind, ports), await clusterClient(kind, ports));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });
  const lists = (): RedisRevocationList[] => clients.map((c) => new RedisRevocationList(c.client, { keyPrefix: prefix, timeoutMs: 2000 }));

  it('APIJwt: revoked by jti, then the subject cut off, through instance A: instance B refuses on its next request', async () => {
    const [a, b] = lists() as [RedisRevocationList, RedisRevocationList];
    const apps = [a, b].map((list) => appWith(apiJwtScheme({ ...MODEL, publicKeys: [RSA_PUBLIC], isRevoked: list.forApiJwt() })));
    const now = Math.floor(Date.now() / 1000);
    const first = apiJwt('alice', now - 5, randomUUID());
    const second = apiJwt('alice', now - 5, randomUUID());
    for (const app of apps) expect((await request(app).get('/r').set('Authorization', `Bearer ${first}`)).status).toBe(200);
    await a.revokeToken(JSON.parse(Buffer.from(first.split('.')[1] as string, 'base64url').toString()).jti as string, now + 600);
    // Instance B cached the verified token: the list is still asked on every request, cached or not.
    const refused = await request(apps[1] as express.Express)
      .get('/r')
      .set('Authorization', `Bearer ${first}`);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'token_invalid', reason: 'revoked' });
    expect(
      (
        await request(apps[1] as express.Express)
          .get('/r')
          .set('Authorization', `Bearer ${second}`)
      ).status,
    ).toBe(200);
    await a.revokeSubject('alice', now - 1);
    expect(
      (
        await request(apps[1] as express.Express)
          .get('/r')
          .set('Authorization', `Bearer ${second}`)
      ).status,
    ).toBe(401);
    // A token issued after the cut-off passes.
    expect(
      (
        await request(apps[1] as express.Express)
          .get('/r')
          .set('Authorization', `Bearer ${apiJwt('alice', now, randomUUID())}`)
      ).status,
    ).toBe(200);
  });

  it('asymmetric JWT: a subject cut off through instance A is refused by instance B', async () => {
    const [a, b] = lists() as [RedisRevocationList, RedisRevocationList];
    const users = { 'svc-client': { publicKeys: [ED_PUBLIC] } };
    const appB = appWith(asymmetricJwtScheme({ users, isRevoked: b.forAsymmetricJwt() }));
    expect(
      (
        await request(appB)
          .get('/r')
          .set('Authorization', createAuthHeader({ username: 'svc-client', privateKey: ED_PRIVATE }))
      ).status,
    ).toBe(200);
    await a.revokeSubject('svc-client', Math.floor(Date.now() / 1000));
    const res = await request(appB)
      .get('/r')
      .set('Authorization', createAuthHeader({ username: 'svc-client', privateKey: ED_PRIVATE }));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('revoked');
  });

  it('introspection: the answer one instance fetched serves the other (one call to the endpoint)', async () => {
    const [appA, appB] = clients.map((c) => appWith(introspecting(c.client, prefix)));
    const token = `opaque-${randomUUID()}`;
    const before = introspections;
    expect(
      (
        await request(appA as express.Express)
          .get('/r')
          .set('Authorization', `Bearer ${token}`)
      ).body,
    ).toEqual({ subject: 'carol' });
    expect(
      (
        await request(appB as express.Express)
          .get('/r')
          .set('Authorization', `Bearer ${token}`)
      ).body,
    ).toEqual({ subject: 'carol' });
    expect(introspections).toBe(before + 1);
  });
});

it('Redis Cluster unreachable: revocation list and introspection cache answer 503 with Retry-After, never a pass', async () => {
  const down = new Cluster([{ host: '127.0.0.1', port: 1 }], { clusterRetryStrategy: () => null });
  down.on('error', () => undefined);
  try {
    const now = Math.floor(Date.now() / 1000);
    const revocation = appWith(
      apiJwtScheme({ ...MODEL, publicKeys: [RSA_PUBLIC], isRevoked: new RedisRevocationList(down, { timeoutMs: 300 }).forApiJwt() }),
    );
    const introspection = appWith(introspecting(down, 'test:cluster:down:', 300));
    const before = introspections;
    for (const [app, token] of [
      [revocation, apiJwt('alice', now, randomUUID())],
      [introspection, `opaque-${randomUUID()}`],
    ] as const) {
      const res = await request(app).get('/r').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('dependency_unavailable');
      expect(res.headers['retry-after']).toBeDefined();
    }
    expect(introspections).toBe(before); // the cache is read first: no call when it cannot answer
  } finally {
    down.disconnect();
  }
});
