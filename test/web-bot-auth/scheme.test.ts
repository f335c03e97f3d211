/**
 * Web Bot Auth end to end with this library's own parts: an agent publishes its directory with
 * `publishKeyDirectory()` (https, test CA) and signs with `createSignedFetch({ signatureAgent })`;
 * a site verifies with `httpSignatureScheme({ ...webBotAuth() })`. Hostile rows: Signature-Agent
 * not covered, swapped, of another type, and the directory down (503, not a pass, not a 401).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';
import { authenticate } from '../../src/middleware/authenticate.js';
import { KeyDirectoryResolver } from '../../src/protocols/http-signatures/directory.js';
import { checkDirectorySignatures } from '../../src/protocols/http-signatures/directory-signature.js';
import { createSignedFetch } from '../../src/protocols/http-signatures/signed-fetch.js';
import { publishKeyDirectory } from '../../src/schemes/http-signature/publish-directory.js';
import { httpSignatureScheme } from '../../src/schemes/http-signature/scheme.js';
import { webBotAuth } from '../../src/schemes/http-signature/web-bot-auth.js';
import { freePort } from '../helpers/redis-server.js';
import { listenTls, testPki, type TlsServer } from './tls.js';

const bot = generateKeyPairSync('ed25519');
let directory: TlsServer;
let directoryUp = true;
let site: Server;
let siteUrl: string;
let agent: string;
let clockMs = Date.now();

beforeAll(async () => {
  // Built once the server's port (part of the directory's origin) is known.
  const serving: { publisher?: ReturnType<typeof publishKeyDirectory> } = {};
  directory = await listenTls((req, res) => {
    if (!directoryUp) {
      res.statusCode = 503;
      res.end();
      return;
    }
    (serving.publisher as ReturnType<typeof publishKeyDirectory>)(req, res, () => {
      res.statusCode = 404;
      res.end();
    });
  });
  agent = `https://agent.test:${directory.port}`;
  serving.publisher = publishKeyDirectory({ keys: [bot.privateKey], origins: [agent], cacheSeconds: 60 });
  const directories = new KeyDirectoryResolver(
    {
      origins: [agent, `https://other.test:${directory.port}`],
      extraCa: testPki().caCert,
      timeoutMs: 10_000,
      allowPrivateAddresses: true,
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
      staleSeconds: 30,
      negativeCacheSeconds: 0,
      clock: () => clockMs,
    },
    checkDirectorySignatures,
  );
  const port = await freePort();
  const app = express();
  app.get(
    '/page',
    authenticate([httpSignatureScheme({ origins: [`http://127.0.0.1:${port}`], ...webBotAuth({ directories }) })]),
    (req, res) => {
      const { principal } = req as unknown as { principal: { subject: string; details: Record<string, unknown> } };
      res.json({ subject: principal.subject, directory: principal.details['directory'], tag: principal.details['tag'] });
    },
  );
  site = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => site.once('listening', () => resolve()));
  siteUrl = `http://127.0.0.1:${port}/page`;
});
afterAll(async () => {
  site.closeAllConnections();
  await new Promise<void>((resolve) => site.close(() => resolve()));
  await directory.close();
});

async function problem(response: Response): Promise<[number, string | undefined]> {
  return [response.status, ((await response.json()) as { reason?: string }).reason];
}

describe('Web Bot Auth with publishKeyDirectory and createSignedFetch', () => {
  it('a signed agent is verified through its directory; the principal names the operator and the key', async () => {
    const signedFetch = createSignedFetch({ key: { key: bot.privateKey }, signatureAgent: agent });
    const response = await signedFetch(siteUrl);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      subject: `wba:${agent}#${jwkThumbprint(bot.publicKey)}`,
      directory: agent,
      tag: 'web-bot-auth',
    });
  });

  it('a signature that does not cover Signature-Agent is refused', async () => {
    // Signed as Web Bot Auth would be, but with Signature-Agent sent beside the signature, not under it.
    const signedFetch = createSignedFetch({
      key: { key: bot.privateKey, keyId: jwkThumbprint(bot.publicKey) },
      tag: 'web-bot-auth',
      components: ['@authority'],
    });
    const response = await signedFetch(siteUrl, { headers: { 'signature-agent': `sig1="${agent}"` } });
    expect(await problem(response)).toEqual([401, 'component_not_covered']);
  });

  it('a Signature-Agent swapped after signing is refused', async () => {
    const swap = createSignedFetch({
      key: { key: bot.privateKey },
      signatureAgent: agent,
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('signature-agent', `sig1="https://other.test:${directory.port}"`);
        return fetch(input, { ...init, headers });
      },
    });
    expect((await swap(siteUrl)).status).toBe(401);
  });

  it('a member of another discovery type is not followed', async () => {
    const typed = createSignedFetch({
      key: { key: bot.privateKey },
      signatureAgent: agent,
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('signature-agent', `${headers.get('signature-agent') ?? ''};type=jwks_uri`);
        return fetch(input, { ...init, headers });
      },
    });
    expect(await problem(await typed(siteUrl))).toEqual([401, 'key_unknown']);
  });

  it('a directory outage serves cached keys for staleSeconds, then answers 503 with Retry-After', async () => {
    const signedFetch = createSignedFetch({ key: { key: bot.privateKey }, signatureAgent: agent, clock: () => clockMs });
    expect((await signedFetch(siteUrl)).status).toBe(200);
    directoryUp = false;
    try {
      clockMs += 70_000;
      // The site's own clock is real; the signature's created stays within its window by signing now.
      const now = createSignedFetch({ key: { key: bot.privateKey }, signatureAgent: agent });
      expect((await now(siteUrl)).status).toBe(200);
      clockMs += 60_000;
      const down = await now(siteUrl);
      expect(await problem(down)).toEqual([503, 'directory_unavailable']);
      expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      directoryUp = true;
    }
  });
});
