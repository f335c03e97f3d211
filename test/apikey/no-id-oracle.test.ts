/**
 * API keys carry a public id: a caller who knows an id must learn nothing from trying secrets under it.
 * Unknown id, known id with a wrong secret, and known id under another prefix give one answer.
 */
import express from 'express';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { authenticate, ApiKeyManager, MemoryApiKeyStore, apiKeyScheme, parseApiKey } from '../../src/index.js';
import { interleavedMedianRatio } from '../helpers/timing.js';

const PEPPER = randomBytes(32);

async function setup() {
  const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER });
  const { key } = await manager.issue({ owner: 'o', scopes: ['reports:read'] });
  const p = parseApiKey(key)!;
  const otherSecret = randomBytes(32).toString('base64url');
  return {
    manager,
    key,
    unknownId: `${p.prefix}_${'0'.repeat(16)}.${p.secret}`,
    wrongSecret: `${p.prefix}_${p.id}.${otherSecret}`,
    wrongPrefix: `zz_${p.id}.${p.secret}`,
  };
}

describe('API keys: no id oracle', () => {
  it('unknown id, known id with a wrong secret and known id under another prefix give the same status, body and challenge', async () => {
    const { manager, key, unknownId, wrongSecret, wrongPrefix } = await setup();
    const app = express();
    app.get('/who', authenticate([apiKeyScheme({ manager })]), (req, res) => {
      res.json(req.principal);
    });
    expect((await request(app).get('/who').set('X-API-Key', key)).status).toBe(200);
    const answers = [];
    for (const presented of [unknownId, wrongSecret, wrongPrefix]) {
      const res = await request(app).get('/who').set('X-API-Key', presented);
      answers.push({ status: res.status, body: res.body as unknown, challenge: res.headers['www-authenticate'] });
    }
    expect(answers[0]).toMatchObject({ status: 401, body: { code: 'token_invalid', reason: 'invalid' } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('the manager throws the same error for both (reason and detail)', async () => {
    const { manager, unknownId, wrongSecret } = await setup();
    type Refusal = { reason: string; detail: string; status: number };
    const a = (await manager.verify(unknownId).then(
      () => undefined,
      (e: unknown) => e,
    )) as Refusal;
    const b = (await manager.verify(wrongSecret).then(
      () => undefined,
      (e: unknown) => e,
    )) as Refusal;
    expect(a.reason).toBe('invalid');
    expect([a.status, a.reason, a.detail]).toEqual([b.status, b.reason, b.detail]);
  });

  it('both paths cost about the same (interleaved medians within a factor of 2)', async () => {
    const { manager, unknownId, wrongSecret } = await setup();
    const ratio = await interleavedMedianRatio(
      () => manager.verify(unknownId),
      () => manager.verify(wrongSecret),
      400,
    );
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
