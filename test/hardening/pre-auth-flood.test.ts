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
import { startProvider, SECRETS, type TestProvider } from '../helpers/oauth-provider.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' };
const randomToken = (): string => randomBytes(180).toString('base64');
const FLOOD = 200;
const BUDGET = 10;

/** A local KMS with the key `alias/svc` for the tests of the calling describe block. */
function withLocalKms(): { kms: LocalKms; client: ReturnType<typeof createKmsClient> } {
  const env = {} as { kms: LocalKms; client: ReturnType<typeof createKmsClient> };
  beforeAll(async () => {
    env.kms = await startLocalKms();
    env.client = createKmsClient({ endpoint: env.kms.url, credentials, region: 'us-east-1', timeoutMs: 5000 });
    const key = await env.client.sdk.send(new CreateKeyCommand({}));
    await env.client.sdk.send(new CreateAliasCommand({ AliasName: 'alias/svc', TargetKeyId: key.KeyMetadata?.KeyId }));
  });
  afterAll(async () => {
    env.client.destroy();
    await env.kms.close();
  });
  return env;
}

describe('kmsauth: bounded KMS Decrypt calls', () => {
  const env = withLocalKms();

  function app(options: { budget?: number } = {}) {
    const validator = new KmsTokenValidator({ authKey: 'alias/svc', userAuthKey: null, toAuthContext: 'api', kms: env.client });
    const limiter = options.budget === undefined ? undefined : preAuthLimit({ limit: options.budget, windowSeconds: 60 });
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
    const before = env.kms.calls.Decrypt;
    const reasons = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await request(a).get('/who').set(headers);
      expect(res.status).toBe(401);
      reasons.add(String(res.body.reason));
    }
    expect([...reasons]).toEqual(['decrypt']);
    expect(env.kms.calls.Decrypt - before).toBe(1);
  });

  it(`a flood of ${FLOOD} random well-formed tokens from one client makes at most ${BUDGET} Decrypt calls; the rest get 429, another client still authenticates`, async () => {
    const a = app({ budget: BUDGET });
    const before = env.kms.calls.Decrypt;
    const statuses = new Map<number, number>();
    for (let i = 0; i < FLOOD; i++) {
      const res = await request(a)
        .get('/who')
        .set({ 'X-Forwarded-For': '198.51.100.66', 'X-Auth-From': '2/service/billing', 'X-Auth-Token': randomToken() });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 429) {
        expect(res.body).toMatchObject({ code: 'rate_limited', reason: 'pre_auth_limit' });
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(env.kms.calls.Decrypt - before).toBe(BUDGET);
    expect(Object.fromEntries(statuses)).toEqual({ 401: BUDGET, 429: FLOOD - BUDGET });
    const good = await new KmsTokenGenerator({
      authKey: 'alias/svc',
      authContext: { from: 'billing', to: 'api', user_type: 'service' },
      kms: env.client,
    }).getHeaders();
    const other = await request(a)
      .get('/who')
      .set({ ...good, 'X-Forwarded-For': '198.51.100.7' });
    expect([other.status, other.body.subject]).toEqual([200, 'billing']);
    // A token already validated costs nothing, so the flooding client keeps it working.
    expect(
      (
        await request(a)
          .get('/who')
          .set({ ...good, 'X-Forwarded-For': '198.51.100.66' })
      ).status,
    ).toBe(200);
  });
});

describe('preAuthLimit: an IPv6 client is budgeted by its /64', () => {
  const env = withLocalKms();

  function app(limiter: ReturnType<typeof preAuthLimit>) {
    const validator = new KmsTokenValidator({ authKey: 'alias/svc', userAuthKey: null, toAuthContext: 'api', kms: env.client });
    const a = express();
    a.set('trust proxy', true);
    a.get('/who', authenticate([kmsauthScheme({ validator, preAuthLimit: limiter })]), (req, res) => {
      res.json(req.principal);
    });
    return a;
  }
  /** Sends `n` random tokens, each from a new address inside 2001:db8:77:1::/64; answers the Decrypt calls made. */
  async function rotate(a: express.Express, n: number): Promise<{ calls: number; statuses: Record<number, number> }> {
    const before = env.kms.calls.Decrypt;
    const statuses: Record<number, number> = {};
    for (let i = 0; i < n; i++) {
      const res = await request(a)
        .get('/who')
        .set({
          'X-Forwarded-For': `2001:db8:77:1:${(i + 1).toString(16)}::${(i * 7 + 3).toString(16)}`,
          'X-Auth-From': '2/service/billing',
          'X-Auth-Token': randomToken(),
        });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
    return { calls: env.kms.calls.Decrypt - before, statuses };
  }

  it(`${FLOOD / 4} random tokens from ${FLOOD / 4} addresses of one /64 make at most ${BUDGET} Decrypt calls; another /64 keeps its own budget`, async () => {
    const a = app(preAuthLimit({ limit: BUDGET, windowSeconds: 60 }));
    const flood = await rotate(a, FLOOD / 4);
    expect(flood).toEqual({ calls: BUDGET, statuses: { 401: BUDGET, 429: FLOOD / 4 - BUDGET } });
    const other = await request(a)
      .get('/who')
      .set({ 'X-Forwarded-For': '2001:db8:77:2::1', 'X-Auth-From': '2/service/billing', 'X-Auth-Token': randomToken() });
    expect(other.status).toBe(401);
  });

  it('ipv6Subnet: 128 budgets each IPv6 address on its own', async () => {
    const a = app(preAuthLimit({ limit: 1, windowSeconds: 60, ipv6Subnet: 128 }));
    expect(await rotate(a, 5)).toEqual({ calls: 5, statuses: { 401: 5 } });
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
    const scheme = introspectionScheme({
      issuer: as.issuer,
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecret: SECRETS.rs },
      preAuthLimit: preAuthLimit({ limit: BUDGET, windowSeconds: 60 }),
    });
    a.get('/who', authenticate([scheme]), (req, res) => {
      res.json(req.principal);
    });
    const bad = randomBytes(24).toString('base64url');
    const before = hits();
    for (let i = 0; i < 20; i++) {
      const res = await request(a)
        .get('/who')
        .set({ Authorization: `Bearer ${bad}`, 'X-Forwarded-For': '203.0.113.9' });
      expect([res.status, res.body.reason]).toEqual([401, 'inactive']);
    }
    expect(hits() - before).toBe(1);
    const statuses = new Map<number, number>();
    for (let i = 0; i < FLOOD; i++) {
      const res = await request(a)
        .get('/who')
        .set({ Authorization: `Bearer ${randomBytes(24).toString('base64url')}`, 'X-Forwarded-For': '203.0.113.9' });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect(hits() - before).toBe(BUDGET);
    expect(Object.fromEntries(statuses)).toEqual({ 401: BUDGET - 1, 429: FLOOD - BUDGET + 1 });
  });
});
