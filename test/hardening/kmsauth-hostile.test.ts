/**
 * kmsauth refusals through real HTTP, against the local KMS and the real AWS SDK: context confusion,
 * wrong service, user-as-service, over-long lifetimes, keys outside the list, one token under two
 * usernames (the token cache must not carry one principal over to another), and Basic/X-Auth-From
 * header tricks sent as raw bytes. Every case is a 400/401/403 problem+json with a Basic challenge.
 */
import express from 'express';
import request from 'supertest';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { authenticate, kmsauthScheme, KmsTokenGenerator, KmsTokenValidator } from '../../src/index.js';
import { createKmsClient, startLocalKms, type LocalKms } from '../../src/kms.js';
import { expectRefusal, headerLine, listen, rawGet, type Listening } from '../helpers/http.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' };

let kms: LocalKms;
let client: ReturnType<typeof createKmsClient>;
let app: express.Express;
let http: Listening;

beforeAll(async () => {
  kms = await startLocalKms();
  client = createKmsClient({ endpoint: kms.url, credentials, region: 'us-east-1', timeoutMs: 2000 });
  for (const alias of ['alias/svc', 'alias/users', 'alias/other']) {
    const arn = (await client.sdk.send(new CreateKeyCommand({ Description: alias }))).KeyMetadata!.Arn!;
    await client.sdk.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: arn }));
  }
  const validator = new KmsTokenValidator({
    authKey: ['alias/svc'],
    userAuthKey: ['alias/users'],
    toAuthContext: 'api',
    kms: client,
    maxTokenLifetimeSeconds: 3600,
  });
  app = express();
  // Services only on /svc (Confidant's default); both kinds on /any.
  app.get('/svc', authenticate([kmsauthScheme({ validator })]), (req, res) => {
    res.json(req.principal);
  });
  app.get('/any', authenticate([kmsauthScheme({ validator, userTypes: ['service', 'user'], name: 'kmsauth-any' })]), (req, res) => {
    res.json(req.principal);
  });
  http = await listen(app);
});

afterAll(async () => {
  await http.close();
  client.destroy();
  await kms.close();
});

interface TokenSpec {
  from: string;
  to?: string;
  userType?: 'service' | 'user';
  key?: string;
  lifetime?: number;
}
async function token(spec: TokenSpec): Promise<string> {
  const gen = new KmsTokenGenerator({
    authKey: spec.key ?? 'alias/svc',
    authContext: { from: spec.from, to: spec.to ?? 'api', user_type: spec.userType ?? 'service' },
    kms: client,
    ...(spec.lifetime === undefined ? {} : { tokenLifetimeSeconds: spec.lifetime * 60 }),
  });
  return gen.getToken();
}
const basic = (text: string | Buffer): string => `Basic ${Buffer.from(text).toString('base64')}`;

