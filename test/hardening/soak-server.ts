/**
 * The soak test's server, run as a child process (`node --expose-gc --import tsx`): every committed
 * scheme on its own route, memory stores, and the local KMS and stub introspection endpoint of
 * `soak-deps.ts` (another process, named by SOAK_KMS_URL and SOAK_INTROSPECTION_URL). Prints one
 * JSON line with its port and credentials, then serves `/__mem` (heap after a full GC) until killed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
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
import { createKmsClient } from '../../src/kms.js';
import { listen } from '../helpers/http.js';
import type { FetchLike } from '../../src/index.js';

const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const gc = (globalThis as { gc?: () => void }).gc;

const kmsUrl = process.env['SOAK_KMS_URL'];
const introspectionUrl = process.env['SOAK_INTROSPECTION_URL'];
if (!kmsUrl || !introspectionUrl) throw new Error('soak-server: SOAK_KMS_URL and SOAK_INTROSPECTION_URL are required (see soak-deps.ts)');
// Deadlines are tested in outages.test.ts. Here they must not fire on a healthy dependency: on a
// loaded machine this process's own event loop (100 connections, a share of two cores) can delay the
// handling of an answer that has already arrived by seconds, and a 2 s deadline then turned one slow
// Decrypt into a burst of 503s for every request waiting on it (single flight).
const DEPENDENCY_TIMEOUT_MS = 30_000;
const kmsClient = createKmsClient({
  endpoint: kmsUrl,
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
  region: 'us-east-1',
  timeoutMs: DEPENDENCY_TIMEOUT_MS,
});
const kmsHeaders = await new KmsTokenGenerator({
  authKey: 'alias/svc',
  authContext: { from: 'soak', to: 'api', user_type: 'service' },
  kms: kmsClient,
}).getHeaders();

const apiKeys = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: randomBytes(32) });
const apiKey = (await apiKeys.issue({ owner: 'soak', scopes: ['soak:read'] })).key;
const apiJwt = new ApiJwtIssuer({ privateKey: fixture('apijwt/rsa_private.pem'), allowed: { scopes: null }, lifetimeSeconds: 3600 }).issue({
  subject: 'soak',
  extras: { scopes: ['soak:read'] },
}).token;

// Names the cause of any failed introspection call on stderr, so a 503 in the soak is explained in the log.
const loggingFetch: FetchLike = async (input, init) => {
  const started = Date.now();
  try {
    return await (globalThis.fetch as unknown as FetchLike)(input, init);
  } catch (error) {
    const chain: string[] = [];
    for (let e: unknown = error, d = 0; e instanceof Error && d < 4; e = (e as { cause?: unknown }).cause, d++)
      chain.push(`${e.name}:${String((e as { code?: unknown }).code ?? '')}:${e.message}`);
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
app.get(
  '/ajwt',
  authenticate([asymmetricJwtScheme({ users: { soak: { publicKeys: [fixture('asymmetric-jwt/keys/ed25519_public.pem')] } } })]),
  ok,
);
app.get(
  '/kmsauth',
  authenticate([
    kmsauthScheme({ validator: new KmsTokenValidator({ authKey: 'alias/svc', userAuthKey: null, toAuthContext: 'api', kms: kmsClient }) }),
  ]),
  ok,
);
app.get('/apikey', authenticate([apiKeyScheme({ manager: apiKeys })]), requireScopes('soak:read'), ok);
app.get(
  '/oauth',
  authenticate([
    introspectionScheme({
      endpoint: `${introspectionUrl}/i`,
      clientAuth: { method: 'client_secret_post', clientId: 'rs', clientSecret: 's' },
      timeoutMs: DEPENDENCY_TIMEOUT_MS,
      fetch: loggingFetch,
    }),
  ]),
  requireScopes('soak:read'),
  ok,
);
const server = await listen(app);
process.stdout.write(`${JSON.stringify({ port: server.port, apiJwt, apiKey, kmsHeaders, oauth: 'soak-token' })}\n`);

const stop = (): void => {
  void server.close().finally(() => {
    kmsClient.destroy();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
