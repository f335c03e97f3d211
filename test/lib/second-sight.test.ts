/**
 * Cache admission: a verified token is cached from its second verification on, so one-off tokens
 * never fill the cache and reused ones stop costing a signature check from the third use.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { ApiJwtIssuer, apiJwtScheme, authenticate } from '../../src/index.js';
import { SecondSight } from '../../src/lib/second-sight.js';

const ISSUER = 'https://auth.example';

function setup(cache?: false) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issuer = new ApiJwtIssuer({ privateKey, keyNames: { user: ISSUER }, lifetimeSeconds: 600 });
  let lookups = 0;
  const keySource = {
    async getKey(): Promise<KeyObject> {
      lookups++; // one lookup per signature check that reaches the key source
      return publicKey;
    },
  };
  const app = express();
  app.get(
    '/r',
    authenticate([
      apiJwtScheme({ keySource, keyNames: { user: ISSUER }, audience: { audience: 'api' }, ...(cache === false ? { cache } : {}) }),
    ]),
    (_req, res) => {
      res.end('ok');
    },
  );
  const mint = (subject: string) => issuer.issue({ subject, audience: 'api' }).token;
  return { app, mint, lookups: () => lookups };
}

describe('verified-token cache admission (second sight)', () => {
  it('a reused token is verified twice, then answered from the cache', async () => {
    const { app, mint, lookups } = setup();
    const token = mint('alice');
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect((await request(app).get('/r').set('Authorization', `Bearer ${token}`)).status).toBe(200);
      counts.push(lookups());
    }
    expect(counts).toEqual([1, 2, 2, 2, 2]);
  });

  it('with cache: false every use is verified', async () => {
    const { app, mint, lookups } = setup(false);
    const token = mint('bob');
    for (let i = 0; i < 4; i++) expect((await request(app).get('/r').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(lookups()).toBe(4);
  });

  it('one-off tokens are each verified once and leave later tokens unaffected', async () => {
    const { app, mint, lookups } = setup();
    for (let i = 0; i < 20; i++)
      expect(
        (
          await request(app)
            .get('/r')
            .set('Authorization', `Bearer ${mint(`once-${i}`)}`)
        ).status,
      ).toBe(200);
    expect(lookups()).toBe(20);
    const token = mint('carol');
    for (let i = 0; i < 3; i++) await request(app).get('/r').set('Authorization', `Bearer ${token}`);
    expect(lookups()).toBe(22);
  });

  it('SecondSight admits a token on its second sight and keeps only a 12-character tail', () => {
    const sight = new SecondSight();
    const a = `header.payload.${'A'.repeat(30)}abcdefghijkl`;
    const b = `header.payload.${'A'.repeat(30)}abcdefghijkm`;
    expect(sight.admit(a)).toBe(false);
    expect(sight.admit(b)).toBe(false);
    expect(sight.admit(a)).toBe(true);
    expect(sight.admit(b)).toBe(true);
  });
});

describe('SecondSight with many reused tokens', () => {
  // Tokens that differ in their signature's tail, as honest tokens do (72 random bits in 12 characters).
  const tokens = (n: number): string[] => Array.from({ length: n }, () => `header.payload.${randomBytes(24).toString('base64url')}`);
  const notAdmitted = (sight: SecondSight, pool: readonly string[]): number => pool.filter((t) => !sight.admit(t)).length;

  it('admits every one of 1,000 tokens used in rotation from their second round (no two evict each other for ever)', () => {
    const sight = new SecondSight();
    const pool = tokens(1000);
    expect(notAdmitted(sight, pool)).toBe(1000);
    expect(notAdmitted(sight, pool)).toBe(0);
    expect(notAdmitted(sight, pool)).toBe(0);
  });

  it('after a stream of one-off tokens has filled the table, reused tokens are admitted within a few rounds', () => {
    const sight = new SecondSight();
    expect(notAdmitted(sight, tokens(10_000))).toBe(10_000);
    const pool = tokens(1000);
    const left: number[] = [];
    for (let round = 0; round < 9; round++) left.push(notAdmitted(sight, pool));
    // With one slot per tail about 200 of the 1,000 were never admitted, round after round.
    expect(left[0]).toBe(1000);
    expect(left[8]).toBeLessThanOrEqual(30);
  });
});

describe('verified-token cache and key removal: tokens without kid', () => {
  it('a cached token that named no kid is dropped when the key source reports that a key left (the empty kid)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const issuer = new ApiJwtIssuer({ privateKey, keyNames: { user: ISSUER }, lifetimeSeconds: 600 });
    let current: KeyObject | undefined = publicKey;
    const listeners: Array<(kids: readonly string[]) => void> = [];
    const keySource = {
      async getKey(): Promise<KeyObject | undefined> {
        return current;
      },
      onKeysRemoved(listener: (kids: readonly string[]) => void): void {
        listeners.push(listener);
      },
    };
    const app = express();
    app.get('/r', authenticate([apiJwtScheme({ keySource, keyNames: { user: ISSUER }, audience: { audience: 'api' } })]), (_req, res) => {
      res.end('ok');
    });
    const token = issuer.issue({ subject: 'alice', audience: 'api' }).token;
    expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString())).not.toHaveProperty('kid');
    // Three uses: verified twice, then answered from the cache.
    for (let i = 0; i < 3; i++) expect((await request(app).get('/r').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    current = undefined;
    // RemoteJwks lists the empty kid, standing for tokens that named none, whenever any key left.
    for (const listener of listeners) listener(['']);
    expect((await request(app).get('/r').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });
});
