/**
 * Scenarios run inside the artifact tier's consumer apps, against the installed package only. Each
 * takes the library objects loaded by its caller (main.mjs with `import`, main.cjs with `require`)
 * and returns plain observations; the jest side asserts them.
 */
'use strict';
const { generateKeyPairSync, randomBytes, randomUUID } = require('node:crypto');
const net = require('node:net');

/** Starts an Express app on a free loopback port. */
function listen(app) {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }),
    );
    server.on('error', reject);
  });
}

/** GET with headers; the parts of the answer the tests look at. */
async function get(url, headers = {}) {
  const started = Date.now();
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    contentType: res.headers.get('content-type'),
    wwwAuthenticate: res.headers.get('www-authenticate'),
    code: body && body.code,
    body,
    ms: Date.now() - started,
  };
}

function canLoad(name) {
  try {
    require.resolve(name, { paths: [process.cwd()] });
    return true;
  } catch {
    return false;
  }
}

/** A thrown value as the tests see it, judged by the main entry's `isAuthError`. */
function describeError(lib, error) {
  return {
    isAuthError: lib.isAuthError(error),
    code: error && error.code,
    status: error && error.status,
    retryAfter: error && error.retryAfter,
    name: error && error.name,
  };
}

/** Main entry, a protected route over HTTP, and which optional peers are absent. */
async function basic({ lib, express }) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const model = { keyNames: { user: 'auth_user' }, allowed: { scopes: { PER_KEY: { user: ['orders:read', 'orders:write'] } } } };
  const issuer = new lib.ApiJwtIssuer({ ...model, privateKey });
  const token = (scopes) => issuer.issue({ subject: 'alice', extras: { scopes, level: 1, factor: 'password' } }).token;
  const app = express();
  app.get(
    '/orders',
    lib.authenticate([lib.apiJwtScheme({ ...model, publicKeys: [publicKey] })]),
    lib.requireScopes('orders:read'),
    (req, res) => {
      res.json({ subject: req.principal.subject, frozen: Object.isFrozen(req.principal) });
    },
  );
  const http = await listen(app);
  try {
    return {
      ok: await get(`${http.url}/orders`, { Authorization: `Bearer ${token(['orders:read'])}` }),
      missing: await get(`${http.url}/orders`),
      wrongScope: await get(`${http.url}/orders`, { Authorization: `Bearer ${token(['orders:write'])}` }),
      forged: await get(`${http.url}/orders`, { Authorization: `Bearer ${token(['orders:read'])}x` }),
      authErrorBrand: lib.isAuthError(new lib.AuthError('token_invalid')),
      peers: Object.fromEntries(['ioredis', 'redis', '@aws-sdk/client-kms', 'rate-limiter-flexible'].map((n) => [n, canLoad(n)])),
    };
  } finally {
    await http.close();
  }
}

/** A client of the given kind ('ioredis' | 'redis') to host:port; node-redis is connected (or tried). */
async function redisClient(kind, redisModule, url) {
  if (kind === 'ioredis') {
    const client = new redisModule.Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    await client.connect().catch(() => undefined);
    return { client, close: () => client.disconnect() };
  }
  const client = redisModule.createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect().catch(() => undefined);
  return { client, close: () => (client.isOpen ? client.quit() : undefined) };
}

