/**
 * httpSignatureScheme() in a real Express app: what it accepts (every algorithm, the principal it
 * gives), what it asks for (the challenge and Accept-Signature), and how it is configured.
 */
import request from 'supertest';
import { createPublicKey, createSecretKey, generateKeyPairSync } from 'node:crypto';
import { AuthError, authenticate, httpSignatureScheme, MemoryReplayStore } from '../../src/index.js';
import express from 'express';
import { listen, type Listening } from '../helpers/http.js';
import { ed, HOST, ORIGIN, p256, p384, PUBLIC_KEYS, rsa, secret, signedApp, signedHeaders } from './helpers.js';

describe('httpSignatureScheme: accepted requests', () => {
  const app = signedApp({ sharedSecrets: { 'hmac-1': { secret, subject: 'hmac-service' } } });

  it.each([
    ['ed25519', 'ed-1', ed.privateKey, undefined, 'billing-service'],
    ['ecdsa-p256-sha256', 'p256-1', p256.privateKey, undefined, 'p256-service'],
    ['ecdsa-p384-sha384', 'p384-1', p384.privateKey, undefined, 'p384-service'],
    ['rsa-pss-sha512', 'rsa-pss-1', rsa.privateKey, 'rsa-pss-sha512', 'rsa-service'],
    ['hmac-sha256', 'hmac-1', secret, undefined, 'hmac-service'],
  ] as const)('%s: 200 with the key owner as subject', async (algorithm, keyId, key, explicit, subject) => {
    const headers = signedHeaders({}, { keyId, key, ...(explicit === undefined ? {} : { algorithm: explicit }) });
    const res = await request(app).get('/r').set(headers);
    expect(res.status).toBe(200);
    const principal = (res.body as { principal: Record<string, unknown> }).principal;
    expect(principal).toMatchObject({ subject, scheme: 'http-signature', kind: 'service' });
    expect(principal['details']).toMatchObject({
      keyId,
      algorithm,
      label: 'sig1',
      components: ['"@method"', '"@authority"', '"@target-uri"'],
    });
  });

  it('gives the tag, created, expires and nonce in the details, and the key entry scopes', async () => {
    const created = Math.floor(Date.now() / 1000);
    const headers = signedHeaders({}, { params: { created, expires: created + 60, nonce: 'n-1', tag: 'orders' } });
    const res = await request(app).get('/r').set(headers);
    expect(res.status).toBe(200);
    const principal = (res.body as { principal: { scopes: string[]; details: Record<string, unknown> } }).principal;
    expect(principal.scopes).toEqual(['orders:read']);
    expect(principal.details).toMatchObject({ tag: 'orders', created, expiresAt: created + 60, nonce: 'n-1' });
  });

  it('accepts @path with @query in place of @target-uri, with a query string', async () => {
    const headers = signedHeaders({ path: '/r?a=1' }, { components: ['@method', '@authority', '@path', '@query'] });
    expect((await request(app).get('/r?a=1').set(headers)).status).toBe(200);
  });

  it('takes keys from a keyResolver with the details it adds, after the static maps', async () => {
    const seen: string[] = [];
    const resolverApp = signedApp({
      keyResolver: (keyId, context) => {
        seen.push(`${keyId} ${context.entry.label} ${context.message.targetUri ?? ''}`);
        return keyId === 'dyn-1' ? { key: ed.publicKey, subject: 'dynamic', details: { source: 'directory' } } : undefined;
      },
    });
    const res = await request(resolverApp)
      .get('/r')
      .set(signedHeaders({}, { keyId: 'dyn-1' }));
    expect(res.status).toBe(200);
    expect((res.body as { principal: { subject: string; details: Record<string, unknown> } }).principal).toMatchObject({
      subject: 'dynamic',
      details: { source: 'directory', keyId: 'dyn-1' },
    });
    expect((await request(resolverApp).get('/r').set(signedHeaders())).status).toBe(200);
    expect(seen).toEqual([`dyn-1 sig1 ${ORIGIN}/r`]);
  });
});

