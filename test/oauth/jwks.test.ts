import express from 'express';
import request from 'supertest';
import { generateKeyPairSync } from 'node:crypto';
import { buildJwks, publishJwks } from '../../src/middleware/jwks.js';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');

describe('buildJwks', () => {
  it('publishes RSA, EC P-256 and Ed25519 with kid, use and alg, and never private members', () => {
    const { keys } = buildJwks([rsa.privateKey, ec.privateKey.export({ format: 'pem', type: 'pkcs8' }), ed.publicKey]);
    expect(keys.map((k) => [k.kty, k.alg, k.use])).toEqual([
      ['RSA', 'RS256', 'sig'],
      ['EC', 'ES256', 'sig'],
      ['OKP', 'EdDSA', 'sig'],
    ]);
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(Object.keys(keys[1]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(keys[2]).toMatchObject({ crv: 'Ed25519' });
    expect(Object.keys(keys[2]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    expect(keys[0]?.kid).toBe(jwkThumbprint(rsa.publicKey));
    expect(JSON.stringify(keys)).not.toMatch(/"(d|p|q|dp|dq|qi)"/);
  });
  it('honours a given kid and alg, and refuses an alg that does not fit the key', () => {
    const { keys } = buildJwks([{ key: rsa.publicKey, kid: 'rsa-2026', alg: 'RS512' }]);
    expect(keys[0]).toMatchObject({ kid: 'rsa-2026', alg: 'RS512' });
    expect(() => buildJwks([{ key: ec.publicKey, alg: 'RS256' }])).toThrow(/RS256/);
  });
  it('refuses weak RSA keys', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => buildJwks([weak.publicKey])).toThrow(/2048/);
  });
});

describe('publishJwks middleware', () => {
  const app = express();
  app.use(publishJwks({ keys: [ec.publicKey, { key: rsa.publicKey, kid: 'next' }], cacheSeconds: 600 }));
  app.use(publishJwks({ keys: [ed.publicKey], path: '/keys' }));
  app.get('/other', (_q, r) => {
    r.send('other');
  });

  it('serves the set with cache headers and an ETag', async () => {
    const res = await request(app).get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=600');
    expect(res.headers['etag']).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.body.keys.map((k: { kid: string }) => k.kid)).toEqual([jwkThumbprint(ec.publicKey), 'next']);
  });

  it('answers 304 for a matching If-None-Match and 200 for another', async () => {
    const first = await request(app).get('/.well-known/jwks.json');
    const etag = first.headers['etag'] as string;
    const again = await request(app).get('/.well-known/jwks.json').set('If-None-Match', `"x", W/${etag}`);
    expect(again.status).toBe(304);
    expect(again.text ?? '').toBe('');
    expect((await request(app).get('/.well-known/jwks.json').set('If-None-Match', '"other"')).status).toBe(200);
  });

  it('HEAD has headers and no body; other paths and methods fall through', async () => {
    const head = await request(app).head('/.well-known/jwks.json');
    expect(head.status).toBe(200);
    expect(head.headers['etag']).toBeTruthy();
    expect((await request(app).get('/other')).text).toBe('other');
    expect((await request(app).post('/.well-known/jwks.json')).status).toBe(404);
  });

  it('serves a configurable path with the default max-age', async () => {
    const res = await request(app).get('/keys?x=1');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
  });
});
