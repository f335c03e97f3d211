/**
 * Configuration warnings: named checks with codes, each reported once per instance through the
 * logger, each switchable with `validate`. And the optional peer check of `rateLimit()` with
 * rate-limiter-flexible really absent (the built package copied where it cannot be resolved).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import express from 'express';
import request from 'supertest';
import { RemoteJwks, apiJwtScheme, asymmetricJwtScheme, bruteForce, rateLimit, type Logger } from '../../src/index.js';

interface Line {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string | undefined;
}

function recorder(): Logger & { lines: Line[]; codes(): unknown[] } {
  const lines: Line[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message?: string) => {
    lines.push({ level, fields, message });
  };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    codes: () => lines.map((l) => l.fields['code']),
  };
}

const RSA_PUBLIC = readFileSync(new URL('../fixtures/asymmetric-jwt/keys/rsa_public.pem', import.meta.url), 'utf8');

describe('configuration warnings', () => {
  it('unknown_option names the unknown key and the closest known one, once per key', () => {
    const logger = recorder();
    apiJwtScheme({ publicKeys: RSA_PUBLIC, logger, ...({ clockTolerance: 5, cacheMaxAge: 1 } as object) });
    expect(logger.lines.map((l) => [l.level, l.fields['code'], l.fields['option'], l.message])).toEqual([
      [
        'warn',
        'unknown_option',
        'clockTolerance',
        'apiJwtScheme(): unknown option "clockTolerance" (did you mean "clockToleranceSeconds"?); it is ignored',
      ],
      ['warn', 'unknown_option', 'cacheMaxAge', 'apiJwtScheme(): unknown option "cacheMaxAge" (did you mean "cache"?); it is ignored'],
    ]);
  });

  it('validate: false and validate: { code: false } switch checks off', () => {
    const logger = recorder();
    apiJwtScheme({ publicKeys: RSA_PUBLIC, logger, validate: false, ...({ clockTolerance: 5 } as object) });
    apiJwtScheme({ publicKeys: RSA_PUBLIC, logger, validate: { unknown_option: false }, ...({ clockTolerance: 5 } as object) });
    expect(logger.lines).toEqual([]);
  });

  it('xff_without_trust_proxy: X-Forwarded-For with trust proxy off warns once per limiter; with trust proxy on it does not', async () => {
    const logger = recorder();
    const app = express();
    app.get('/', rateLimit({ limit: 100, windowSeconds: 60, logger, keyPrefix: 'warn-xff:' }), (_req, res) => void res.send('ok'));
    await request(app).get('/').expect(200);
    expect(logger.lines).toEqual([]);
    for (let i = 0; i < 3; i++) await request(app).get('/').set('X-Forwarded-For', `203.0.113.${i}`).expect(200);
    expect(logger.codes()).toEqual(['xff_without_trust_proxy']);
    expect(logger.lines[0]?.message).toMatch(
      /^rateLimit\(\): an X-Forwarded-For header arrived but Express's "trust proxy" setting is off/,
    );

    const trusted = recorder();
    const behindProxy = express();
    behindProxy.set('trust proxy', 1);
    behindProxy.get(
      '/',
      rateLimit({ limit: 100, windowSeconds: 60, logger: trusted, keyPrefix: 'warn-xff2:' }),
      (_req, res) => void res.send('ok'),
    );
    await request(behindProxy).get('/').set('X-Forwarded-For', '203.0.113.9').expect(200);
    expect(trusted.lines).toEqual([]);
  });

  it('limiter_in_request: an in-memory limiter built inside a request handler warns from the second request on', async () => {
    const logger = recorder();
    const app = express();
    app.get('/', (_req, res) => {
      bruteForce({ logger, keyPrefix: 'warn-per-request:' });
      res.send('ok');
    });
    await request(app).get('/').expect(200);
    expect(logger.lines).toEqual([]); // the first build cannot be told from a build at start-up
    await request(app).get('/').expect(200);
    expect(logger.codes()).toEqual(['limiter_in_request']);
    expect(logger.lines[0]?.fields['namespace']).toBe('warn-per-request:');
    expect(logger.lines[0]?.message).toBe(
      'bruteForce(): another in-memory limiter of this process already counts under "warn-per-request:": each instance keeps its own counters, so a limiter built inside a request handler starts from zero on every request; build it once, at start-up, and reuse it (or give each its own name or keyPrefix)',
    );
  });

  it('limiter_in_request: limiters with their own names, or with a store of their own, do not warn', () => {
    const logger = recorder();
    rateLimit({ name: 'a', limit: 1, windowSeconds: 1, keyPrefix: 'warn-names:', logger });
    rateLimit({ name: 'b', limit: 1, windowSeconds: 1, keyPrefix: 'warn-names:', logger });
    const shared = (): never => {
      throw new Error('not called at construction');
    };
    rateLimit({ name: 'c', limit: 1, windowSeconds: 1, keyPrefix: 'warn-names:', factory: shared, logger });
    rateLimit({ name: 'c', limit: 1, windowSeconds: 1, keyPrefix: 'warn-names:', factory: shared, logger });
    expect(logger.lines).toEqual([]);
    rateLimit({ name: 'a', limit: 1, windowSeconds: 1, keyPrefix: 'warn-names:', logger, validate: { limiter_in_request: false } });
    expect(logger.lines).toEqual([]);
    rateLimit({ name: 'a', limit: 1, windowSeconds: 1, keyPrefix: 'warn-names:', logger });
    expect(logger.codes()).toEqual(['limiter_in_request']);
  });

  it('jwks_entry_skipped: an unusable JWK Set entry is named by kid, once', async () => {
    const logger = recorder();
    const body = JSON.stringify({ keys: [{ kty: 'RSA', kid: 'broken', n: 'AQAB', e: 'AQAB' }] });
    const fetchStub = (async () => new Response(body, { status: 200 })) as unknown as typeof fetch;
    const jwks = new RemoteJwks('http://127.0.0.1:9/jwks', { fetch: fetchStub, logger, cacheSeconds: 0, cooldownMs: 0 });
    expect(await jwks.getKey('broken')).toBeUndefined();
    expect(await jwks.getKey('broken')).toBeUndefined();
    expect(logger.codes()).toEqual(['jwks_entry_skipped']);
    expect(logger.lines[0]?.message).toMatch(
      /^new RemoteJwks\(\): the JWK Set at http:\/\/127\.0\.0\.1:9\/jwks has an entry that cannot be used \(kid "broken": key_/,
    );
  });

  it('stored_key_skipped: a key from a lookup function that cannot be read is skipped with a warning', async () => {
    const logger = recorder();
    const record = { publicKeys: ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', RSA_PUBLIC] };
    const scheme = asymmetricJwtScheme({ users: (name) => (name === 'svc' ? record : undefined), logger });
    const token = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"username":"svc","time":1,"nonce":"n"}').toString('base64url')}.AAAA`;
    await expect(scheme.authenticate({ headers: { authorization: `JWT ${token}` } })).rejects.toMatchObject({ code: 'token_invalid' });
    expect(logger.codes()).toEqual(['stored_key_skipped']);
    expect(logger.lines[0]?.message).toBe('asymmetricJwtScheme(): key 0 of user "svc" cannot be used (key_unreadable); it is skipped');
  });
});

describe('rateLimit() without rate-limiter-flexible installed', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  let dir = '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses at construction with a clear message instead of answering 503 to every request', () => {
    expect(existsSync(join(root, 'dist', 'index.js'))).toBe(true); // built by `npm test`'s pretest
    dir = mkdtempSync(join(tmpdir(), 'authnz-nopeer-'));
    const pkg = join(dir, 'node_modules', 'authnz-express');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    // The package's own dependencies (as package.json lists them) are present; the optional peer is not.
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies)) symlinkSync(join(root, 'node_modules', dep), join(dir, 'node_modules', dep));
    const script = join(dir, 'probe.mjs');
    writeFileSync(
      script,
      `import { rateLimit, bruteForce, memoryLimiterFactory } from 'authnz-express';
const own = () => ({ points: 1, consume: async () => ({ msBeforeNext: 0, remainingPoints: 0, consumedPoints: 1 }), get: async () => null, delete: async () => true });
const out = [];
for (const build of [() => rateLimit({ limit: 1, windowSeconds: 1 }), () => bruteForce(), () => rateLimit({ limit: 1, windowSeconds: 1, factory: memoryLimiterFactory }), () => rateLimit({ limit: 1, windowSeconds: 1, factory: own })]) {
  try { build(); out.push('built'); } catch (e) { out.push(e.constructor.name + ': ' + e.message); }
}
console.log(JSON.stringify(out));`,
    );
    const out = JSON.parse(execFileSync(process.execPath, [script], { cwd: dir, encoding: 'utf8' })) as string[];
    expect(out).toEqual([
      'TypeError: rateLimit(): the default in-memory limiter needs the optional package "rate-limiter-flexible", which is not installed (npm install rate-limiter-flexible)',
      'TypeError: bruteForce(): the default in-memory limiter needs the optional package "rate-limiter-flexible", which is not installed (npm install rate-limiter-flexible)',
      'TypeError: rateLimit(): the default in-memory limiter needs the optional package "rate-limiter-flexible", which is not installed (npm install rate-limiter-flexible)',
      // A factory of the application's own needs no rate-limiter-flexible.
      'built',
    ]);
  });
});
