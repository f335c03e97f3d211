/** The whole path over HTTP: real @aws-sdk/client-kms → local KMS; single flight; 503 on outage. */
import express from 'express';
import request from 'supertest';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  KMSClient,
  ListAliasesCommand,
} from '@aws-sdk/client-kms';
import { authenticate, kmsauthScheme, KmsTokenGenerator, KmsTokenValidator } from '../../src/index.js';
import { createKmsClient, startLocalKms, type LocalKms } from '../../src/kms.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' };

describe('local KMS with the real SDK', () => {
  let kms: LocalKms;
  let sdk: KMSClient;
  let keyArn: string;
  let userKeyArn: string;
  beforeAll(async () => {
    kms = await startLocalKms();
    sdk = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials });
    keyArn = (await sdk.send(new CreateKeyCommand({ Description: 'svc' }))).KeyMetadata!.Arn!;
    await sdk.send(new CreateAliasCommand({ AliasName: 'alias/svc', TargetKeyId: keyArn }));
    userKeyArn = (await sdk.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await sdk.send(new CreateAliasCommand({ AliasName: 'alias/users', TargetKeyId: userKeyArn.split('/')[1]! }));
  });
  afterAll(async () => {
    sdk.destroy();
    await kms.close();
  });

  it('listens on 127.0.0.1 and implements the six operations with real error names', async () => {
    expect(kms.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const aliases = (await sdk.send(new ListAliasesCommand({}))).Aliases!;
    expect(aliases.map((a) => a.AliasName)).toEqual(['alias/svc', 'alias/users']);
    expect(aliases[0]!.AliasArn).toBe(`arn:aws:kms:us-east-1:${kms.account}:alias/svc`);
    for (const ref of ['alias/svc', `arn:aws:kms:us-east-1:${kms.account}:alias/svc`, keyArn, keyArn.split('/')[1]!]) {
      expect((await sdk.send(new DescribeKeyCommand({ KeyId: ref }))).KeyMetadata!.Arn).toBe(keyArn);
    }
    await expect(sdk.send(new DescribeKeyCommand({ KeyId: 'alias/missing' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(sdk.send(new CreateAliasCommand({ AliasName: 'alias/svc', TargetKeyId: keyArn }))).rejects.toMatchObject({
      name: 'AlreadyExistsException',
    });
    const ctx = { from: 'a', to: 'tob' };
    const enc = await sdk.send(new EncryptCommand({ KeyId: 'alias/svc', Plaintext: Buffer.from('hello'), EncryptionContext: ctx }));
    const dec = await sdk.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, EncryptionContext: ctx }));
    expect(dec.KeyId).toBe(keyArn);
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('hello');
    // Canonical AAD: moto's concatenation would make these two contexts equal; ours does not.
    await expect(
      sdk.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, EncryptionContext: { from: 'ato', to: 'b' } })),
    ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    await expect(sdk.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, EncryptionContext: {} }))).rejects.toMatchObject({
      name: 'InvalidCiphertextException',
    });
    await expect(
      sdk.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, EncryptionContext: ctx, KeyId: 'alias/users' })),
    ).rejects.toMatchObject({ name: 'IncorrectKeyException' });
  });

  describe('strategy over HTTP', () => {
    function setup(timeoutMs = 1500) {
      const client = createKmsClient({ endpoint: kms.url, credentials, region: 'us-east-1', timeoutMs });
      const validator = new KmsTokenValidator({
        authKey: ['alias/svc'],
        userAuthKey: ['alias/users'],
        toAuthContext: 'api',
        kms: client,
        scopedAuthKeys: {},
      });
      const app = express();
      app.get('/who', authenticate([kmsauthScheme({ validator, userTypes: ['service', 'user'] })]), (req, res) => {
        res.json(req.principal);
      });
      const gen = (from: string, userType = 'service', key = 'alias/svc', to = 'api') =>
        new KmsTokenGenerator({ authKey: key, authContext: { from, to, user_type: userType }, kms: client });
      return { client, app, gen };
    }

    it('accepts SDK-generated service and user tokens; rejects wrong context, wrong key, services-only', async () => {
      const { client, app, gen } = setup();
      try {
        const svc = await request(app)
          .get('/who')
          .set(await gen('billing').getHeaders());
        expect(svc.status).toBe(200);
        expect(svc.body).toMatchObject({
          subject: 'billing',
          kind: 'service',
          scheme: 'kmsauth',
          details: { keyAlias: 'alias/svc', keyArn, version: 2, target: 'api' },
        });
        const user = await request(app)
          .get('/who')
          .set('Authorization', await gen('rlane', 'user', 'alias/users').getBasicAuthorization());
        expect(user.status).toBe(200);
        expect(user.body).toMatchObject({ subject: 'rlane', kind: 'user', details: { keyAlias: 'alias/users' } });
        const wrongTo = await request(app)
          .get('/who')
          .set(await gen('billing', 'service', 'alias/svc', 'other').getHeaders());
        expect([wrongTo.status, wrongTo.body.reason, wrongTo.body.detail]).toEqual([
          401,
          'decrypt',
          'Authentication error. General error.',
        ]);
        const wrongKey = await request(app)
          .get('/who')
          .set(await gen('billing', 'service', 'alias/users').getHeaders());
        expect([wrongKey.status, wrongKey.body.reason, wrongKey.body.detail]).toEqual([
          401,
          'wrong_key',
          'Authentication error (wrong KMS key).',
        ]);
        expect(wrongKey.headers['www-authenticate']).toMatch(/^Basic /);
        const none = await request(app).get('/who').set('X-Auth-From', 'billing');
        expect(none.status).toBe(401);
        expect(none.body.code).toBe('credentials_missing');
        const badName = await request(app).get('/who').set({ 'X-Auth-From': 'x/service/a', 'X-Auth-Token': 'abcd' });
        expect([badName.status, badName.body.reason]).toEqual([400, 'username_format']);
      } finally {
        client.destroy();
      }
      const servicesOnly = express();
      const client2 = createKmsClient({ endpoint: kms.url, credentials });
      const validator = new KmsTokenValidator({ authKey: 'alias/svc', userAuthKey: 'alias/users', toAuthContext: 'api', kms: client2 });
      servicesOnly.get('/who', authenticate([kmsauthScheme({ validator })]), (_q, r) => {
        r.send('ok');
      });
      const before = kms.calls.Decrypt;
      const userGen = new KmsTokenGenerator({
        authKey: 'alias/users',
        authContext: { from: 'rlane', to: 'api', user_type: 'user' },
        kms: client2,
      });
      const res = await request(servicesOnly)
        .get('/who')
        .set(await userGen.getHeaders());
      expect([res.status, res.body.reason]).toEqual([401, 'user_type_not_allowed']);
      expect(kms.calls.Decrypt).toBe(before); // refused before any KMS call
      client2.destroy();
    });

    it('single flight: N concurrent requests with one new token make exactly one Decrypt at the KMS', async () => {
      const { client, app, gen } = setup();
      const server = app.listen(0, '127.0.0.1');
      try {
        await new Promise((r) => server.once('listening', r));
        const headers = await gen('fanout').getHeaders();
        const before = kms.calls.Decrypt;
        kms.delayMs = 100; // keep the first Decrypt in flight while the others arrive
        const responses = await Promise.all(Array.from({ length: 12 }, () => request(server).get('/who').set(headers)));
        kms.delayMs = 0;
        expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
        expect(kms.calls.Decrypt - before).toBe(1);
        // And later requests hit the cache.
        expect((await request(server).get('/who').set(headers)).status).toBe(200);
        expect(kms.calls.Decrypt - before).toBe(1);
      } finally {
        kms.delayMs = 0;
        client.destroy();
        await new Promise((r) => server.close(r));
      }
    });

    it('a slow KMS gives 503 with Retry-After within the configured timeout, and is not cached', async () => {
      const { client, app, gen } = setup(300);
      try {
        const headers = await gen('slow').getHeaders();
        kms.delayMs = 3000;
        const started = Date.now();
        const res = await request(app).get('/who').set(headers);
        expect(Date.now() - started).toBeLessThan(2000);
        expect([res.status, res.body.code, res.body.reason]).toEqual([503, 'dependency_unavailable', 'kms_unavailable']);
        expect(res.headers['retry-after']).toBeDefined();
        kms.delayMs = 0;
        expect((await request(app).get('/who').set(headers)).status).toBe(200);
      } finally {
        kms.delayMs = 0;
        client.destroy();
      }
    });
  });
});

