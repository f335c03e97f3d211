/**
 * DPoP on several instances: per-process defaults (the in-memory replay store, a random
 * `HmacDpopNonces` secret) are warned about once, at the first DPoP request, when the application
 * shows signs of running on several instances (Express's `trust proxy` set, or a Redis store built
 * anywhere in the process); and a scheme with DPoP on but no `dpop.origins` / `dpop.url` is warned
 * about at start-up. Tokens are signed here with a static key; the app is real Express over HTTP.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import express from 'express';
import { Redis } from 'ioredis';
import { authenticate, createDpopProof, dpopKey, HmacDpopNonces, jwtBearerScheme, type Logger } from '../../src/index.js';
import { RedisReplayStore } from '../../src/redis.js';
import { PostgresApiKeyStore } from '../../src/postgres.js';
import pg from 'pg';
import { signCompact } from '../../src/jwt/compact.js';
import { listen, type Listening } from '../helpers/http.js';
import { databaseUrl, redisUrl } from '../helpers/services.js';

const ISS = 'https://as.example';
const AUD = 'https://api.example';
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const holder = dpopKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const now = (): number => Math.floor(Date.now() / 1000);
const token = signCompact(
  'ES256',
  signer.privateKey,
  JSON.stringify({ alg: 'ES256', typ: 'at+jwt' }),
  JSON.stringify({
    iss: ISS,
    aud: AUD,
    sub: 'svc',
    client_id: 'svc',
    iat: now(),
    exp: now() + 600,
    jti: randomUUID(),
    cnf: { jkt: holder.jkt },
  }),
);

/** A logger that keeps the warnings it receives. */
function recorder(): Logger & { codes: string[]; messages: string[] } {
  const codes: string[] = [];
  const messages: string[] = [];
  const none = (): void => undefined;
  return {
    codes,
    messages,
    debug: none,
    info: none,
    error: none,
    warn: (fields, message) => {
      codes.push(String(fields['code']));
      messages.push(message ?? '');
    },
  };
}

const servers: Listening[] = [];
/** An app with one DPoP route; returns a function sending one honest DPoP request. */
async function app(options: Parameters<typeof jwtBearerScheme>[0], trustProxy: boolean): Promise<() => Promise<number>> {
  const a = express();
  if (trustProxy) a.set('trust proxy', 'loopback');
  a.get('/r', authenticate([jwtBearerScheme(options)]), (_req, res) => void res.json({ ok: true }));
  const server = await listen(a);
  servers.push(server);
  return async () => {
    const dpop = createDpopProof(holder, { method: 'GET', url: `${server.url}/r`, accessToken: token });
    return (await fetch(`${server.url}/r`, { headers: { authorization: `DPoP ${token}`, dpop } })).status;
  };
}
const base = { issuer: ISS, audience: AUD, publicKeys: [signer.publicKey] };

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('DPoP on several instances: what the per-process defaults do', () => {
  it('two instances on the defaults: a proof accepted by one is accepted again by the other; a nonce of one is refused by the other', async () => {
    // Both instances answer as http://api.example (`url`), as behind one balancer.
    const instance = async (nonces?: HmacDpopNonces): Promise<string> => {
      const a = express();
      a.get(
        '/r',
        authenticate([
          jwtBearerScheme({ ...base, validate: false, dpop: { url: 'http://api.example', ...(nonces === undefined ? {} : { nonces }) } }),
        ]),
        (_req, res) => void res.json({ ok: true }),
      );
      const server = await listen(a);
      servers.push(server);
      return `${server.url}/r`;
    };
    const send = (url: string, dpop: string): Promise<Response> => fetch(url, { headers: { authorization: `DPoP ${token}`, dpop } });
    const proofFor = (nonce?: string): string =>
      createDpopProof(holder, {
        method: 'GET',
        url: 'http://api.example/r',
        accessToken: token,
        ...(nonce === undefined ? {} : { nonce }),
      });
    const [one, two] = [await instance(), await instance()];
    const p = proofFor();
    expect((await send(one, p)).status).toBe(200);
    expect((await send(two, p)).status).toBe(200);
    expect((await send(one, p)).status).toBe(401);
    const [withNonceOne, withNonceTwo] = [await instance(new HmacDpopNonces()), await instance(new HmacDpopNonces())];
    const nonce = (await send(withNonceOne, proofFor())).headers.get('dpop-nonce') ?? '';
    expect((await send(withNonceOne, proofFor(nonce))).status).toBe(200);
    const refused = await send(withNonceTwo, proofFor(nonce));
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'use_dpop_nonce', reason: 'nonce_stale' });
  });
});