describe('httpSignatureScheme: keys', () => {
  let jwks: Listening;
  beforeAll(async () => {
    const jwk = { ...p256.publicKey.export({ format: 'jwk' }), kid: 'jwks-p256', use: 'sig' };
    jwks = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
  });
  afterAll(() => jwks.close());

  it('takes keys from jwksUri by kid, with the keyid as subject', async () => {
    const app = signedApp({ publicKeys: {}, jwksUri: `${jwks.url}/jwks.json` });
    const res = await request(app)
      .get('/r')
      .set(signedHeaders({}, { key: p256.privateKey, keyId: 'jwks-p256' }));
    expect(res.status).toBe(200);
    expect((res.body as { principal: { subject: string } }).principal.subject).toBe('jwks-p256');
    const unknown = await request(app)
      .get('/r')
      .set(signedHeaders({}, { key: p256.privateKey, keyId: 'jwks-other' }));
    expect([unknown.status, (unknown.body as { reason?: string }).reason]).toEqual([401, 'key_unknown']);
  });

  it('a keyResolver that fails answers 503 key_lookup_unavailable; an AuthError it throws is answered as is', async () => {
    const down = signedApp({
      keyResolver: (keyId) => {
        if (keyId === 'auth-error') throw new AuthError('forbidden', { reason: 'forbidden', detail: 'Blocked agent.' });
        throw new Error('database down');
      },
    });
    const res = await request(down)
      .get('/r')
      .set(signedHeaders({}, { keyId: 'dyn-1' }));
    expect([res.status, (res.body as { reason?: string }).reason, res.headers['retry-after']]).toEqual([
      503,
      'key_lookup_unavailable',
      '5',
    ]);
    const blocked = await request(down)
      .get('/r')
      .set(signedHeaders({}, { keyId: 'auth-error' }));
    expect([blocked.status, (blocked.body as { reason?: string }).reason]).toEqual([403, 'forbidden']);
  });

  it('a keyResolver key given as bytes or text is a public key, never an HMAC secret unless it says algorithms: ["hmac-sha256"]', async () => {
    // A resolver reading a PEM from a file or a bytea column hands over a Buffer; the PEM is public,
    // so treating it as an HMAC secret would let anyone sign.
    const pem = ed.publicKey.export({ type: 'spki', format: 'pem' });
    const app = signedApp({
      keyResolver: (keyId) =>
        keyId === 'pem-bytes'
          ? { key: Buffer.from(pem), subject: 'bytes' }
          : keyId === 'pem-text'
            ? { key: pem as unknown as Uint8Array, subject: 'text' }
            : keyId === 'secret-object'
              ? { key: createSecretKey(Buffer.from(pem)), subject: 'secret' }
              : keyId === 'hmac'
                ? { key: Buffer.from(pem), algorithms: ['hmac-sha256'], subject: 'hmac' }
                : undefined,
    });
    const forged = (keyId: string): Record<string, string> => signedHeaders({}, { keyId, key: Buffer.from(pem), algorithm: 'hmac-sha256' });
    const replies = [];
    for (const headers of [
      forged('pem-bytes'),
      forged('pem-text'),
      forged('secret-object'),
      signedHeaders({}, { keyId: 'pem-bytes' }),
      signedHeaders({}, { keyId: 'pem-text' }),
      forged('hmac'),
    ]) {
      const res = await request(app).get('/r').set(headers);
      replies.push([
        res.status,
        (res.body as { reason?: string; principal?: { subject: string } }).reason ??
          (res.body as { principal?: { subject: string } }).principal?.subject,
      ]);
    }
    // The HMAC over the PEM is checked as an Ed25519 signature (the key decides), so it fails.
    expect(replies).toEqual([
      [401, 'signature_invalid'],
      [401, 'signature_invalid'],
      [401, 'algorithm_not_allowed'],
      [200, 'bytes'],
      [200, 'text'],
      [200, 'hmac'],
    ]);
  });

  it('a key the keyResolver stops returning stops verifying at once (rotation after key theft)', async () => {
    let revoked = false;
    const app = signedApp({ keyResolver: (keyId) => (keyId === 'dyn-1' && !revoked ? { key: ed.publicKey } : undefined) });
    expect(
      (
        await request(app)
          .get('/r')
          .set(signedHeaders({}, { keyId: 'dyn-1' }))
      ).status,
    ).toBe(200);
    revoked = true;
    const res = await request(app)
      .get('/r')
      .set(signedHeaders({}, { keyId: 'dyn-1' }));
    expect([res.status, (res.body as { reason?: string }).reason]).toEqual([401, 'key_unknown']);
  });

  it('an RSA key without "algorithm" accepts either RSA algorithm only when the signature names it in alg', async () => {
    const app = signedApp({ publicKeys: { 'rsa-any': { key: rsa.publicKey } } });
    const named = signedHeaders({}, { key: rsa.privateKey, keyId: 'rsa-any', algorithm: 'rsa-v1_5-sha256', params: { alg: true } });
    expect((await request(app).get('/r').set(named)).status).toBe(200);
    const unnamed = signedHeaders({}, { key: rsa.privateKey, keyId: 'rsa-any', algorithm: 'rsa-pss-sha512' });
    const res = await request(app).get('/r').set(unnamed);
    expect([res.status, (res.body as { reason?: string }).reason]).toEqual([401, 'algorithm_not_allowed']);
  });
});

