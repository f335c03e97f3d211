/**
 * The soak test's server, run as a child process (`node --expose-gc --import tsx`): every committed
 * scheme on its own route, each with embedded dependencies (local KMS, a stub introspection
 * endpoint, memory stores). Prints one JSON line with its port and credentials, then serves
 * `/__mem` (heap after a full GC) until killed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  ApiJwtIssuer,
  ApiKeyManager,
  MemoryApiKeyStore,
  apiJwtScheme,
  apiKeyScheme,
  asymmetricJwtScheme,
  authenticate,
  introspectionScheme,
  kmsauthScheme,
  KmsTokenGenerator,
  KmsTokenValidator,
  requireScopes,
} from '../../src/index.js';
import { createKmsClient, startLocalKms } from '../../src/kms.js';
import { listen } from './helpers.js';
import type { FetchLike } from '../../src/index.js';

const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const gc = (globalThis as { gc?: () => void }).gc;

const kms = await startLocalKms();
const kmsClient = createKmsClient({ endpoint: kms.url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }, region: 'us-east-1', timeoutMs: 2000 });
const arn = (await kmsClient.sdk.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
await kmsClient.sdk.send(new CreateAliasCommand({ AliasName: 'alias/svc', TargetKeyId: arn }));
const kmsHeaders = await new KmsTokenGenerator({ authKey: 'alias/svc', authContext: { from: 'soak', to: 'api', user_type: 'service' }, kms: kmsClient }).getHeaders();

const introspection = await listen((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const token = new URLSearchParams(body).get('token');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(token === 'soak-token' ? { active: true, sub: 'soak', scope: 'soak:read', exp: Math.floor(Date.now() / 1000) + 3600 } : { active: false }));
  });
});

// Longer than undici's pooled-socket idle time, so the stub never closes a socket fetch is about to reuse
// (that race is the stub's, not the scheme's; one 503 seen in an early run was attributed to it).
introspection.server.keepAliveTimeout = 65_000;

const apiKeys = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32) });
const apiKey = (await apiKeys.issue({ owner: 'soak', scopes: ['soak:read'] })).key;
const apiJwt = new ApiJwtIssuer({ privateKey: fixture('apijwt/rsa_private.pem'), allowed: { scopes: null }, ttl: 3600 }).issue({ subject: 'soak', extras: { scopes: ['soak:read'] } }).token;

// Names the cause of any failed introspection call on stderr, so a 503 in the soak is explained in the log.
// The stub shares this process's loaded event loop (and two cores with the load generator), so its
// deadline is generous: deadlines are tested in outages.test.ts, this test is about crashes and leaks.
const loggingFetch: FetchLike = async (input, init) => {
  const started = Date.now();
  try {
    return await (globalThis.fetch as unknown as FetchLike)(input, init);
  } catch (error) {
    const chain: string[] = [];
    for (let e: unknown = error, d = 0; e instanceof Error && d < 4; e = (e as { cause?: unknown }).cause, d++) chain.push(`${e.name}:${String((e as { code?: unknown }).code ?? '')}:${e.message}`);
    process.stderr.write(`soak-server: introspection call failed after ${Date.now() - started} ms: ${chain.join(' <- ')}\n`);
    throw error;
  }
};

const app = express();
const ok = (req: express.Request, res: express.Response): void => {
  res.json({ subject: req.principal?.subject });
};
app.get('/__mem', (_req, res) => {
  gc?.();
  gc?.();
  res.json({ ...process.memoryUsage(), gc: gc !== undefined });
});
app.get('/apijwt', authenticate([apiJwtScheme({ publicKeys: [fixture('apijwt/rsa_public.pem')], allowed: { scopes: null } })]), ok);
app.get('/ajwt', authenticate([asymmetricJwtScheme({ users: { soak: { keys: [fixture('asymmetric-jwt/keys/ed25519_public.pem')] } } })]), ok);
app.get('/kmsauth', authenticate([kmsauthScheme({ validator: new KmsTokenValidator({ authKey: 'alias/svc', userAuthKey: null, toAuthContext: 'api', kms: kmsClient }) })]), ok);
app.get('/apikey', authenticate([apiKeyScheme({ manager: apiKeys })]), requireScopes('soak:read'), ok);
app.get(
  '/oauth',
  authenticate([introspectionScheme({ endpoint: `${introspection.url}/i`, clientAuth: { method: 'client_secret_post', clientId: 'rs', clientSecret: 's' }, timeoutMs: 10_000, fetch: loggingFetch })]),
  requireScopes('soak:read'),
  ok,
);
const server = await listen(app);
process.stdout.write(`${JSON.stringify({ port: server.port, apiJwt, apiKey, kmsHeaders, oauth: 'soak-token' })}\n`);

const stop = (): void => {
  void Promise.all([server.close(), introspection.close(), kms.close()]).finally(() => {
    kmsClient.destroy();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
