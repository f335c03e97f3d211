/**
 * What a request's authentication costs in process, hot and cold: `authenticate()` + `requireScopes`
 * on an `IncomingMessage` (headers as Node parses them), run back to back (hot: what a
 * microbenchmark sees), and one call at a time after the process has idled and its CPU caches were
 * overwritten (cold: what a server at moderate load sees, every request arriving alone).
 * CPU time per call (`process.cpuUsage`, median of batches / of single calls).
 * Usage: tsx bench/cold.ts [apikey|apijwt|kmsauth|jwtbearer|none ...] (needs the bench fixtures: run the
 * bench once). kmsauth: 200 cached tokens of a local KMS in this process; jwtbearer: the bench's 1,000
 * reused RFC 9068 tokens, static key.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { cacheDir, readKeys, readPool, SCOPE, TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_TTL_SECONDS } from './fixtures.js';
import { median } from './report.js';
import { createPublicKey } from 'node:crypto';
import { AT_AUDIENCE, AT_ISSUER } from './jwt-bearer.js';
import {
  ApiKeyManager,
  KmsTokenGenerator,
  KmsTokenValidator,
  MemoryApiKeyStore,
  apiJwtScheme,
  apiKeyScheme,
  authenticate,
  jwtBearerScheme,
  kmsauthScheme,
  requireScopes,
} from '../src/index.js';
import { createKmsClient, startLocalKms } from '../src/kms.js';

type Mw = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** A request as Node's parser leaves it: headers object and raw list. */
function request(headers: Readonly<Record<string, string>>): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/r';
  const raw: string[] = ['host', '127.0.0.1', 'connection', 'keep-alive'];
  for (const [k, v] of Object.entries(headers)) raw.push(k, v);
  req.rawHeaders = raw;
  for (let i = 0; i < raw.length; i += 2) (req.headers as Record<string, string>)[(raw[i] as string).toLowerCase()] = raw[i + 1] as string;
  return req;
}

/** Runs the chain once; resolves when the last middleware called next() without an error. */
function run(chain: readonly Mw[], req: IncomingMessage): Promise<void> {
  const res = new ServerResponse(req);
  return new Promise((resolve, reject) => {
    let i = 0;
    const next = (err?: unknown): void => {
      if (err !== undefined) return reject(err instanceof Error ? err : new Error(String(err)));
      const mw = chain[i++];
      if (mw === undefined) return resolve();
      mw(req, res, next);
    };
    next();
  });
}

const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

// 32 MiB written between cold calls: more than the last-level cache this process can hold.
const thrash = new Float64Array(4 * 1024 * 1024);
const idle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(
  name: string,
  chain: readonly Mw[],
  pool: readonly Readonly<Record<string, string>>[],
): Promise<{ hot: number; cold: number }> {
  let k = 0;
  const nextReq = (): IncomingMessage => request(pool[k++ % pool.length] as Record<string, string>);
  for (let i = 0; i < 3000; i++) await run(chain, nextReq()); // warm: JIT, caches of the schemes
  const hot: number[] = [];
  for (let b = 0; b < 7; b++) {
    const reqs = Array.from({ length: 2000 }, nextReq);
    const start = cpu();
    for (const req of reqs) await run(chain, req);
    hot.push((cpu() - start) / reqs.length);
  }
  const cold: number[] = [];
  const coldWall: number[] = [];
  for (let i = 0; i < 300; i++) {
    const req = nextReq();
    for (let j = 0; j < thrash.length; j += 8) thrash[j] = i + j;
    await idle(2);
    const start = cpu();
    const wall = performance.now();
    await run(chain, req);
    coldWall.push((performance.now() - wall) * 1000);
    cold.push(cpu() - start);
  }
  const out = { hot: median(hot), cold: median(cold) };
  console.log(
    `${name.padEnd(10)} hot ${out.hot.toFixed(1).padStart(6)} µs/request   cold ${out.cold.toFixed(1).padStart(6)} µs/request (CPU), ${median(coldWall).toFixed(1).padStart(6)} µs (wall)`,
  );
  return out;
}

const which = process.argv.slice(2);
const dir = cacheDir();
const keys = readKeys(join(dir, 'keys.json'));
const want = (n: string): boolean => which.length === 0 || which.includes(n);
// The empty chain: the harness's own cost (request objects, the promise per run).
if (want('none')) await measure('none', [], [{ authorization: 'Bearer x' }]);
if (want('apikey')) {
  const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: 'authnz-bench-pepper-authnz-bench-pepper' });
  const pool: Record<string, string>[] = [];
  for (let i = 0; i < 1000; i++) pool.push({ 'x-api-key': (await manager.issue({ owner: `client-${i}`, scopes: [SCOPE] })).key });
  await measure('apikey', [authenticate([apiKeyScheme({ manager })]), requireScopes(SCOPE)], pool);
}
if (want('apijwt')) {
  const scheme = apiJwtScheme({
    publicKeys: [keys.rsaPublic],
    keyNames: { user: TOKEN_ISSUER },
    audience: { audience: TOKEN_AUDIENCE },
    maxTokenLifetimeSeconds: TOKEN_TTL_SECONDS,
  });
  const pool = readPool(join(dir, 'pool-rs256-reused.json')).map((t) => ({ authorization: `Bearer ${t}` }));
  await measure('apijwt', [authenticate([scheme]), requireScopes(SCOPE)], pool);
}
if (want('kmsauth')) {
  const local = await startLocalKms();
  const kms = createKmsClient({ endpoint: local.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, timeoutMs: 5000 });
  const { CreateAliasCommand, CreateKeyCommand } = await import('@aws-sdk/client-kms');
  const keyId = (await kms.sdk.send(new CreateKeyCommand({ Description: 'authnz cold' }))).KeyMetadata?.KeyId;
  await kms.sdk.send(new CreateAliasCommand({ AliasName: 'alias/authnz-cold', TargetKeyId: keyId }));
  const validator = new KmsTokenValidator({ authKey: ['alias/authnz-cold'], userAuthKey: null, toAuthContext: 'authnz-bench', kms });
  const pool: Record<string, string>[] = [];
  for (let i = 0; i < 200; i++) {
    const h = await new KmsTokenGenerator({
      authKey: 'alias/authnz-cold',
      authContext: { from: `svc-${i}`, to: 'authnz-bench', user_type: 'service' },
      kms,
      tokenLifetimeSeconds: 3600,
    }).getHeaders();
    pool.push({ 'x-auth-from': h['X-Auth-From'], 'x-auth-token': h['X-Auth-Token'] });
  }
  await measure('kmsauth', [authenticate([kmsauthScheme({ validator, scopes: [SCOPE] })]), requireScopes(SCOPE)], pool);
  kms.destroy();
  await local.close();
}
if (want('jwtbearer')) {
  const jwk = { ...createPublicKey(keys.rsaPublic).export({ format: 'jwk' }), kid: 'bench-rsa', alg: 'RS256' };
  const scheme = jwtBearerScheme({
    issuer: AT_ISSUER,
    audience: AT_AUDIENCE,
    publicKeys: [jwk],
    maxTokenLifetimeSeconds: 8 * 24 * 3600,
    dpop: { mode: 'disabled' },
  });
  const pool = readPool(join(dir, 'pool-at-reused.json')).map((t) => ({ authorization: `Bearer ${t}` }));
  await measure('jwtbearer', [authenticate([scheme]), requireScopes(SCOPE)], pool);
}