describe('httpSignatureScheme: what it asks for', () => {
  it('answers an unsigned request with the Signature challenge and Accept-Signature naming the required components', async () => {
    const res = await request(signedApp({ tag: 'orders', nonce: 'required' }))
      .get('/r')
      .set('host', HOST);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Signature');
    expect(res.headers['accept-signature']).toBe('sig1=("@method" "@authority" "@target-uri");created;nonce;tag="orders"');
  });

  it('a signature for another tag is no credential of this scheme: 401 credentials_missing, or anonymous on an optional route', async () => {
    const other = signedHeaders({}, { params: { tag: 'someone-else' } });
    const refused = await request(signedApp({ tag: 'orders' }))
      .get('/r')
      .set(other);
    expect([refused.status, (refused.body as { code?: string }).code]).toEqual([401, 'credentials_missing']);
    expect(refused.headers['accept-signature']).toBe('sig1=("@method" "@authority" "@target-uri");created;tag="orders"');
    const optional = express();
    optional.get(
      '/r',
      authenticate([httpSignatureScheme({ origins: [ORIGIN], publicKeys: PUBLIC_KEYS, tag: 'orders' })], { optional: true }),
      (req, res) => {
        res.json({ anonymous: req.principal === undefined });
      },
    );
    const anonymous = await request(optional).get('/r').set(other);
    expect([anonymous.status, anonymous.body]).toEqual([200, { anonymous: true }]);
  });

  it('sends Accept-Signature with its 401s, and not at all when acceptSignature is false', async () => {
    const refused = await request(signedApp())
      .get('/r')
      .set(signedHeaders({}, { keyId: 'nobody' }));
    expect(refused.status).toBe(401);
    expect(refused.headers['accept-signature']).toBe('sig1=("@method" "@authority" "@target-uri");created');
    expect(refused.headers['www-authenticate']).toContain('Signature error="invalid_signature"');
    const quiet = await request(signedApp({ acceptSignature: false }))
      .get('/r')
      .set('host', HOST);
    expect(quiet.status).toBe(401);
    expect(quiet.headers['accept-signature']).toBeUndefined();
  });
});

const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
const k256 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;

