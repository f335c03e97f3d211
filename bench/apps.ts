/**
 * Builds the Express app of each variant. Every app has the same route (`GET /r`, answering "ok")
 * and the same keys; only the authentication in front of it differs. Peers get the same checks as
 * ours: signature, issuer, audience, expiry, and the scope.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jwtBearerBuilders } from './jwt-bearer.js';
import { readKeys, SCOPE, TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_TTL_SECONDS, type BenchKeys } from './fixtures.js';

/** What a built variant hands back to the server process. */
export interface BuiltApp {
  readonly handlers: RequestHandler[];
  /** Request headers the load process should rotate through (for `pool: 'server'`). */
  readonly pool?: ReadonlyArray<Readonly<Record<string, string>>>;
  /** Headers for the warm-up, when the measured pool must stay unused until then. */
  readonly warmupPool?: ReadonlyArray<Readonly<Record<string, string>>>;
  /** Releases resources (KMS servers, Redis clients). */
  readonly close?: () => Promise<void>;
  /** The port to listen on, when the pool was signed for it (default a free one chosen at listen). */
  readonly port?: number;
}

type Builder = (keys: BenchKeys) => Promise<BuiltApp>;

/** The library as bundled by run.ts (src/ compiled like dist/); falls back to src/ under tsx. */
async function lib<T = typeof import('../src/index.js')>(entry: 'index' | 'kms' | 'redis' = 'index'): Promise<T> {
  const dir = process.env['BENCH_LIB_DIR'];
  const url = dir ? pathToFileURL(join(dir, `${entry}.js`)).href : new URL(`../src/${entry}.js`, import.meta.url).href;
  return (await import(url)) as T;
}

/** The same scope check for every peer: APIJwt writes `scopes` as comma-separated text. */
function hasScope(claims: unknown): boolean {
  const scopes = (claims as { scopes?: unknown } | undefined)?.scopes;
  if (typeof scopes === 'string') return scopes.split(',').includes(SCOPE);
  return Array.isArray(scopes) && scopes.includes(SCOPE);
}

function scopeCheck(read: (req: Request) => unknown): RequestHandler {
  return (req, res, next) => {
    if (hasScope(read(req))) next();
    else res.status(403).end();
  };
}

function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  return h !== undefined && h.startsWith('Bearer ') ? h.slice(7) : undefined;
}

async function apiJwt(publicKey: string, cache = true): Promise<BuiltApp> {
  const { authenticate, requireScopes, apiJwtScheme } = await lib();
  const scheme = apiJwtScheme({
    publicKeys: [publicKey],
    keyNames: { user: TOKEN_ISSUER },
    audience: { audience: TOKEN_AUDIENCE },
    maxTokenLifetimeSeconds: TOKEN_TTL_SECONDS,
    ...(cache ? {} : { cache: false }),
  });
  return { handlers: [authenticate([scheme]) as RequestHandler, requireScopes(SCOPE) as RequestHandler] };
}

/**
 * The RSA public key as a peer is handed it: the PEM text (what most examples show), or a `KeyObject`
 * built once with `crypto.createPublicKey` (so the peer does not parse the PEM per request).
 */
type KeyForm = 'pem' | 'keyobject';
async function rsaKey(keys: BenchKeys, form: KeyForm): Promise<string | import('node:crypto').KeyObject> {
  if (form === 'pem') return keys.rsaPublic;
  const { createPublicKey } = await import('node:crypto');
  return createPublicKey(keys.rsaPublic);
}

