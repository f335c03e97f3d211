/**
 * Live interop, both ways, over real HTTP on loopback, with implementations someone else wrote:
 * dhensby's `http-message-signatures`, cloudflare's `http-message-sig` and `web-bot-auth`.
 * Requests they sign are accepted by `httpSignatureScheme()`; requests our signer and
 * `createSignedFetch` sign verify with their verifiers. Ed25519, ECDSA P-256 and RSA-PSS, with and
 * without Content-Digest, and a Web Bot Auth request whose key comes from the agent's directory
 * (cloudflare's format, served over https with a test CA) through our resolver.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import * as dhensby from 'http-message-signatures';
import * as cfsig from 'http-message-sig';
import { signatureHeaders as wbaSignatureHeaders, verify as wbaVerify } from 'web-bot-auth';
import { signerFromJWK, verifierFromJWK } from 'web-bot-auth/crypto';
import { authenticate } from '../../src/middleware/authenticate.js';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';
import { createSignedFetch } from '../../src/protocols/http-signatures/signed-fetch.js';
import { httpSignatureScheme } from '../../src/schemes/http-signature/scheme.js';
import { webBotAuth } from '../../src/schemes/http-signature/web-bot-auth.js';
import { freePort } from '../helpers/redis-server.js';
import { cloudflareDirectory, listenTls, testPki, type TlsServer } from '../web-bot-auth/tls.js';

const ed = generateKeyPairSync('ed25519');
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A loopback HTTP server; returns its origin. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
/** Serves an Express app on 127.0.0.1:`port`. */
async function serve(app: express.Express, port: number): Promise<{ server: Server; origin: string }> {
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { server, origin: `http://127.0.0.1:${port}` };
}
const close = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sha256Digest = (body: string): string => `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;

describe('their signers → httpSignatureScheme over HTTP', () => {
  let app: { server: Server; origin: string };
  beforeAll(async () => {
    const port = await freePort();
    const scheme = httpSignatureScheme({
      origins: [`http://127.0.0.1:${port}`],
      publicKeys: {
        'ed-1': { key: ed.publicKey, subject: 'ed-client' },
        'p256-1': { key: p256.publicKey, subject: 'p256-client' },
        'rsa-1': { key: rsa.publicKey, algorithm: 'rsa-pss-sha512', subject: 'rsa-client' },
        'rsa-v15': { key: rsa.publicKey, algorithm: 'rsa-v1_5-sha256', subject: 'rsa-v15-client' },
      },
    });
    const e = express();
    e.all('/orders', authenticate([scheme]), (req, res) => {
      const { principal } = req as unknown as { principal: { subject: string; details: { components?: readonly string[] } } };
      res.json({ subject: principal.subject, components: principal.details.components });
    });
    app = await serve(e, port);
  });
  afterAll(async () => {
    await close(app.server);
  });

  /** Sends a request signed by dhensby's signer. */
  async function dhensbySigned(key: KeyObject, alg: string, keyid: string, body?: string): Promise<Response> {
    const url = `${app.origin}/orders?id=7`;
    const headers: Record<string, string> =
      body === undefined ? {} : { 'content-type': 'application/json', 'content-digest': sha256Digest(body) };
    const signed = await dhensby.httpbis.signMessage(
      {
        key: dhensby.createSigner(key, alg, keyid),
        fields: ['@method', '@target-uri', '@authority', ...(body === undefined ? [] : ['content-type', 'content-digest'])],
        params: ['created', 'keyid', 'alg'],
      },
      { method: body === undefined ? 'GET' : 'POST', url, headers },
    );
    return fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: signed.headers as Record<string, string>,
      ...(body === undefined ? {} : { body }),
    });
  }

  it.each([
    ['ed25519', () => ed.privateKey, 'ed-1', 'ed-client'],
    ['ecdsa-p256-sha256', () => p256.privateKey, 'p256-1', 'p256-client'],
    ['rsa-v1_5-sha256', () => rsa.privateKey, 'rsa-v15', 'rsa-v15-client'],
  ] as const)('dhensby %s, without and with Content-Digest', async (alg, key, keyid, subject) => {
    const plain = await dhensbySigned(key(), alg, keyid);
    expect([plain.status, ((await plain.json()) as { subject: string }).subject]).toEqual([200, subject]);
    const withBody = await dhensbySigned(key(), alg, keyid, '{"qty":2}');
    const json = (await withBody.json()) as { subject: string; components: string[] };
    expect([withBody.status, json.subject]).toEqual([200, subject]);
    expect(json.components).toContain('"content-digest"');
  });

  it('a dhensby-signed body that was altered in transit is refused', async () => {
    const url = `${app.origin}/orders`;
    const body = '{"qty":2}';
    const signed = await dhensby.httpbis.signMessage(
      {
        key: dhensby.createSigner(ed.privateKey, 'ed25519', 'ed-1'),
        fields: ['@method', '@target-uri', '@authority', 'content-digest'],
        params: ['created', 'keyid'],
      },
      { method: 'POST', url, headers: { 'content-digest': sha256Digest(body) } },
    );
    const response = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body: '{"qty":200}' });
    expect(response.status).toBe(401);
  });

  it('dhensby rsa-pss-sha512 (signed with the largest salt length, not 64 bytes) is accepted', async () => {
    // RFC 9421 §3.3.1 signs with a 64-byte salt; verification reads the salt length from the
    // signature (RSASSA-PSS's security does not rest on the verifier pinning it).
    const response = await dhensbySigned(rsa.privateKey, 'rsa-pss-sha512', 'rsa-1');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { subject?: string }).subject).toBe('rsa-client');
  });

  it.each([
    ['Ed25519', { name: 'Ed25519' }, () => ed.privateKey, 'ed-1', 'ed-client'],
    ['ECDSA P-256', { name: 'ECDSA', hash: 'SHA-256' }, () => p256.privateKey, 'p256-1', 'p256-client'],
  ] as const)('cloudflare http-message-sig, WebCrypto %s, with Content-Digest', async (_name, algorithm, key, keyid, subject) => {
    const jwk = key().export({ format: 'jwk' });
    const cryptoKey = await crypto.subtle.importKey(
      'jwk',
      jwk,
      algorithm.name === 'ECDSA' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' },
      false,
      ['sign'],
    );
    const body = 'hello';
    const url = `${app.origin}/orders`;
    const request = new Request(url, { method: 'PUT', headers: { 'content-digest': sha256Digest(body) }, body });
    // Their WebCrypto adapter knows Ed25519 only; an ECDSA key signs through their Signer interface.
    const signer: cfsig.Signer =
      algorithm.name === 'ECDSA'
        ? { algorithm: 'ecdsa-p256-sha256', sign: async (data) => new Uint8Array(await crypto.subtle.sign(algorithm, cryptoKey, data)) }
        : cfsig.webcrypto.signer(cryptoKey);
    const fields = await cfsig.createSignature(request, {
      components: ['@method', '@target-uri', '@authority', 'content-digest'],
      parameters: { created: Math.floor(Date.now() / 1000), keyid },
      signer,
    });
    const headers = cfsig.appendSignature(new Headers(request.headers), fields);
    const response = await fetch(url, { method: 'PUT', headers, body });
    expect([response.status, ((await response.json()) as { subject: string }).subject]).toEqual([200, subject]);
  });
});

