/**
 * The key directory resolver against real https servers on loopback (a test CA made with openssl):
 * the hostile rows of a client-chosen directory (redirect, slow, huge, too many keys, wrong media
 * type, private addresses, wrong kid), the cache headers, and outage versus refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';
import {
  DIRECTORY_MEDIA_TYPE,
  KeyDirectoryResolver,
  answerLifetimeSeconds,
  directoryOrigin,
  type KeyDirectoryOptions,
} from '../../src/protocols/http-signatures/directory.js';
import { fetchDirectory, isPrivateAddress } from '../../src/protocols/http-signatures/directory-fetch.js';
import { listenTls, testPki, type TlsServer, refusal } from './tls.js';

const keyA = generateKeyPairSync('ed25519').publicKey;
const keyB = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;

function jwks(keys: readonly KeyObject[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ keys: keys.map((k) => ({ ...k.export({ format: 'jwk' }), kid: jwkThumbprint(k), ...extra })) });
}

/** What the directory server answers, switchable per test. */
let answer: (req: IncomingMessage, res: ServerResponse) => void;
let server: TlsServer;

function directory(body: string, headers: Record<string, string> = {}): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': DIRECTORY_MEDIA_TYPE, ...headers });
    res.end(body);
  };
}

beforeAll(async () => {
  server = await listenTls((req, res) => answer(req, res));
});
afterAll(async () => {
  await server.close();
});

let clockMs = 1_800_000_000_000;
function resolver(options: KeyDirectoryOptions = {}): KeyDirectoryResolver {
  return new KeyDirectoryResolver({
    extraCa: testPki().caCert,
    allowPrivateAddresses: true,
    requireSignature: false,
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    clock: () => clockMs,
    timeoutMs: 10_000,
    ...options,
  });
}
const origin = (): string => `https://dir.test:${server.port}`;

describe('a directory that answers well', () => {
  it('gives its keys by JWK thumbprint, over the test CA, with the Accept of the draft', async () => {
    let accept: string | undefined;
    answer = (req, res) => {
      accept = req.headers.accept;
      directory(jwks([keyA, keyB]))(req, res);
    };
    const found = await resolver().getKey(origin(), jwkThumbprint(keyB));
    expect(found?.key.key.equals(keyB)).toBe(true);
    expect(found?.directory.origin).toBe(origin());
    expect(server.seen.at(-1)).toBe('GET /.well-known/http-message-signatures-directory');
    expect(accept).toBe(DIRECTORY_MEDIA_TYPE);
  });

  it('refuses a certificate from a CA it was not told to trust (503: cannot be fetched)', async () => {
    answer = directory(jwks([keyA]));
    const error = await refusal(resolver({ extraCa: [] }).resolve(origin()));
    expect([error.status, error.reason]).toEqual([503, 'directory_unavailable']);
  });
});

