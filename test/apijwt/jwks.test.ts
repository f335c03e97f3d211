/**
 * APIJwt trusting the auth service's JWKS URL: keys selected by `kid`, rotation picked up by one
 * re-fetch, cached keys kept while the endpoint is down, and an unknown key then answered with 503.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { apiJwtScheme, authenticate, buildJwks, jwkThumbprint } from '../../src/index.js';
import { signCompact } from '../../src/jwt/compact.js';
import { pyJsonDumps } from '../../src/jwt/pyjson.js';

const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;

function token(key: KeyObject, kid: string, sub: string): string {
  return signCompact(
    'RS256',
    key,
    JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }),
    pyJsonDumps({ iss: 'auth_user', sub, exp: NOW + 600, scopes: 'user:all' }),
  );
}

describe('APIJwt with a JWKS URL', () => {
  const first = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const second = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let published: KeyObject[] = [first.publicKey];
  let fetches = 0;
  let up = true;
  let server: Server;
  let app: express.Express;

  beforeAll(async () => {
    server = createServer((req, res) => {
      fetches++;
      if (!up) {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(buildJwks(published)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    app = express();
    app.get('/', authenticate([apiJwtScheme({ jwksUri: url, jwks: { cooldownMs: 0 }, clock })]), (req, res) => {
      res.json({ sub: req.principal?.subject });
    });
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('verifies a token whose kid is in the set, fetching it once', async () => {
    const res = await request(app)
      .get('/')
      .set('Authorization', `Bearer ${token(first.privateKey, jwkThumbprint(first.publicKey), 'alice')}`);
    expect(res.status).toBe(200);
    expect(res.body.sub).toBe('alice');
    expect(fetches).toBe(1);
  });

  it('picks up a rotated key with one re-fetch', async () => {
    published = [first.publicKey, second.publicKey];
    const res = await request(app)
      .get('/')
      .set('Authorization', `Bearer ${token(second.privateKey, jwkThumbprint(second.publicKey), 'bob')}`);
    expect(res.status).toBe(200);
    expect(fetches).toBe(2);
  });

  it('rejects a key that is not published (401) and a kid signed by another key', async () => {
    const unknown = await request(app)
      .get('/')
      .set('Authorization', `Bearer ${token(stranger.privateKey, jwkThumbprint(stranger.publicKey), 'eve')}`);
    expect(unknown.status).toBe(401);
    const forged = await request(app)
      .get('/')
      .set('Authorization', `Bearer ${token(stranger.privateKey, jwkThumbprint(first.publicKey), 'eve')}`);
    expect(forged.status).toBe(401);
  });

  it('keeps verifying with cached keys while the endpoint is down; an unknown kid gets 503', async () => {
    up = false;
    // A token never seen before (not in the verified-token cache), signed by a cached key.
    const before = fetches;
    const cached = await request(app)
      .get('/')
      .set('Authorization', `Bearer ${token(first.privateKey, jwkThumbprint(first.publicKey), 'carol')}`);
    expect(cached.status).toBe(200);
    expect(cached.body.sub).toBe('carol');
    expect(fetches).toBe(before);
    const unknown = await request(app)
      .get('/')
      .set('Authorization', `Bearer ${token(stranger.privateKey, 'never-published', 'eve')}`);
    expect(unknown.status).toBe(503);
    expect(unknown.headers['retry-after']).toBeDefined();
    expect(unknown.body.code).toBe('dependency_unavailable');
    up = true;
  });
});
