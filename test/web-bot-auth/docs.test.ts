/**
 * docs/http-signatures.md, run: the Web Bot Auth site and agent blocks. The agent's directory app is
 * served over https (test CA) and its signed fetch calls the site over loopback; the site resolves
 * the agent through the directory and names it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyPairKeyObjectResult } from 'node:crypto';
import type { Express } from 'express';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';
import type { WebBotAuthOptions } from '../../src/index.js';
import { loadSnippet } from '../docs/snippets.js';
import { freePort } from '../helpers/redis-server.js';
import { testPki } from './tls.js';

type CreateSite = (siteOrigin?: string, directory?: WebBotAuthOptions) => Express;
type CreateAgent = (agentOrigin?: string) => { directoryApp: Express; signedFetch: typeof fetch };

let directory: HttpsServer;
let site: Server;
let agentOrigin: string;
let siteOrigin: string;
let botKey: KeyPairKeyObjectResult;
let signedFetch: typeof fetch;

beforeAll(async () => {
  const { createSite } = await loadSnippet<{ createSite: CreateSite }>('web-bot-auth-site');
  const agentModule = await loadSnippet<{ createAgent: CreateAgent; botKey: KeyPairKeyObjectResult }>('web-bot-auth-agent');
  botKey = agentModule.botKey;
  const pki = testPki();
  const directoryPort = await freePort();
  agentOrigin = `https://crawler.example:${directoryPort}`;
  const agent = agentModule.createAgent(agentOrigin);
  signedFetch = agent.signedFetch;
  directory = createHttpsServer({ key: pki.serverKey, cert: pki.serverCert }, agent.directoryApp);
  await new Promise<void>((resolve) => directory.listen(directoryPort, '127.0.0.1', resolve));
  const sitePort = await freePort();
  siteOrigin = `http://127.0.0.1:${sitePort}`;
  const app = createSite(siteOrigin, {
    origins: [agentOrigin],
    // The test CA, and crawler.example on this machine's loopback address.
    extraCa: pki.caCert,
    // Generous: the suite may share two cores with others; the deadline itself is tested in directory.test.ts.
    timeoutMs: 10_000,
    allowPrivateAddresses: true,
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
  });
  site = app.listen(sitePort, '127.0.0.1');
  await new Promise<void>((resolve) => site.once('listening', () => resolve()));
  expect((site.address() as AddressInfo).port).toBe(sitePort);
});
afterAll(async () => {
  site.closeAllConnections();
  directory.closeAllConnections();
  await new Promise<void>((resolve) => site.close(() => resolve()));
  await new Promise<void>((resolve) => directory.close(() => resolve()));
});

describe('docs/http-signatures.md: Web Bot Auth', () => {
  it("the agent's signed fetch is answered with the operator and key that signed", async () => {
    const response = await signedFetch(`${siteOrigin}/articles/7`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ agent: `wba:${agentOrigin}#${jwkThumbprint(botKey.publicKey)}`, directory: agentOrigin });
  });

  it('an unsigned request is refused with the challenge', async () => {
    const response = await fetch(`${siteOrigin}/articles/7`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('Signature');
  });

  it('the default site allows only https://crawler.example, so this agent is refused there', async () => {
    const { createSite } = await loadSnippet<{ createSite: CreateSite }>('web-bot-auth-site');
    const port = await freePort();
    const other = createSite(`http://127.0.0.1:${port}`).listen(port, '127.0.0.1');
    await new Promise<void>((resolve) => other.once('listening', () => resolve()));
    try {
      const response = await signedFetch(`http://127.0.0.1:${port}/articles/7`);
      expect([response.status, ((await response.json()) as { reason?: string }).reason]).toEqual([401, 'directory_not_allowed']);
    } finally {
      other.closeAllConnections();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});