describe('kmsauth context confusion (local KMS, real SDK)', () => {
  it('control: a correct service token is accepted under its own name', async () => {
    const t = await token({ from: 'billing' });
    const res = await request(app).get('/svc').set({ 'X-Auth-From': '2/service/billing', 'X-Auth-Token': t });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ subject: 'billing', kind: 'service', scheme: 'kmsauth' });
  });

  type Case = [name: string, make: () => Promise<{ username: string; token: string; path?: string }>, reason: string];
  const cases: Case[] = [
    [
      'to and from swapped, presented under the caller name',
      async () => ({ username: '2/service/billing', token: await token({ from: 'api', to: 'billing' }) }),
      'decrypt',
    ],
    [
      'to and from swapped, presented under the target name',
      async () => ({ username: '2/service/api', token: await token({ from: 'api', to: 'billing' }) }),
      'decrypt',
    ],
    [
      'a token minted for another service',
      async () => ({ username: '2/service/billing', token: await token({ from: 'billing', to: 'payroll' }) }),
      'decrypt',
    ],
    [
      'a user token presented as a service (context user_type differs)',
      async () => ({
        username: '2/service/rlane',
        token: await token({ from: 'rlane', userType: 'user', key: 'alias/users' }),
        path: '/any',
      }),
      'decrypt',
    ],
    [
      'a service-typed token under the user key (wrong key for services)',
      async () => ({ username: '2/service/rlane', token: await token({ from: 'rlane', key: 'alias/users' }), path: '/any' }),
      'wrong_key',
    ],
    [
      'a user token under the service key (wrong key for users)',
      async () => ({ username: '2/user/rlane', token: await token({ from: 'rlane', userType: 'user', key: 'alias/svc' }), path: '/any' }),
      'wrong_key',
    ],
    [
      'a user token on a services-only route',
      async () => ({ username: '2/user/rlane', token: await token({ from: 'rlane', userType: 'user', key: 'alias/users' }) }),
      'user_type_not_allowed',
    ],
    [
      'a lifetime over the maximum (120 > 60 minutes)',
      async () => ({ username: '2/service/billing', token: await token({ from: 'billing', lifetime: 120 }) }),
      'lifetime_too_long',
    ],
    [
      'a key that is not in the list',
      async () => ({ username: '2/service/billing', token: await token({ from: 'billing', key: 'alias/other' }) }),
      'wrong_key',
    ],
    [
      'a v2 token presented as v1 (no user_type in the context)',
      async () => ({ username: 'billing', token: await token({ from: 'billing' }) }),
      'decrypt',
    ],
    [
      'Unicode look-alike of the caller (Cyrillic i)',
      async () => ({ username: '2/service/b\u0456lling', token: await token({ from: 'billing' }) }),
      'decrypt',
    ],
    [
      'caller name with a trailing control character',
      async () => ({ username: '2/service/billing\u0001', token: await token({ from: 'billing' }) }),
      'decrypt',
    ],
    [
      'a truncated token (still base64)',
      async () => ({ username: '2/service/billing', token: (await token({ from: 'billing' })).slice(0, 40) }),
      'decrypt',
    ],
    [
      'a truncated token (no longer base64)',
      async () => ({ username: '2/service/billing', token: (await token({ from: 'billing' })).slice(0, 41) }),
      'token_encoding',
    ],
    [
      'a token with URL-safe base64 characters',
      async () => ({ username: '2/service/billing', token: `-_${(await token({ from: 'billing' })).slice(2)}` }),
      'token_encoding',
    ],
  ];

  it.each(cases.map(([n, m, r]) => [n, r, m] as const))('%s → 401 (%s)', async (_name, reason, make) => {
    const { username, token: t, path = '/svc' } = await make();
    // Basic carries any bytes (base64), so control characters and Unicode reach the scheme intact.
    const res = await request(app)
      .get(path)
      .set('Authorization', basic(`${username}:${t}`));
    const problem = expectRefusal(res, 'Basic', { status: 401, secrets: [t] });
    expect(problem.reason).toBe(reason);
  });

  it('one token under two usernames: the cache never hands one principal to the other', async () => {
    const t = await token({ from: 'alice' });
    const first = await request(app).get('/svc').set({ 'X-Auth-From': '2/service/alice', 'X-Auth-Token': t });
    expect([first.status, first.body.subject]).toEqual([200, 'alice']);
    // Now cached for alice; mallory presents the same token, sequentially and concurrently.
    const replayed = await request(app).get('/svc').set({ 'X-Auth-From': '2/service/mallory', 'X-Auth-Token': t });
    expect(expectRefusal(replayed, 'Basic', { status: 401, secrets: [t] }).reason).toBe('decrypt');
    const mixed = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(http.server)
          .get('/svc')
          .set({ 'X-Auth-From': i % 2 === 0 ? '2/service/alice' : '2/service/mallory', 'X-Auth-Token': t }),
      ),
    );
    mixed.forEach((res, i) => {
      if (i % 2 === 0) expect([res.status, res.body.subject]).toEqual([200, 'alice']);
      else expect(res.status).toBe(401);
    });
    // And the reverse order on a fresh token: a failed attempt first must not poison the rightful owner.
    const t2 = await token({ from: 'bob' });
    const wrongFirst = await Promise.all([
      request(http.server).get('/svc').set({ 'X-Auth-From': '2/service/eve', 'X-Auth-Token': t2 }),
      request(http.server).get('/svc').set({ 'X-Auth-From': '2/service/bob', 'X-Auth-Token': t2 }),
    ]);
    expect(wrongFirst.map((r) => r.status)).toEqual([401, 200]);
    expect(wrongFirst[1]!.body.subject).toBe('bob');
    // Same token, v1 name and Basic form for alice also must not pass as someone else.
    const asV1 = await request(app)
      .get('/svc')
      .set('Authorization', basic(`alice:${t}`));
    expect(asV1.status).toBe(401);
  });
});