const passportJwt =
  (form: KeyForm): Builder =>
  async (keys) => {
    const { Passport } = await import('passport');
    const pj = (await import('passport-jwt')).default;
    const passport = new Passport();
    passport.use(
      new pj.Strategy(
        // passport-jwt's types say string | Buffer; it hands the key to jsonwebtoken, which takes a KeyObject.
        {
          jwtFromRequest: pj.ExtractJwt.fromAuthHeaderAsBearerToken(),
          secretOrKey: (await rsaKey(keys, form)) as string,
          algorithms: ['RS256'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
        },
        (payload: unknown, done: (err: unknown, user?: unknown) => void) => done(null, payload),
      ),
    );
    return { handlers: [passport.authenticate('jwt', { session: false }) as RequestHandler, scopeCheck((req) => req.user)] };
  };

const expressJwt =
  (form: KeyForm): Builder =>
  async (keys) => {
    const { expressjwt } = await import('express-jwt');
    const mw = expressjwt({
      secret: (await rsaKey(keys, form)) as string,
      algorithms: ['RS256'],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
    });
    return { handlers: [mw as unknown as RequestHandler, scopeCheck((req) => (req as Request & { auth?: unknown }).auth)] };
  };

const oauth2JwtBearer: Builder = async (keys) => {
  const { auth } = await import('express-oauth2-jwt-bearer');
  // The library's own key option (no JWKS round trip per request either way: a JWKS is fetched once and cached).
  const mw = auth({ issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, publicKey: keys.rsaPublic, tokenSigningAlg: 'RS256' });
  return { handlers: [mw, scopeCheck((req) => (req as Request & { auth?: { payload?: unknown } }).auth?.payload)] };
};

/** fast-jwt's verifier, with its verified-token cache (`cache: true`, 1,000 entries by default) or without. */
const fastJwt =
  (cache: boolean): Builder =>
  async (keys) => {
    const { createVerifier } = await import('fast-jwt');
    const verify = createVerifier({
      key: keys.rsaPublic,
      algorithms: ['RS256'],
      allowedIss: TOKEN_ISSUER,
      allowedAud: TOKEN_AUDIENCE,
      cache,
    });
    const mw: RequestHandler = (req, res, next) => {
      const token = bearer(req);
      let payload: unknown;
      try {
        payload = token === undefined ? undefined : verify(token);
      } catch {
        payload = undefined;
      }
      if (payload === undefined) res.status(401).end();
      else if (!hasScope(payload)) res.status(403).end();
      else next();
    };
    return { handlers: [mw] };
  };

const joseCheck: Builder = async (keys) => {
  const { jwtVerify, importSPKI } = await import('jose');
  // The key is imported once (a CryptoKey), as jose's docs advise; every request only verifies.
  const key = await importSPKI(keys.rsaPublic, 'RS256');
  const options = { algorithms: ['RS256'], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE };
  const mw: RequestHandler = (req, res, next) => {
    const token = bearer(req);
    if (token === undefined) {
      res.status(401).end();
      return;
    }
    jwtVerify(token, key, options).then(
      ({ payload }) => {
        if (!hasScope(payload)) res.status(403).end();
        else next();
      },
      () => res.status(401).end(),
    );
  };
  return { handlers: [mw] };
};

/** How many requests a server-made pool must cover: the load's best case over the round. */
function poolSizes(cap = Infinity): { measure: number; warmup: number } {
  const perSecond = Math.min(cap, Number(process.env['BENCH_POOL_RATE'] ?? 15_000));
  return {
    measure: Math.ceil(perSecond * Number(process.env['BENCH_DURATION'] ?? 5)),
    warmup: Math.ceil(perSecond * Number(process.env['BENCH_WARMUP'] ?? 2)),
  };
}

/**
 * Asymmetric JWT with a fresh token (new nonce) per request. Tokens are signed ahead by the caller's
 * Ed25519 key with a `time` that keeps the whole round inside the ±20 s window.
 */
async function asymmetric(keys: BenchKeys, store: 'memory' | 'redis'): Promise<BuiltApp> {
  const { authenticate, requireScopes, asymmetricJwtScheme, signToken, loadSigningKey, MemoryReplayStore } = await lib();
  let replayStore;
  let close: (() => Promise<void>) | undefined;
  if (store === 'memory') {
    // Room for every nonce of a round: the store refuses (503) rather than evict a live nonce.
    replayStore = new MemoryReplayStore({ maxEntries: 2_000_000 });
  } else {
    const { RedisReplayStore } = await lib<typeof import('../src/redis.js')>('redis');
    const { Redis } = await import('ioredis');
    const client = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
    replayStore = new RedisReplayStore(client, { keyPrefix: `authnz-bench:${process.pid}:${Date.now()}:` });
    close = async () => {
      await client.quit();
    };
  }
  const scheme = asymmetricJwtScheme({ users: { 'bench-client': { publicKeys: [keys.edPublic], scopes: [SCOPE] } }, replayStore });
  const key = loadSigningKey({ privateKey: keys.edPrivate });
  // An Ed25519 server takes far fewer than bare Express's 15,000 req/s: a smaller pool starts sooner.
  const sizes = poolSizes(Number(process.env['BENCH_ASYM_POOL_RATE'] ?? 5000));
  const { measure, warmup } = sizes;
  // The tokens' time is the middle of the round (warm-up, saturated and fixed-load windows), counted
  // from when signing ends: on a busy machine signing the pool takes seconds of the ±20 s window.
  for (let i = 0; i < 20; i++) signToken(key, { username: 'bench-client' });
  const started = process.hrtime.bigint();
  for (let i = 0; i < 50; i++) signToken(key, { username: 'bench-client' });
  const signSeconds = (Number(process.hrtime.bigint() - started) / 1e9 / 50) * (measure + warmup);
  const duration = Number(process.env['BENCH_DURATION'] ?? 5);
  const time =
    Math.floor(Date.now() / 1000) + Math.ceil(signSeconds) + 3 + Math.ceil((2 * duration + Number(process.env['BENCH_WARMUP'] ?? 2)) / 2);
  const make = (n: number): Record<string, string>[] =>
    Array.from({ length: n }, () => ({ authorization: `JWT ${signToken(key, { username: 'bench-client', time })}` }));
  return {
    handlers: [authenticate([scheme]) as RequestHandler, requireScopes(SCOPE) as RequestHandler],
    pool: make(measure),
    warmupPool: make(warmup),
    ...(close ? { close } : {}),
  };
}

interface KmsSetup {
  readonly kms: import('../src/index.js').KmsClientLike & { destroy(): void; sdk: unknown };
  readonly key: string;
  close(): Promise<void>;
}

/** A local KMS in the server process (as the example app runs it), with one key under an alias. */
async function localKms(): Promise<KmsSetup> {
  const { startLocalKms, createKmsClient } = await lib<typeof import('../src/kms.js')>('kms');
  const { CreateAliasCommand, CreateKeyCommand } = await import('@aws-sdk/client-kms');
  const local = await startLocalKms();
  const kms = createKmsClient({ endpoint: local.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, timeoutMs: 5000 });
  const keyId = (await kms.sdk.send(new CreateKeyCommand({ Description: 'authnz bench' }))).KeyMetadata?.KeyId;
  await kms.sdk.send(new CreateAliasCommand({ AliasName: 'alias/authnz-bench', TargetKeyId: keyId }));
  return {
    kms,
    key: 'alias/authnz-bench',
    close: async () => {
      kms.destroy();
      await local.close();
    },
  };
}

/** kmsauth tokens for `count` distinct services (one KMS Encrypt each), as X-Auth-From/X-Auth-Token headers. */
async function kmsTokens(setup: KmsSetup, count: number, prefix: string): Promise<Record<string, string>[]> {
  const { KmsTokenGenerator } = await lib();
  const out: Record<string, string>[] = [];
  for (let i = 0; i < count; i += 32) {
    const batch = Array.from({ length: Math.min(32, count - i) }, (_, j) =>
      new KmsTokenGenerator({
        authKey: setup.key,
        authContext: { from: `${prefix}-${i + j}`, to: 'authnz-bench', user_type: 'service' },
        kms: setup.kms,
        tokenLifetimeSeconds: 3600,
      }).getHeaders(),
    );
    for (const h of await Promise.all(batch)) out.push({ 'x-auth-from': h['X-Auth-From'], 'x-auth-token': h['X-Auth-Token'] });
  }
  return out;
}

let upstream = 0;
/** Upstream calls this server process made so far (kmsauth: KMS Decrypts, from the validator's stats hook). */
export function upstreamCalls(): number {
  return upstream;
}
const countDecrypts = { incr: (): void => undefined, timing: (name: string): void => void (name === 'kms_decrypt_token' && upstream++) };

async function kmsauth(fresh: boolean): Promise<BuiltApp> {
  const { authenticate, kmsauthScheme, KmsTokenValidator, requireScopes } = await lib();
  const setup = await localKms();
  const validator = new KmsTokenValidator({
    authKey: [setup.key],
    userAuthKey: null,
    toAuthContext: 'authnz-bench',
    kms: setup.kms,
    stats: countDecrypts,
  });
  const scheme = kmsauthScheme({ validator, scopes: [SCOPE] });
  // New tokens: one KMS Decrypt each on the server; the pool is smaller because KMS calls are slow.
  const pool = await kmsTokens(
    setup,
    fresh ? Math.min(poolSizes().measure, Number(process.env['BENCH_KMS_NEW_TOKENS'] ?? 6000)) : 200,
    fresh ? 'new-svc' : 'svc',
  );
  const warmupPool = fresh ? await kmsTokens(setup, 200, 'warm-svc') : pool;
  // Cached tokens: validated once before the server listens. Filling the cache costs 200 Decrypts of
  // the in-process KMS (milliseconds of CPU each); left to the warm-up, on a busy machine part of it
  // landed in the measured windows and was divided by their few requests (BENCH_KMS_PREFILL=0: as before).
  if (!fresh && process.env['BENCH_KMS_PREFILL'] !== '0')
    for (const h of pool) await validator.decryptToken(h['x-auth-from'] as string, h['x-auth-token'] as string);
  return {
    handlers: [authenticate([scheme]) as RequestHandler, requireScopes(SCOPE) as RequestHandler],
    pool,
    warmupPool,
    close: setup.close,
  };
}

async function apiKey(): Promise<BuiltApp> {
  const { authenticate, ApiKeyManager, MemoryApiKeyStore, apiKeyScheme, requireScopes } = await lib();
  const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: 'authnz-bench-pepper-authnz-bench-pepper' });
  const pool: Record<string, string>[] = [];
  for (let i = 0; i < 1000; i++) pool.push({ 'x-api-key': (await manager.issue({ owner: `client-${i}`, scopes: [SCOPE] })).key });
  return { handlers: [authenticate([apiKeyScheme({ manager })]) as RequestHandler, requireScopes(SCOPE) as RequestHandler], pool };
}