describe('our signer → their verifiers over HTTP', () => {
  /** A server whose verdict comes from `verify`; answers 200 or 401. */
  async function verifyingServer(
    verify: (req: IncomingMessage, url: string, body: Buffer) => Promise<boolean>,
  ): Promise<{ server: Server; origin: string }> {
    let origin = '';
    const started = await listen((req, res) => {
      void readBody(req).then(async (body) => {
        let ok = false;
        try {
          ok = await verify(req, `${origin}${req.url ?? '/'}`, body);
        } catch {
          ok = false;
        }
        res.statusCode = ok ? 200 : 401;
        res.end();
      });
    });
    origin = started.origin;
    return started;
  }

  const headersOf = (req: IncomingMessage): Record<string, string> =>
    Object.fromEntries(Object.entries(req.headers).map(([n, v]) => [n, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
  /** A received request as http-message-sig's RequestDescriptor. */
  const descriptorOf = (req: IncomingMessage, url: string): cfsig.RequestDescriptor => ({
    kind: 'request',
    method: req.method ?? 'GET',
    targetUri: url,
    fields: Object.entries(headersOf(req)).map(([name, value]) => ({ name, value })),
  });
  const digestOk = (req: IncomingMessage, body: Buffer): boolean =>
    req.headers['content-digest'] === `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;

  it.each([
    ['ed25519', () => ed, 'ed25519'],
    ['ecdsa-p256-sha256', () => p256, 'ecdsa-p256-sha256'],
    ['rsa-pss-sha512', () => rsa, 'rsa-pss-sha512'],
  ] as const)(
    'createSignedFetch %s verifies with dhensby, without and with Content-Digest; a changed body does not',
    async (_n, pair, alg) => {
      const { server, origin } = await verifyingServer(async (req, url, body) => {
        const verified = await dhensby.httpbis.verifyMessage(
          {
            keyLookup: async (params) =>
              params.keyid === 'k1' ? { id: 'k1', algs: [alg], verify: dhensby.createVerifier(pair().publicKey, alg) } : null,
            requiredFields: ['@method', '@target-uri', '@authority'],
          },
          { method: req.method ?? 'GET', url, headers: headersOf(req) },
        );
        const digestCovered = String(req.headers['signature-input']).includes('"content-digest"');
        return verified === true && (!digestCovered || digestOk(req, body));
      });
      try {
        const signedFetch = createSignedFetch({
          key: { key: pair().privateKey, keyId: 'k1', ...(alg === 'rsa-pss-sha512' ? { algorithm: alg } : {}) },
        });
        expect((await signedFetch(`${origin}/a?b=1`)).status).toBe(200);
        const posted = await signedFetch(`${origin}/a`, {
          method: 'POST',
          body: '{"x":1}',
          headers: { 'content-type': 'application/json' },
        });
        expect(posted.status).toBe(200);
        // The same library refuses a body other than the signed one (the digest check above is ours, the signature theirs).
        const tampering = createSignedFetch({
          key: { key: pair().privateKey, keyId: 'k1', ...(alg === 'rsa-pss-sha512' ? { algorithm: alg } : {}) },
          fetch: (input, init) => fetch(input, { ...init, body: '{"x":2}' }),
        });
        expect((await tampering(`${origin}/a`, { method: 'POST', body: '{"x":1}' })).status).toBe(401);
      } finally {
        await close(server);
      }
    },
  );

  it('createSignedFetch ECDSA P-256 with Content-Digest verifies with cloudflare http-message-sig', async () => {
    const cryptoKey = await crypto.subtle.importKey(
      'jwk',
      p256.publicKey.export({ format: 'jwk' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const { server, origin } = await verifyingServer(async (req, url, body) => {
      const verified = await cfsig.verifySignature(descriptorOf(req, url), {
        policy: {
          algorithms: ['ecdsa-p256-sha256'],
          requiredComponents: ['@method', '@target-uri', '@authority', 'content-digest'],
          requiredParameters: ['created', 'keyid'],
        },
        resolveVerifier: (candidate) => {
          if (candidate.parameters.keyid !== 'p256') throw new Error('unknown key');
          // Their WebCrypto adapter knows Ed25519 only; ECDSA verifies through their Verifier interface.
          return {
            algorithm: 'ecdsa-p256-sha256',
            verify: (data: Uint8Array, signature: Uint8Array) =>
              crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, cryptoKey, signature, data),
          };
        },
      });
      return verified.label === 'sig1' && digestOk(req, body);
    });
    try {
      const signedFetch = createSignedFetch({ key: { key: p256.privateKey, keyId: 'p256' } });
      expect((await signedFetch(`${origin}/items`, { method: 'POST', body: new TextEncoder().encode('bytes') })).status).toBe(200);
      const other = createSignedFetch({ key: { key: ed.privateKey, keyId: 'p256' } });
      expect((await other(`${origin}/items`, { method: 'POST', body: 'x' })).status).toBe(401);
    } finally {
      await close(server);
    }
  });

  it("createSignedFetch as a Web Bot Auth agent (the draft's keyed Signature-Agent member) verifies with cloudflare http-message-sig", async () => {
    const cryptoKey = await crypto.subtle.importKey('jwk', ed.publicKey.export({ format: 'jwk' }), { name: 'Ed25519' }, false, ['verify']);
    const { server, origin } = await verifyingServer(async (req, url) => {
      const verified = await cfsig.verifySignature(descriptorOf(req, url), {
        policy: {
          algorithms: ['ed25519'],
          requiredComponents: ['@authority', cfsig.component('signature-agent', { key: 'sig1' })],
          requiredParameters: ['created', 'expires', 'keyid', 'tag'],
        },
        resolveVerifier: (candidate) => {
          if (candidate.parameters.keyid !== jwkThumbprint(ed.publicKey) || candidate.parameters.tag !== 'web-bot-auth')
            throw new Error('unknown key');
          return cfsig.webcrypto.verifier(cryptoKey);
        },
      });
      return verified.label === 'sig1';
    });
    try {
      expect(
        (await createSignedFetch({ key: { key: ed.privateKey }, signatureAgent: 'https://agent.test' })(`${origin}/page`)).status,
      ).toBe(200);
      const swapped = createSignedFetch({
        key: { key: ed.privateKey },
        signatureAgent: 'https://agent.test',
        fetch: (input, init) => {
          const headers = new Headers(init?.headers);
          headers.set('signature-agent', 'sig1="https://other.test"');
          return fetch(input, { ...init, headers });
        },
      });
      expect((await swapped(`${origin}/page`)).status).toBe(401);
    } finally {
      await close(server);
    }
  });

  it("createSignedFetch as a Web Bot Auth agent verifies with cloudflare web-bot-auth's verifier", async () => {
    const verifier = await verifierFromJWK(ed.publicKey.export({ format: 'jwk' }));
    let seen: { keyid: string; tag: string } | undefined;
    const { server, origin } = await verifyingServer(async (req, url) => {
      await wbaVerify(
        { method: req.method ?? 'GET', url, headers: headersOf(req) } as unknown as Request,
        async (data, signature, params) => {
          seen = { keyid: params.keyid, tag: params.tag };
          await verifier(data, signature, params);
        },
      );
      return true;
    });
    try {
      // Their published verifier reads the whole Signature-Agent field, so cover it whole.
      const signedFetch = createSignedFetch({
        key: { key: ed.privateKey },
        signatureAgent: 'https://agent.test',
        components: ['@authority', 'signature-agent'],
      });
      expect((await signedFetch(`${origin}/page`)).status).toBe(200);
      expect(seen).toEqual({ keyid: jwkThumbprint(ed.publicKey), tag: 'web-bot-auth' });
      const wrongKey = createSignedFetch({
        key: { key: generateKeyPairSync('ed25519').privateKey, keyId: jwkThumbprint(ed.publicKey) },
        signatureAgent: 'https://agent.test',
        components: ['@authority', 'signature-agent'],
      });
      expect((await wrongKey(`${origin}/page`)).status).toBe(401);
    } finally {
      await close(server);
    }
  });
});

describe('Web Bot Auth: a cloudflare-signed agent, its directory in their format, resolved by us', () => {
  let directory: TlsServer;
  let site: { server: Server; origin: string };
  const agentJwk = ed.privateKey.export({ format: 'jwk' });

  beforeAll(async () => {
    directory = await listenTls(await cloudflareDirectory(agentJwk));
    const port = await freePort();
    const scheme = httpSignatureScheme({
      origins: [`http://127.0.0.1:${port}`],
      ...webBotAuth({
        origins: [`https://agent.test:${directory.port}`],
        extraCa: testPki().caCert,
        timeoutMs: 10_000,
        allowPrivateAddresses: true,
        lookup: async () => [{ address: '127.0.0.1', family: 4 }],
      }),
    });
    const e = express();
    e.get('/page', authenticate([scheme]), (req, res) => {
      const { principal } = req as unknown as { principal: { subject: string } };
      res.json({ subject: principal.subject });
    });
    site = await serve(e, port);
  });
  afterAll(async () => {
    await close(site.server);
    await directory.close();
  });

  async function wbaRequest(agentHeader: string): Promise<Response> {
    const url = `${site.origin}/page`;
    const request = new Request(url, { headers: { 'signature-agent': agentHeader } });
    const now = new Date();
    const headers = await wbaSignatureHeaders(request, await signerFromJWK(agentJwk), {
      created: now,
      expires: new Date(now.getTime() + 60_000),
    });
    return fetch(url, {
      headers: { 'signature-agent': agentHeader, signature: headers.Signature, 'signature-input': headers['Signature-Input'] },
    });
  }

  it('the dictionary form (sig1="https://…") is accepted, principal wba:<origin>#<thumbprint>', async () => {
    const agent = `https://agent.test:${directory.port}`;
    const response = await wbaRequest(`sig1="${agent}"`);
    expect([response.status, ((await response.json()) as { subject: string }).subject]).toEqual([
      200,
      `wba:${agent}#${jwkThumbprint(ed.publicKey)}`,
    ]);
  });

  it('the legacy bare-string form is accepted too', async () => {
    const agent = `https://agent.test:${directory.port}`;
    expect((await wbaRequest(`"${agent}"`)).status).toBe(200);
  });

  it('a Signature-Agent off the allow-list is refused without a fetch', async () => {
    const before = directory.seen.length;
    const response = await wbaRequest(`sig1="https://other.test:${directory.port}"`);
    expect(response.status).toBe(401);
    expect(directory.seen.length).toBe(before);
  });
});