describe('kmsauth header tricks (raw bytes over a socket)', () => {
  let valid: string;
  beforeAll(async () => {
    valid = await token({ from: 'billing' });
  });

  type Raw = [name: string, lines: () => Buffer[], status: number | number[]];
  const cases: Raw[] = [
    ['Basic with no colon (username only)', () => [headerLine('Authorization', basic('2/service/billing'))], 401],
    ['Basic with no colon (token only)', () => [headerLine('Authorization', basic(valid))], [400, 401]],
    [
      'Basic with non-UTF-8 bytes in the username',
      () => [headerLine('Authorization', basic(Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(`:${valid}`)])))],
      [400, 401],
    ],
    [
      'Basic with non-UTF-8 bytes in the token',
      () => [headerLine('Authorization', basic(Buffer.concat([Buffer.from('2/service/billing:'), Buffer.from([0xff, 0x80, 0xfe])])))],
      401,
    ],
    ['Basic that is not base64', () => [headerLine('Authorization', 'Basic %%%not-base64%%%')], 400],
    [
      'Basic with too much base64 padding',
      () => [headerLine('Authorization', `Basic ${Buffer.from(`2/service/billing:${valid}`).toString('base64').replace(/=+$/, '')}====`)],
      400,
    ],
    [
      'Basic with base64 that does not fill its last quantum',
      () => [headerLine('Authorization', `Basic ${Buffer.from('2/service/billing:AAAA').toString('base64').replace(/=+$/, '')}A`)],
      400,
    ],
    ['Basic username with extra slashes', () => [headerLine('Authorization', basic(`2/service/bill/ing:${valid}`))], 400],
    ['Basic username with a non-numeric version', () => [headerLine('Authorization', basic(`x/service/billing:${valid}`))], 400],
    ['Basic username with an unknown user type', () => [headerLine('Authorization', basic(`2/admin/billing:${valid}`))], 401],
    ['Basic version 3 (above the maximum)', () => [headerLine('Authorization', basic(`3/service/billing:${valid}`))], 401],
    ['Basic with an empty token after the colon', () => [headerLine('Authorization', basic('2/service/billing:'))], 401],
    [
      'X-Auth-From with raw non-UTF-8 bytes',
      () => [headerLine('X-Auth-From', Buffer.from([0x32, 0x2f, 0xff, 0xfe, 0x2f, 0x61])), headerLine('X-Auth-Token', valid)],
      [400, 401],
    ],
    [
      'X-Auth-From with UTF-8 look-alike bytes',
      () => [headerLine('X-Auth-From', Buffer.from('2/service/b\u0456lling', 'utf8')), headerLine('X-Auth-Token', valid)],
      401,
    ],
    [
      'X-Auth-From with slashes in the name',
      () => [headerLine('X-Auth-From', '2/service/../billing'), headerLine('X-Auth-Token', valid)],
      400,
    ],
    ['X-Auth-From under another name', () => [headerLine('X-Auth-From', '2/service/payroll'), headerLine('X-Auth-Token', valid)], 401],
    [
      'X-Auth-Token with raw high bytes',
      () => [headerLine('X-Auth-From', '2/service/billing'), headerLine('X-Auth-Token', Buffer.from([0xff, 0xfe, 0x41, 0x41]))],
      401,
    ],
    ['X-Auth-Token empty', () => [headerLine('X-Auth-From', '2/service/billing'), headerLine('X-Auth-Token', '')], 401],
    ['X-Auth-Token of 6 kB', () => [headerLine('X-Auth-From', '2/service/billing'), headerLine('X-Auth-Token', 'A'.repeat(6000))], 401],
    [
      'two X-Auth-Token headers (first wrong)',
      () => [headerLine('X-Auth-From', '2/service/billing'), headerLine('X-Auth-Token', 'AAAA'), headerLine('X-Auth-Token', valid)],
      [400, 401],
    ],
    [
      'two Authorization headers',
      () => [
        headerLine('Authorization', basic(`2/service/billing:${valid}`)),
        headerLine('Authorization', basic(`2/service/billing:${valid}`)),
      ],
      400,
    ],
    ['Basic and Bearer in one header', () => [headerLine('Authorization', `${basic(`2/service/billing:${valid}`)} Bearer abc`)], 400],
    [
      'Basic scheme in odd casing',
      () => [headerLine('Authorization', `bAsIc ${Buffer.from(`2/service/billing:${valid}`).toString('base64')}`)],
      [200],
    ],
    // One header rule for every scheme (src/scheme.ts): exactly one space after the scheme word.
    [
      'Basic scheme with two spaces',
      () => [headerLine('Authorization', `Basic  ${Buffer.from(`2/service/billing:${valid}`).toString('base64')}`)],
      400,
    ],
    [
      'tab between Basic and the credentials',
      () => [headerLine('Authorization', `Basic\t${Buffer.from(`2/service/billing:${valid}`).toString('base64')}`)],
      400,
    ],
  ];

  it.each(cases)('%s', async (_name, lines, status) => {
    const res = await rawGet(http.port, '/svc', lines());
    const allowed = Array.isArray(status) ? status : [status];
    if (allowed.includes(200)) {
      // Casing and extra spaces are tolerated on purpose (RFC 9110: case-insensitive scheme; token68 trimmed).
      expect(res.status).toBe(200);
      return;
    }
    expectRefusal({ status: res.status, headers: res.headers, text: res.body }, 'Basic', { status: allowed, secrets: [valid] });
  });
});
