/**
 * Pre-authentication cost: a flood of credentials that cost an upstream call each must make a bounded
 * number of calls. Counted where they land: Decrypt calls at the local KMS (real AWS SDK over HTTP),
 * requests at oidc-provider's introspection endpoint.
 */
import express from 'express';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { authenticate, introspectionScheme, kmsauthScheme, KmsTokenGenerator, KmsTokenValidator, preAuthLimit } from '../../src/index.js';
import { createKmsClient, startLocalKms, type LocalKms } from '../../src/kms.js';
import { startProvider, SECRETS, type TestProvider } from '../oauth/provider.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' };
const randomToken = (): string => randomBytes(180).toString('base64');
const FLOOD = 200;
const BUDGET = 10;

describe('kmsauth: bounded KMS Decrypt calls', () => {
  let kms: LocalKms;
  let client: ReturnType<typeof createKmsClient>;
  beforeAll(async () => {
    kms = await startLocalKms();
    client = createKmsClient({ endpoint: kms.url, credentials, region: 'us-east-1', timeoutMs: 5000 });
    const key = await client.sdk.send(new CreateKeyCommand({}));
    await client.sdk.send(new CreateAliasCommand({ AliasName: 'alias/svc', TargetKeyId: key.KeyMetadata?.KeyId }));
  });
  afterAll(async () => {
    client.destroy();
    await kms.close();
  });

  function app(options: { budget?: number } = {}) {
    const validator = new KmsTokenValidator({ authKey: 'alias/svc', userAuthKey: null, toAuthContext: 'api', kms: client });
    const limiter = options.budget === undefined ? undefined : preAuthLimit({ max: options.budget, windowSeconds: 60 });
    const a = express();
    a.set('trust proxy', true);
    a.get('/who', authenticate([kmsauthScheme({ validator, ...(limiter ? { preAuthLimit: limiter } : {}) })]), (req, res) => {
      res.json(req.principal);
    });
    return a;
  }

  it('the same bad token sent 20 times costs one Decrypt (refusals are cached), and each answer is the same 401', async () => {
    const a = app();
    const headers = { 'X-Auth-From': '2/service/billing', 'X-Auth-Token': randomToken() };
    const before = kms.calls.Decrypt;
    const reasons = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await request(a).get('/who').set(headers);
      expect(res.status).toBe(401);
      reasons.add(String(res.body.reason));
    }
    expect([...reasons]).toEqual(['decrypt']);
    expect(kms.calls.Decrypt - before).toBe(1);
  });

  it(`a flood of ${FLOOD} random well-formed tokens from one client makes at most ${BUDGET} Decrypt calls; the rest get 429, another client still authenticates`, async () => {
    const a = app({ budget: BUDGET });
    const before = kms.calls.Decrypt;
    const statuses = new Map<number, number>();
    for (let i = 0; i < FLOOD; i++) {
      const res = await request(a).get('/who').set({ 'X-Forwarded-For': '198.51.100.66', 'X-Auth-From': '2/service/billing', 'X-Auth-Token': randomToken() });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 429) {
        expect(res.body).toMatchObject({ code: 'rate_limited', reason: 'pre_auth_limit' });
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(kms.calls.Decrypt - before).toBe(BUDGET);
    expect(Object.fromEntries(statuses)).toEqual({ 401: BUDGET, 429: FLOOD - BUDGET });
    const good = await new KmsTokenGenerator({ authKey: 'alias/svc', authContext: { from: 'billing', to: 'api', user_type: 'service' }, kms: client }).getHeaders();
    const other = await request(a).get('/who').set({ ...good, 'X-Forwarded-For': '198.51.100.7' });
    expect([other.status, other.body.subject]).toEqual([200, 'billing']);
    // A token already validated costs nothing, so the flooding client keeps it working.
    expect((await request(a).get('/who').set({ ...good, 'X-Forwarded-For': '198.51.100.66' })).status).toBe(200);
  });
});

describe('introspection: bounded calls to the authorization server', () => {
  let as: TestProvider;
  beforeAll(async () => {
    as = await startProvider();
  });
  afterAll(async () => {
    await as.close();
  });
  const hits = (): number => as.hits.get('/token/introspection') ?? 0;

  it(`a flood of ${FLOOD} random bearer tokens from one client makes at most ${BUDGET} introspection calls; the same bad token repeated makes one`, async () => {
    const a = express();
    a.set('trust proxy', true);
    const scheme = introspectionScheme({ issuer: as.issuer, clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: SECRETS.rs }, preAuthLimit: preAuthLimit({ max: BUDGET, windowSeconds: 60 }) });
    a.get('/who', authenticate([scheme]), (req, res) => {
      res.json(req.principal);
    });
    const bad = randomBytes(24).toString('base64url');
    const before = hits();
    for (let i = 0; i < 20; i++) {
      const res = await request(a).get('/who').set({ Authorization: `Bearer ${bad}`, 'X-Forwarded-For': '203.0.113.9' });
      expect([res.status, res.body.reason]).toEqual([401, 'inactive']);
    }
    expect(hits() - before).toBe(1);
    const statuses = new Map<number, number>();
    for (let i = 0; i < FLOOD; i++) {
      const res = await request(a).get('/who').set({ Authorization: `Bearer ${randomBytes(24).toString('base64url')}`, 'X-Forwarded-For': '203.0.113.9' });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect(hits() - before).toBe(BUDGET);
    expect(Object.fromEntries(statuses)).toEqual({ 401: BUDGET - 1, 429: FLOOD - BUDGET + 1 });
  });
});