describe('hostile directories', () => {
  it('a redirect is refused, not followed', async () => {
    const before = server.seen.length;
    answer = (_req, res) => {
      res.writeHead(302, { location: `https://dir.test:${server.port}/elsewhere` });
      res.end();
    };
    const error = await refusal(resolver().resolve(origin()));
    expect([error.status, error.reason]).toEqual([401, 'directory_redirect']);
    expect(server.seen.length - before).toBe(1);
  });

  it('a directory that answers slowly is an outage (503) once timeoutMs pass', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': DIRECTORY_MEDIA_TYPE });
      res.write('{"keys":[');
    };
    const error = await refusal(resolver({ timeoutMs: 200 }).resolve(origin()));
    expect([error.status, error.reason]).toEqual([503, 'directory_unavailable']);
    expect(error.retryAfter).toBeGreaterThan(0);
  });

  it('a huge directory is refused past maxBytes, declared or streamed', async () => {
    answer = directory(jwks([keyA]) + ' '.repeat(5000));
    expect((await refusal(resolver({ maxBytes: 4096 }).resolve(origin()))).reason).toBe('directory_too_large');
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': DIRECTORY_MEDIA_TYPE });
      res.write(' '.repeat(3000));
      res.end(' '.repeat(3000));
    };
    expect((await refusal(resolver({ maxBytes: 4096 }).resolve(origin()))).reason).toBe('directory_too_large');
  });

  it('a directory with more keys than maxKeys is refused whole', async () => {
    answer = directory(jwks([keyA, keyB]));
    const error = await refusal(resolver({ maxKeys: 1 }).resolve(origin()));
    expect([error.status, error.reason]).toEqual([401, 'directory_too_large']);
    await expect(resolver({ maxKeys: 2 }).resolve(origin())).resolves.toBeDefined();
  });

  it('the wrong media type is refused', async () => {
    answer = directory(jwks([keyA]), { 'content-type': 'application/json' });
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_invalid');
  });

  it('a kid that is not the key thumbprint is refused, and a keyid not in the set is unknown', async () => {
    answer = directory(JSON.stringify({ keys: [{ ...keyA.export({ format: 'jwk' }), kid: jwkThumbprint(keyB) }] }));
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_invalid');
    answer = directory(jwks([keyA]));
    await expect(resolver({ negativeCacheSeconds: 0 }).getKey(origin(), jwkThumbprint(keyB))).resolves.toBeUndefined();
  });

  it.each([
    ['use "enc"', false, { use: 'enc' }],
    ['key_ops without "verify"', false, { key_ops: ['encrypt'] }],
    ['key_ops that is not a list', false, { key_ops: 'verify' }],
    ['use "sig"', true, { use: 'sig' }],
    ['key_ops ["verify"]', true, { key_ops: ['verify'] }],
  ])('a directory key with %s is used for signatures: %s', async (_, usable, extra) => {
    answer = directory(jwks([keyA], extra), { 'cache-control': 'no-store' });
    const found = await resolver({ negativeCacheSeconds: 0 }).getKey(origin(), jwkThumbprint(keyA));
    expect(found !== undefined).toBe(usable);
  });

  it('a private key, a non-RFC 9421 alg, and a non-JWKS body are refused', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    answer = directory(JSON.stringify({ keys: [privateKey.export({ format: 'jwk' })] }));
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_invalid');
    answer = directory(jwks([keyA], { alg: 'EdDSA' }));
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_invalid');
    answer = directory('{"no":"keys"}');
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_invalid');
  });

  it.each([
    ['127.0.0.1', 4],
    ['10.1.2.3', 4],
    ['169.254.169.254', 4],
    ['::1', 6],
    ['::ffff:127.0.0.1', 6],
    ['fd00::1', 6],
  ] as const)('a name resolving to %s is refused before any connection', async (address, family) => {
    const before = server.seen.length;
    answer = directory(jwks([keyA]));
    const error = await refusal(
      resolver({ allowPrivateAddresses: false, lookup: async () => [{ address, family }] }).resolve(`https://private.test:${server.port}`),
    );
    expect([error.status, error.reason]).toEqual([401, 'directory_private_address']);
    expect(server.seen.length).toBe(before);
  });

  it('one private answer among public ones refuses the name', async () => {
    const error = await refusal(
      resolver({
        allowPrivateAddresses: false,
        lookup: async () => [
          { address: '93.184.216.34', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ],
      }).resolve(`https://private.test:${server.port}`),
    );
    expect(error.reason).toBe('directory_private_address');
  });

  it('a literal private address in the Signature-Agent is refused', async () => {
    expect((await refusal(resolver({ allowPrivateAddresses: false }).resolve(`https://127.0.0.1:${server.port}`))).reason).toBe(
      'directory_private_address',
    );
  });

  it.each([
    '2130706433',
    '0x7f.1',
    '0177.0.0.1',
    '127.1',
    '0.0.0.0',
    '[::]',
    '[::ffff:7f00:1]',
    '[0:0:0:0:0:ffff:7f00:1]',
    '[::127.0.0.1]',
    '[64:ff9b::a00:1]',
    '[2002:7f00:1::]',
    '[2001:0:4136:e378:8000:63bf:3fff:fdd2]',
    '100.64.0.1',
    '198.18.0.1',
    '224.0.0.1',
  ])('a literal private address spelt %s in the Signature-Agent is refused without a connection', async (host) => {
    const before = server.seen.length;
    const error = await refusal(resolver({ allowPrivateAddresses: false }).resolve(`https://${host}:${server.port}`));
    expect([host, error.reason]).toEqual([host, 'directory_private_address']);
    expect(server.seen.length).toBe(before);
  });

  it('an origin off the allow-list, http, a path or user info is refused without a fetch', async () => {
    const before = server.seen.length;
    const list = resolver({ origins: ['https://agent.test'] });
    expect((await refusal(list.resolve(origin()))).reason).toBe('directory_not_allowed');
    for (const value of [`http://dir.test:${server.port}`, `${origin()}/keys`, `https://u:p@dir.test:${server.port}`, `${origin()}?q=1`])
      expect((await refusal(resolver().resolve(value))).reason).toBe('directory_not_allowed');
    expect(server.seen.length).toBe(before);
  });
});