it('a stopped KMS gives 503 within the timeout (generator: KmsauthConnectionError)', async () => {
  const kms = await startLocalKms();
  const client = createKmsClient({ endpoint: kms.url, credentials, timeoutMs: 800 });
  try {
    const key = (await client.sdk.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const gen = new KmsTokenGenerator({ authKey: key, authContext: { from: 'svc', to: 'api', user_type: 'service' }, kms: client });
    const headers = await gen.getHeaders();
    const validator = new KmsTokenValidator({ authKey: [key], userAuthKey: null, toAuthContext: 'api', kms: client });
    const app = express();
    app.get('/who', authenticate([kmsauthScheme({ validator })]), (_q, r) => {
      r.send('ok');
    });
    await kms.close();
    const started = Date.now();
    const res = await request(app).get('/who').set(headers);
    expect(Date.now() - started).toBeLessThan(2000);
    expect([res.status, res.body.code]).toEqual([503, 'dependency_unavailable']);
    const other = new KmsTokenGenerator({ authKey: key, authContext: { from: 'svc2', to: 'api', user_type: 'service' }, kms: client });
    await expect(other.getToken()).rejects.toMatchObject({ name: 'KmsauthConnectionError' });
  } finally {
    client.destroy();
    await kms.close().catch(() => undefined);
  }
});