describe('httpSignatureScheme: defaults', () => {
  const app = signedApp();
  const now = (): number => Math.floor(Date.now() / 1000);

  it('maxSignatureAgeSeconds 300 with clockToleranceSeconds 5: 290 s old is accepted, 320 s old is too old', async () => {
    expect(
      (
        await request(app)
          .get('/r')
          .set(signedHeaders({}, { params: { created: now() - 290 } }))
      ).status,
    ).toBe(200);
    const old = await request(app)
      .get('/r')
      .set(signedHeaders({}, { params: { created: now() - 320 } }));
    expect([old.status, (old.body as { reason?: string }).reason]).toEqual([401, 'too_old']);
    const ahead = await request(app)
      .get('/r')
      .set(signedHeaders({}, { params: { created: now() + 3 } }));
    expect(ahead.status).toBe(200);
  });

  it('fieldTypes: sf on a field of the application is checked once its type is given, refused before', async () => {
    const signing = {
      components: ['@method', '@authority', '@target-uri', '"x-dict";sf'],
      fieldTypes: { 'x-dict': 'dictionary' as const },
    };
    const headers = signedHeaders({ headers: { 'x-dict': 'a=1,  b=2' } }, signing);
    expect(headers['signature-input']).toContain('"x-dict";sf');
    const typed = signedApp({ fieldTypes: { 'x-dict': 'dictionary' } });
    const res = await request(typed).get('/r').set(headers);
    expect(res.status).toBe(200);
    const untyped = await request(app).get('/r').set(headers);
    expect([untyped.status, (untyped.body as { reason?: string }).reason]).toEqual([401, 'component_invalid']);
  });

  it('maxBodyBytes 1 MiB: a covered body announced one byte larger is refused', async () => {
    const headers = signedHeaders(
      { method: 'POST', headers: { 'content-digest': 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:' } },
      { components: ['@method', '@authority', '@target-uri', 'content-digest'] },
    );
    const res = await request(app)
      .post('/r')
      .set({ ...headers, 'content-length': String(1024 * 1024 + 1) })
      .send();
    expect([res.status, (res.body as { reason?: string }).reason]).toEqual([400, 'body_too_large']);
  });
});

describe('httpSignatureScheme: configuration', () => {
  const base = { origins: [ORIGIN], publicKeys: PUBLIC_KEYS };
  it.each([
    ['no origins', { publicKeys: PUBLIC_KEYS }, '"origins" must be a non-empty array'],
    ['an origin with a path', { ...base, origins: ['https://api.example.com/v1'] }, '"origins[0]" must be an http(s) origin'],
    ['no key source', { origins: [ORIGIN] }, 'the scheme needs a key source'],
    ['an unknown required component', { ...base, requiredComponents: ['@nope'] }, '"requiredComponents[0]"'],
    [
      'an algorithm the key cannot verify',
      { ...base, publicKeys: { k: { key: ed.publicKey, algorithm: 'rsa-pss-sha512' } } },
      '"publicKeys["k"].algorithm"',
    ],
    ['a short HMAC secret', { ...base, sharedSecrets: { s: { secret: Buffer.alloc(16) } } }, 'at least 32 bytes'],
    ['a keyid in both maps', { ...base, sharedSecrets: { 'ed-1': { secret } } }, 'not also in "publicKeys"'],
    ['a private key', { ...base, publicKeys: { k: { key: ed.privateKey } } }, 'a public key'],
    ['a 1024-bit RSA key', { ...base, publicKeys: { k: { key: weakRsa } } }, 'at least 2048 bits'],
    ['a secp256k1 key', { ...base, publicKeys: { k: { key: k256 } } }, '"publicKeys["k"].key"'],
    ['a bad nonce mode', { ...base, nonce: 'always' }, '"nonce" must be one of'],
  ])('refuses %s', (_, options, message) => {
    expect(() => httpSignatureScheme(options as Parameters<typeof httpSignatureScheme>[0])).toThrow(message);
  });

  it('accepts a PEM public key and a JWK', async () => {
    const app = express();
    const scheme = httpSignatureScheme({
      origins: [ORIGIN],
      publicKeys: {
        'ed-1': { key: createPublicKey(ed.privateKey).export({ type: 'spki', format: 'pem' }) },
        'p256-1': { key: p256.publicKey.export({ format: 'jwk' }) },
      },
      replayStore: new MemoryReplayStore(),
    });
    app.get('/r', authenticate([scheme]), (_req, res) => void res.json({ ok: true }));
    expect((await request(app).get('/r').set(signedHeaders())).status).toBe(200);
    expect(
      (
        await request(app)
          .get('/r')
          .set(signedHeaders({}, { keyId: 'p256-1', key: p256.privateKey }))
      ).status,
    ).toBe(200);
  });
});

describe('httpSignatureScheme: several instances', () => {
  /** An app behind a proxy (trust proxy set) and the warning codes its scheme logs. */
  function proxiedApp(options: Partial<Parameters<typeof httpSignatureScheme>[0]>): { app: express.Express; codes: string[] } {
    const codes: string[] = [];
    const none = (): void => undefined;
    const logger = {
      debug: none,
      info: none,
      error: none,
      warn: (fields: Record<string, unknown>) => void codes.push(String(fields['code'])),
    };
    const app = express();
    app.set('trust proxy', 'loopback');
    app.get('/r', authenticate([httpSignatureScheme({ origins: [ORIGIN], publicKeys: PUBLIC_KEYS, logger, ...options })]), (_req, res) => {
      res.json({ ok: true });
    });
    return { app, codes };
  }

  it('warns once, at the first nonce, when the default in-memory replay store runs behind a proxy', async () => {
    const { app, codes } = proxiedApp({});
    expect((await request(app).get('/r').set(signedHeaders())).status).toBe(200);
    expect(codes).toEqual([]);
    expect(
      (
        await request(app)
          .get('/r')
          .set(signedHeaders({}, { params: { nonce: true } }))
      ).status,
    ).toBe(200);
    expect(
      (
        await request(app)
          .get('/r')
          .set(signedHeaders({}, { params: { nonce: true } }))
      ).status,
    ).toBe(200);
    expect(codes).toEqual(['http_signature_per_process_state']);
  });

  it('does not warn when the replay store is given', async () => {
    const { app, codes } = proxiedApp({ replayStore: new MemoryReplayStore() });
    expect(
      (
        await request(app)
          .get('/r')
          .set(signedHeaders({}, { params: { nonce: true } }))
      ).status,
    ).toBe(200);
    expect(codes).toEqual([]);
  });
});