describe('caching', () => {
  it('honours max-age: the second lookup does not fetch, one after max-age does', async () => {
    answer = directory(jwks([keyA]), { 'cache-control': 'max-age=600' });
    const r = resolver({ minCacheSeconds: 60 });
    const before = server.seen.length;
    await r.resolve(origin());
    await r.resolve(origin());
    expect(server.seen.length - before).toBe(1);
    clockMs += 599_000;
    await r.resolve(origin());
    expect(server.seen.length - before).toBe(1);
    clockMs += 2000;
    await r.resolve(origin());
    expect(server.seen.length - before).toBe(2);
  });

  it('clamps the lifetime to the floor and the ceiling', async () => {
    answer = directory(jwks([keyA]), { 'cache-control': 'no-store' });
    const r = resolver({ minCacheSeconds: 30, cacheSeconds: 100 });
    const before = server.seen.length;
    await r.resolve(origin());
    clockMs += 29_000;
    await r.resolve(origin());
    expect(server.seen.length - before).toBe(1);
    answer = directory(jwks([keyA]), { 'cache-control': 'max-age=999999' });
    clockMs += 2000;
    await r.resolve(origin());
    clockMs += 101_000;
    await r.resolve(origin());
    expect(server.seen.length - before).toBe(3);
  });

  it('serves stale keys during an outage for staleSeconds, then answers 503', async () => {
    answer = directory(jwks([keyA]), { 'cache-control': 'max-age=60' });
    const r = resolver({ minCacheSeconds: 60, staleSeconds: 300, negativeCacheSeconds: 0 });
    await r.resolve(origin());
    answer = (_req, res) => {
      res.writeHead(503);
      res.end();
    };
    clockMs += 120_000;
    expect((await r.getKey(origin(), jwkThumbprint(keyA)))?.key.key.equals(keyA)).toBe(true);
    clockMs += 300_000;
    const error = await refusal(r.resolve(origin()));
    expect([error.status, error.reason]).toEqual([503, 'directory_unavailable']);
  });

  it('a directory that answers and drops a key replaces the cached one', async () => {
    answer = directory(jwks([keyA, keyB]), { 'cache-control': 'max-age=60' });
    const r = resolver({ minCacheSeconds: 60 });
    expect(await r.getKey(origin(), jwkThumbprint(keyB))).toBeDefined();
    answer = directory(jwks([keyA]), { 'cache-control': 'max-age=60' });
    clockMs += 61_000;
    expect(await r.getKey(origin(), jwkThumbprint(keyB))).toBeUndefined();
  });

  it('remembers a refusal for negativeCacheSeconds instead of fetching per request', async () => {
    answer = directory(jwks([keyA]), { 'content-type': 'text/plain' });
    const r = resolver({ negativeCacheSeconds: 30 });
    const before = server.seen.length;
    expect((await refusal(r.resolve(origin()))).reason).toBe('directory_invalid');
    expect((await refusal(r.resolve(origin()))).reason).toBe('directory_invalid');
    expect(server.seen.length - before).toBe(1);
    clockMs += 31_000;
    answer = directory(jwks([keyA]));
    await expect(r.resolve(origin())).resolves.toBeDefined();
  });

  it('at most maxConcurrentFetches directories are fetched at once: a further new origin is 503, not one more outbound call', async () => {
    answer = directory(jwks([keyA]));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const looked: string[] = [];
    const r = resolver({
      maxConcurrentFetches: 2,
      lookup: async (hostname) => {
        looked.push(hostname);
        await gate;
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    const first = r.resolve(`https://agent.test:${server.port}`);
    const second = r.resolve(`https://other.test:${server.port}`);
    const sameAsFirst = r.resolve(`https://agent.test:${server.port}`);
    const third = await refusal(r.resolve(`https://crawler.example:${server.port}`));
    expect([third.status, third.reason, third.retryAfter]).toEqual([503, 'directory_unavailable', 1]);
    release();
    await Promise.all([first, second, sameAsFirst]);
    expect(looked).toEqual(['agent.test', 'other.test']);
    // The refusal is not remembered against the origin: once a slot is free, it is fetched.
    await expect(r.resolve(`https://crawler.example:${server.port}`)).resolves.toBeDefined();
    expect(looked).toEqual(['agent.test', 'other.test', 'crawler.example']);
  });

  it('each fetch is an authnz:dependency event (target key_directory), refusals with their reason', async () => {
    const events: Array<{ target: string; outcome: string; reason: string | undefined; url: string | undefined }> = [];
    const listener = (message: unknown): void => {
      const { target, outcome, reason, url } = message as {
        target: string;
        outcome: string;
        reason: string | undefined;
        url: string | undefined;
      };
      if (target === 'key_directory') events.push({ target, outcome, reason, url });
    };
    subscribe('authnz:dependency', listener);
    try {
      answer = directory(jwks([keyA]));
      await resolver().resolve(origin());
      answer = directory(jwks([keyA]), { 'content-type': 'text/plain' });
      await refusal(resolver().resolve(origin()));
    } finally {
      unsubscribe('authnz:dependency', listener);
    }
    const url = `${origin()}/.well-known/http-message-signatures-directory`;
    expect(events).toEqual([
      { target: 'key_directory', outcome: 'ok', reason: undefined, url },
      { target: 'key_directory', outcome: 'error', reason: 'directory_invalid', url },
    ]);
  });

  it('concurrent lookups share one fetch', async () => {
    answer = directory(jwks([keyA]));
    const r = resolver();
    const before = server.seen.length;
    await Promise.all([r.resolve(origin()), r.resolve(origin()), r.resolve(origin())]);
    expect(server.seen.length - before).toBe(1);
  });
});

describe('pieces', () => {
  it('reads lifetimes from Cache-Control and Expires', () => {
    expect(answerLifetimeSeconds({ 'cache-control': 'public, max-age=120' }, 0)).toBe(120);
    expect(answerLifetimeSeconds({ 'cache-control': 'max-age=120, no-cache' }, 0)).toBe(0);
    expect(answerLifetimeSeconds({ expires: 'Thu, 01 Jan 1970 00:10:00 GMT', date: 'Thu, 01 Jan 1970 00:05:00 GMT' }, 0)).toBe(300);
    expect(answerLifetimeSeconds({ expires: 'soon' }, 0)).toBe(0);
    expect(answerLifetimeSeconds({}, 0)).toBeUndefined();
  });

  it('accepts only https origins as Signature-Agent values', () => {
    expect(directoryOrigin('https://Bot.Example')).toBe('https://bot.example');
    expect(directoryOrigin('https://bot.example/')).toBe('https://bot.example');
    expect(directoryOrigin('https://bot.example:443')).toBe('https://bot.example');
    for (const bad of ['http://bot.example', 'https://bot.example/x', 'https://bot.example#f', 'bot.example', 'https://a@bot.example'])
      expect(directoryOrigin(bad)).toBeUndefined();
    // One operator, one origin: the spellings the URL parser folds (case, default port, IDN) name
    // the same directory and principal; a trailing dot, which it keeps, would be a second name.
    expect(['https://BOT.Example:443', 'https://bot.example:0443/'].map(directoryOrigin)).toEqual([
      'https://bot.example',
      'https://bot.example',
    ]);
    expect(directoryOrigin('https://bücher.example')).toBe('https://xn--bcher-kva.example');
    for (const alias of ['https://bot.example.', 'https://bot.example.:443/', 'https://bot.example%2e', 'https://bot.example..'])
      expect([alias, directoryOrigin(alias)]).toEqual([alias, undefined]);
  });

  it('classifies addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
      // Every other IPv6 form that carries (or is routed to) an IPv4 address, and the rest of the
      // special-purpose ranges: IPv4-compatible, the long mapped form, SIIT, local-use NAT64,
      // 6to4, Teredo, ORCHID, documentation; and the IPv4 ones.
      '::127.0.0.1',
      '::7f00:1',
      '0:0:0:0:0:ffff:7f00:1',
      '::ffff:0:a00:1',
      '64:ff9b:1::a00:1',
      '2002:7f00:1::',
      '2002:a9fe:a9fe::1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '2001:10::1',
      '2001:db8::1',
      '3fff::1',
      '5f00::1',
      '198.18.0.1',
      '198.19.255.255',
      '224.0.0.1',
      '255.255.255.255',
      '192.0.2.1',
      '198.51.100.1',
      '203.0.113.1',
      'not-an-ip',
    ])
      expect([address, isPrivateAddress(address)]).toEqual([address, true]);
    for (const address of [
      '93.184.216.34',
      '2606:4700::1111',
      '::ffff:93.184.216.34',
      '2002:5db8:d822::1',
      '64:ff9b::5db8:d822',
      '1.1.1.1',
      '2a00:1450::1',
    ])
      expect([address, isPrivateAddress(address)]).toEqual([address, false]);
  });

  it('checks its options when built: ranges, the allow-list, unknown names', () => {
    expect(() => new KeyDirectoryResolver({ requireSignature: false, maxConcurrentFetches: 0 })).toThrow('"maxConcurrentFetches"');
    expect(() => new KeyDirectoryResolver({ requireSignature: false, minCacheSeconds: 100, cacheSeconds: 10 })).toThrow(
      'new KeyDirectoryResolver(): "minCacheSeconds" must be at most "cacheSeconds" (got 100)',
    );
    expect(() => new KeyDirectoryResolver({ requireSignature: false, origins: ['https://bot.example/keys'] })).toThrow(TypeError);
    expect(() => new KeyDirectoryResolver({ requireSignature: false, maxKeys: 0 })).toThrow(TypeError);
    expect(() => new KeyDirectoryResolver({})).toThrow('"requireSignature" must be false when no signature check is given');
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (_f: Record<string, unknown>, m?: string) => void warnings.push(m ?? ''),
    };
    new KeyDirectoryResolver({ requireSignature: false, logger, ...({ timeout: 5 } as object) });
    expect(warnings).toEqual([expect.stringContaining('unknown option "timeout"')]);
    expect(warnings[0]).toContain('did you mean "timeoutMs"?');
  });

  it('fetches over https only', async () => {
    await expect(
      fetchDirectory(new URL('http://dir.test/'), '*/*', {
        timeoutMs: 100,
        maxBytes: 10,
        allowPrivateAddresses: true,
        extraCa: [],
        lookup: async () => [],
      }),
    ).rejects.toMatchObject({ code: 'directory_not_https' });
  });
});