/** Redis stores pointed at a closed port: 503 + Retry-After over HTTP, errors branded. */
async function redisDown({ lib, redisEntry, express, kind, redisModule, port }) {
  const { client, close } = await redisClient(kind, redisModule, `redis://127.0.0.1:${port}`);
  const ed = generateKeyPairSync('ed25519', {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const replayStore = new redisEntry.RedisReplayStore(client, { timeoutMs: 300 });
  const pepper = randomBytes(32);
  const issued = await new lib.ApiKeyManager({ store: new lib.MemoryApiKeyStore(), pepper }).issue({ owner: 'reporter' });
  const keyStore = new redisEntry.RedisApiKeyStore(client, { timeoutMs: 300 });
  const app = express();
  app.get(
    '/jwt',
    lib.authenticate([lib.asymmetricJwtScheme({ users: { svc: { publicKeys: [ed.publicKey] } }, replayStore })]),
    (req, res) => res.json(req.principal),
  );
  app.get('/key', lib.authenticate([lib.apiKeyScheme({ manager: new lib.ApiKeyManager({ store: keyStore, pepper }) })]), (req, res) =>
    res.json(req.principal),
  );
  const http = await listen(app);
  try {
    const caught = async (work) => {
      try {
        await work();
        return { threw: false };
      } catch (error) {
        return describeError(lib, error);
      }
    };
    return {
      rateLimiterFlexible: canLoad('rate-limiter-flexible'),
      jwt: await get(`${http.url}/jwt`, { Authorization: lib.createAuthHeader({ username: 'svc', privateKey: ed.privateKey }) }),
      key: await get(`${http.url}/key`, { 'X-API-Key': issued.key }),
      nonceError: await caught(() =>
        replayStore.claim({ subject: 'svc', time: String(Math.floor(Date.now() / 1000)), nonce: randomUUID(), ttlMs: 40_000 }),
      ),
      keyError: await caught(() => keyStore.get(issued.record.id)),
    };
  } finally {
    await http.close();
    await close();
  }
}

/**
 * `redisBruteForce()` against the real Redis: locked out after `maxFailures` wrong attempts. The store
 * deadline is generous: what is tested here is the lock-out, not the 250 ms default under CI load.
 */
async function bruteForce({ lib, redisEntry, express, kind, redisModule, url }) {
  const { client, close } = await redisClient(kind, redisModule, url);
  const keyPrefix = `authnz-artifact:${randomUUID()}:`;
  const guard = redisEntry.redisBruteForce(client, {
    maxFailures: 3,
    freeRetries: 10,
    windowSeconds: 60,
    lockSeconds: 60,
    keyPrefix,
    timeoutMs: 2000,
  });
  const app = express();
  const { publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  app.get('/r', lib.authenticate([guard.protect(lib.apiJwtScheme({ publicKeys: [publicKey] }))]), (req, res) => res.json(req.principal));
  const http = await listen(app);
  try {
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await get(`${http.url}/r`, { Authorization: 'Bearer not.a.token' }));
    return { statuses: answers.map((a) => a.status), codes: answers.map((a) => a.code), lastRetryAfter: answers[5].retryAfter };
  } finally {
    await http.close();
    const keys = await client.keys(`${keyPrefix}*`);
    if (keys.length > 0) await client.del(keys);
    await close();
  }
}

/** A TCP server that accepts connections and never answers (a hung KMS). */
async function blackHole() {
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

/** kmsauth against the local KMS through the real SDK: outages are 503 + Retry-After, never 401. */
async function kmsDown({ lib, kmsEntry, sdk, express, port }) {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' };
  const local = await kmsEntry.startLocalKms({});
  const client = (endpoint, timeoutMs = 500) => kmsEntry.createKmsClient({ endpoint, credentials, region: 'us-east-1', timeoutMs });
  const live = client(local.url);
  const arn = (await live.sdk.send(new sdk.CreateKeyCommand({}))).KeyMetadata.Arn;
  await live.sdk.send(new sdk.CreateAliasCommand({ AliasName: 'alias/svc', TargetKeyId: arn }));
  const headersFor = (from, kms = live) =>
    new lib.KmsTokenGenerator({ authKey: 'alias/svc', authContext: { from, to: 'api', user_type: 'service' }, kms }).getHeaders();
  const dead = client(`http://127.0.0.1:${port}`);
  const hole = await blackHole();
  const hung = client(hole.url, 300);
  const servers = [];
  const serve = async (kms) => {
    const validator = new lib.KmsTokenValidator({ authKey: ['alias/svc'], userAuthKey: null, toAuthContext: 'api', kms });
    const app = express();
    app.get('/who', lib.authenticate([lib.kmsauthScheme({ validator })]), (req, res) => res.json(req.principal));
    const http = await listen(app);
    servers.push(http);
    return http.url;
  };
  try {
    const up = await get(`${await serve(live)}/who`, await headersFor('svc-up'));
    // Decrypt answers; DescribeKey (resolving alias/svc to its ARN) cannot reach KMS.
    const describeDown = await get(
      `${await serve({ encrypt: live.encrypt, decrypt: live.decrypt, describeKey: dead.describeKey })}/who`,
      await headersFor('svc-describe'),
    );
    const neverAnswers = await get(`${await serve(hung)}/who`, await headersFor('svc-hung'));
    let generator;
    try {
      await headersFor('svc-gen', dead);
      generator = { threw: false };
    } catch (error) {
      generator = { threw: true, name: error.name, isKmsauthConnectionError: error instanceof lib.KmsauthConnectionError };
    }
    const url = await serve(live);
    const fresh = await headersFor('svc-stopped');
    await local.close();
    const stopped = await get(`${url}/who`, fresh);
    return { up, describeDown, neverAnswers, stopped, generator };
  } finally {
    for (const s of servers) await s.close();
    await hole.close();
    for (const c of [live, dead, hung]) c.destroy();
    await local.close().catch(() => undefined);
  }
}

module.exports = { basic, redisDown, bruteForce, kmsDown };
