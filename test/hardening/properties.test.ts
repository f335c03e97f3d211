/**
 * fast-check: random bytes in every credential header each scheme reads (X-Auth-From/X-Auth-Token,
 * X-API-Key, Authorization with each scheme prefix) never yield a 500 or a principal. Sent over raw
 * sockets so the bytes arrive as generated; one route carries all the schemes at once.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import fc from 'fast-check';
import '../helpers/fast-check-seed.js';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  ApiKeyManager,
  MemoryApiKeyStore,
  apiJwtScheme,
  apiKeyScheme,
  asymmetricJwtScheme,
  authenticate,
  introspectionScheme,
  kmsauthScheme,
  KmsTokenValidator,
} from '../../src/index.js';
import { createKmsClient, startLocalKms, type LocalKms } from '../../src/kms.js';
import { headerLine, listen, rawGet, type Listening } from '../helpers/http.js';

const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

let kms: LocalKms;
let kmsClient: ReturnType<typeof createKmsClient>;
let introspection: Listening;
let http: Listening;
let introspectionCalls = 0;
const principals: unknown[] = [];

beforeAll(async () => {
  kms = await startLocalKms();
  kmsClient = createKmsClient({
    endpoint: kms.url,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    region: 'us-east-1',
    timeoutMs: 2000,
  });
  const arn = (await kmsClient.sdk.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  await kmsClient.sdk.send(new CreateAliasCommand({ AliasName: 'alias/svc', TargetKeyId: arn }));
  // The introspection endpoint says "inactive" to everything: random tokens must never pass.
  introspection = await listen((req, res) => {
    introspectionCalls++;
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end('{"active":false}');
    });
  });
  const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32) });
  await manager.issue({ owner: 'someone' });
  const schemes = [
    apiJwtScheme({ publicKeys: [fixture('apijwt/rsa_public.pem')], name: 'apijwt' }),
    asymmetricJwtScheme({ users: { svc: { publicKeys: [fixture('asymmetric-jwt/keys/ed25519_public.pem')] } } }),
    kmsauthScheme({
      validator: new KmsTokenValidator({ authKey: 'alias/svc', userAuthKey: null, toAuthContext: 'api', kms: kmsClient }),
      userTypes: ['service', 'user'],
    }),
    apiKeyScheme({ manager }),
    introspectionScheme({
      endpoint: `${introspection.url}/i`,
      clientAuth: { method: 'client_secret_post', clientId: 'rs', clientSecret: 's' },
      name: 'introspection',
      timeoutMs: 2000,
    }),
  ];
  const app = express();
  app.get('/all', authenticate(schemes), (req, res) => {
    principals.push(req.principal);
    res.json(req.principal);
  });
  http = await listen(app);
});

afterAll(async () => {
  await http.close();
  await introspection.close();
  kmsClient.destroy();
  await kms.close();
});

const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));
const printable = (max: number): fc.Arbitrary<Buffer> => fc.string({ maxLength: max }).map((s) => Buffer.from(s, 'latin1'));
const b64ish = fc.base64String({ maxLength: 200 }).map((s) => Buffer.from(s));
const payload = fc.oneof(bytes(300), printable(300), b64ish);
const prefixes = ['Bearer ', 'bearer ', 'JWT ', 'jwt ', 'Basic ', 'BASIC ', 'ApiKey ', 'apikey ', 'Bearer  ', 'JWT\t', ''];

/** A refusal is a 4xx (from us, or from Node's parser for bytes HTTP forbids). The dependencies are up, so no 503 either. */
const refused = (status: number): boolean => status >= 400 && status < 500;

describe('random bytes in credential headers (all schemes on one route)', () => {
  it('Authorization with each scheme prefix', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...prefixes), payload, async (prefix, rest) => {
        const res = await rawGet(http.port, '/all', [headerLine('Authorization', Buffer.concat([Buffer.from(prefix), rest]))]);
        return refused(res.status);
      }),
      { numRuns: 200 },
    );
  });

  it('Basic with random base64-encoded username:token bytes', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(80), bytes(200), fc.boolean(), async (user, token, colon) => {
        const decoded = colon ? Buffer.concat([user, Buffer.from(':'), token]) : Buffer.concat([user, token]);
        const res = await rawGet(http.port, '/all', [headerLine('Authorization', `Basic ${decoded.toString('base64')}`)]);
        return refused(res.status);
      }),
      { numRuns: 150 },
    );
  });

  it('X-Auth-From / X-Auth-Token', async () => {
    const from = fc.oneof(
      bytes(60),
      fc.constantFrom('2/service/', '2/user/', '1/service/', '').chain((p) => printable(30).map((s) => Buffer.concat([Buffer.from(p), s]))),
    );
    await fc.assert(
      fc.asyncProperty(from, payload, async (f, t) => {
        const res = await rawGet(http.port, '/all', [headerLine('X-Auth-From', f), headerLine('X-Auth-Token', t)]);
        return refused(res.status);
      }),
      { numRuns: 150 },
    );
  });

  it('X-API-Key', async () => {
    const key = fc.oneof(
      payload,
      fc
        .tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[0-9a-f]{16}$/), fc.base64String({ minLength: 43, maxLength: 44 }))
        .map(([p, id, s]) => Buffer.from(`${p}_${id}.${s.replace(/=/g, '')}`)),
    );
    await fc.assert(
      fc.asyncProperty(key, async (k) => {
        const res = await rawGet(http.port, '/all', [headerLine('X-API-Key', k)]);
        return refused(res.status);
      }),
      { numRuns: 150 },
    );
  });

  it('all credential headers at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...prefixes), payload, payload, payload, payload, async (prefix, a, f, t, k) => {
        const res = await rawGet(http.port, '/all', [
          headerLine('Authorization', Buffer.concat([Buffer.from(prefix), a])),
          headerLine('X-Auth-From', f),
          headerLine('X-Auth-Token', t),
          headerLine('X-API-Key', k),
        ]);
        return refused(res.status);
      }),
      { numRuns: 100 },
    );
  });

  it('no principal was ever produced, and the checks reached the schemes (not only the header filter)', () => {
    expect(principals).toEqual([]);
    expect(introspectionCalls).toBeGreaterThan(0);
    expect(kms.calls.Decrypt).toBeGreaterThan(0);
  });
});