/** kmsauth, API key and APIJwt on one route; the APIJwt token is tried last. */
async function threeSchemes(keys: BenchKeys): Promise<BuiltApp> {
  const { authenticate, requireScopes, apiJwtScheme, kmsauthScheme, KmsTokenValidator, ApiKeyManager, MemoryApiKeyStore, apiKeyScheme } =
    await lib();
  const setup = await localKms();
  const validator = new KmsTokenValidator({ authKey: [setup.key], userAuthKey: null, toAuthContext: 'authnz-bench', kms: setup.kms });
  const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: 'authnz-bench-pepper-authnz-bench-pepper' });
  const jwt = apiJwtScheme({
    publicKeys: [keys.rsaPublic],
    keyNames: { user: TOKEN_ISSUER },
    audience: { audience: TOKEN_AUDIENCE },
    maxTokenLifetimeSeconds: TOKEN_TTL_SECONDS,
  });
  const auth = authenticate([kmsauthScheme({ validator }), apiKeyScheme({ manager }), jwt]);
  return { handlers: [auth as RequestHandler, requireScopes(SCOPE) as RequestHandler], close: setup.close };
}

/** A free loopback port, for a variant whose requests are signed for their target before the server listens. */
async function loopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * RFC 9421 signed requests (Ed25519) with a fresh nonce per request, beside the asymmetric JWT rows:
 * each signature covers `@method`, `@target-uri` and `@authority` of `GET /r` on this server, made
 * ahead with a `created` inside the scheme's 300 s window for the whole round.
 */