describe('DPoP on several instances: configuration warnings', () => {
  it('dpop_origins_unset is warned at start-up when DPoP is on without dpop.origins or dpop.url', () => {
    const warned = recorder();
    jwtBearerScheme({ ...base, logger: warned });
    expect(warned.codes).toEqual(['dpop_origins_unset']);
    for (const dpop of [{ origins: [AUD] }, { url: AUD }, { mode: 'disabled' as const }]) {
      const quiet = recorder();
      jwtBearerScheme({ ...base, logger: quiet, dpop });
      expect(quiet.codes).toEqual([]);
    }
    const off = recorder();
    jwtBearerScheme({ ...base, logger: off, validate: { dpop_origins_unset: false } });
    expect(off.codes).toEqual([]);
  });

  it('one instance (no trust proxy, no shared store): the per-process defaults are not warned about', async () => {
    const warned = recorder();
    const call = await app(
      { ...base, logger: warned, validate: { dpop_origins_unset: false }, dpop: { nonces: new HmacDpopNonces() } },
      false,
    );
    expect(await call()).toBe(401); // use_dpop_nonce: the proof carried none
    expect(warned.codes).toEqual([]);
  });

  it('trust proxy set: the memory replay store and a random nonce secret are warned about once, at the first DPoP request', async () => {
    const warned = recorder();
    const call = await app(
      { ...base, logger: warned, validate: { dpop_origins_unset: false }, dpop: { nonces: new HmacDpopNonces() } },
      true,
    );
    expect(warned.codes).toEqual([]);
    await call();
    await call();
    expect(warned.codes).toEqual(['dpop_per_process_state']);
    expect(warned.messages[0]).toMatch(/replayStore/);
    expect(warned.messages[0]).toMatch(/HmacDpopNonces/);
    expect(warned.messages[0]).toMatch(/trust proxy/);
  });

  it('a PostgreSQL store built anywhere in the process: the memory replay store is warned about', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    try {
      expect(new PostgresApiKeyStore(pool, { table: `dpop_instances_${process.pid}` })).toBeDefined();
      const warned = recorder();
      const call = await app({ ...base, logger: warned, validate: { dpop_origins_unset: false } }, false);
      expect(await call()).toBe(200);
      expect(warned.codes).toEqual(['dpop_per_process_state']);
      expect(warned.messages[0]).toMatch(/PostgreSQL/);
    } finally {
      await pool.end();
    }
  });

  it('a Redis store built anywhere in the process: the memory replay store is warned about; the multi-instance wiring is not', async () => {
    const client = new Redis(redisUrl(), { lazyConnect: true });
    try {
      const store = new RedisReplayStore(client, { keyPrefix: `authnz-test:dpop-instances:${process.pid}:` });
      const warned = recorder();
      const call = await app({ ...base, logger: warned, validate: { dpop_origins_unset: false } }, false);
      expect(await call()).toBe(200);
      expect(warned.codes).toEqual(['dpop_per_process_state']);
      expect(warned.messages[0]).toMatch(/Redis/);
      expect(warned.messages[0]).not.toMatch(/HmacDpopNonces/);
      const wired = recorder();
      const shared = await app(
        { ...base, logger: wired, dpop: { origins: [AUD], replayStore: store, nonces: new HmacDpopNonces({ secret: 's'.repeat(32) }) } },
        true,
      );
      await shared();
      expect(wired.codes).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});

describe('dpop.origins option', () => {
  it.each([
    [[], 'jwtBearerScheme(): "dpop.origins" must be a non-empty array of origins such as "https://api.example.com" (got an array)'],
    [
      'https://api.example',
      'jwtBearerScheme(): "dpop.origins" must be a non-empty array of origins such as "https://api.example.com" (got a string)',
    ],
    [
      ['https://api.example/v1'],
      'jwtBearerScheme(): "dpop.origins[0]" must be an http(s) origin without path, query or user info, such as "https://api.example.com" (got a string)',
    ],
    [
      [AUD, 'ftp://api.example'],
      'jwtBearerScheme(): "dpop.origins[1]" must be an http(s) origin without path, query or user info, such as "https://api.example.com" (got a string)',
    ],
    [
      ['https://user@api.example'],
      'jwtBearerScheme(): "dpop.origins[0]" must be an http(s) origin without path, query or user info, such as "https://api.example.com" (got a string)',
    ],
    [
      ['https://api.example?x=1'],
      'jwtBearerScheme(): "dpop.origins[0]" must be an http(s) origin without path, query or user info, such as "https://api.example.com" (got a string)',
    ],
    [
      [42],
      'jwtBearerScheme(): "dpop.origins[0]" must be an http(s) origin without path, query or user info, such as "https://api.example.com" (got 42)',
    ],
  ])('%j is refused with a TypeError', (origins, message) => {
    expect(() => jwtBearerScheme({ ...base, dpop: { origins: origins as readonly string[] } })).toThrow(new TypeError(message));
  });

  it('is refused together with dpop.url; a trailing slash, upper case and a default port are accepted', () => {
    expect(() => jwtBearerScheme({ ...base, dpop: { origins: [AUD], url: AUD } })).toThrow(
      new TypeError('jwtBearerScheme(): "dpop.origins" must be left unset when "dpop.url" is set (the URL names the origin)'),
    );
    expect(() =>
      jwtBearerScheme({
        ...base,
        validate: false,
        dpop: { origins: ['HTTPS://API.example:443/', 'http://127.0.0.1:8080', 'http://[::1]:3000'] },
      }),
    ).not.toThrow();
  });
});