async function httpSignature(keys: BenchKeys): Promise<BuiltApp> {
  const { authenticate, requireScopes, httpSignatureScheme, createRequestSigner, MemoryReplayStore } = await lib();
  const { createPrivateKey } = await import('node:crypto');
  const port = await loopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const scheme = httpSignatureScheme({
    origins: [origin],
    publicKeys: { 'bench-client': { key: keys.edPublic, subject: 'bench-client', scopes: [SCOPE] } },
    nonce: 'required',
    replayStore: new MemoryReplayStore({ maxEntries: 2_000_000 }),
  });
  const sign = createRequestSigner({ key: { key: createPrivateKey(keys.edPrivate), keyId: 'bench-client' } });
  const { measure, warmup } = poolSizes(Number(process.env['BENCH_ASYM_POOL_RATE'] ?? 5000));
  const make = (n: number): Record<string, string>[] => Array.from({ length: n }, () => sign({ method: 'GET', url: `${origin}/r` }));
  return {
    handlers: [authenticate([scheme]) as RequestHandler, requireScopes(SCOPE) as RequestHandler],
    pool: make(measure),
    warmupPool: make(warmup),
    port,
  };
}

const BUILDERS: Readonly<Record<string, Builder>> = {
  ...jwtBearerBuilders({ lib: () => lib(), poolSizes }),
  'asym-memory': (keys) => asymmetric(keys, 'memory'),
  'asym-redis': (keys) => asymmetric(keys, 'redis'),
  'httpsig-memory': httpSignature,
  'kmsauth-cached': () => kmsauth(false),
  'kmsauth-new': () => kmsauth(true),
  apikey: () => apiKey(),
  'three-schemes': threeSchemes,
  bare: () => Promise.resolve({ handlers: [] }),
  'bare-again': () => Promise.resolve({ handlers: [] }),
  // A middleware that only waits for an already-resolved promise before next(): what one promise hop costs.
  'bare-promise-hop': () => Promise.resolve({ handlers: [(_req, _res, next) => void Promise.resolve().then(() => next())] }),
  'apijwt-rs256': (keys) => apiJwt(keys.rsaPublic),
  'apijwt-rs256-new': (keys) => apiJwt(keys.rsaPublic),
  'apijwt-rs256-new-nocache': (keys) => apiJwt(keys.rsaPublic, false),
  // Bare routes driven with the kmsauth and API key request pools: what those headers cost without authentication.
  'bare-kmsauth-headers': async () => ({ ...(await kmsauth(false)), handlers: [] }),
  'bare-apikey-headers': async () => ({ ...(await apiKey()), handlers: [] }),
  'apijwt-eddsa': (keys) => apiJwt(keys.edPublic),
  'passport-jwt': passportJwt('pem'),
  'passport-jwt-new': passportJwt('pem'),
  'passport-jwt-keyobject': passportJwt('keyobject'),
  'passport-jwt-keyobject-new': passportJwt('keyobject'),
  'express-jwt': expressJwt('pem'),
  'express-jwt-keyobject': expressJwt('keyobject'),
  'fast-jwt-cache': fastJwt(true),
  'fast-jwt': fastJwt(false),
  'fast-jwt-new': fastJwt(false),
  'oauth2-jwt-bearer': oauth2JwtBearer,
  jose: joseCheck,
  'jose-new': joseCheck,
};

/** Builds the Express app of a variant. */
export async function buildApp(variant: string, keysFile: string): Promise<{ app: express.Express; built: BuiltApp }> {
  const builder = BUILDERS[variant];
  if (!builder) throw new Error(`unknown variant ${variant}`);
  const built = await builder(readKeys(keysFile));
  const app = express();
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.get('/r', ...built.handlers, (_req: Request, res: Response) => {
    res.send('ok');
  });
  // Peers report failures through next(err): answer 401 without a stack trace.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status((err as { status?: number }).status ?? 401).end();
  });
  return { app, built };
}
