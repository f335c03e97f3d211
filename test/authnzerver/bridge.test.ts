/**
 * The authnzerver bridge against the in-process server (./fake.ts), through real HTTP: user sessions
 * of each role, session and no-session API keys, address binding as a dual-stack app sees it, the
 * server rate limiting or gone, and a wrong shared secret — each fails closed (401 or 503, never 200).
 */
import express from 'express';
import request from 'supertest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { authenticate, AuthnzerverClient, authnzerverScheme, sealAuthnzerverApiKey } from '../../src/index.js';
import { fakeAuthnzerver, SECRET, type Fake } from './fake.js';
import { retryAfterSeconds } from '../../src/schemes/authnzerver/client.js';

const FRONTEND = randomBytes(32).toString('base64url') + '=';
const sealed = (dict: Record<string, unknown>): string => sealAuthnzerverApiKey(JSON.stringify(dict), FRONTEND);

let fake: Fake;
beforeAll(async () => {
  fake = await fakeAuthnzerver();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.mode = 'ok';
  fake.received.length = 0;
});

function appFor(
  extra: Partial<Parameters<typeof authnzerverScheme>[0]> = {},
  client = new AuthnzerverClient({ url: fake.url, secret: SECRET, timeoutMs: 1000 }),
) {
  const app = express();
  app.get('/me', authenticate([authnzerverScheme({ client, apiKeySecret: FRONTEND, cacheSeconds: 0, ...extra })]), (req, res) => {
    res.json({ principal: req.principal, seenFrom: req.socket.remoteAddress });
  });
  return app;
}

/** Serves `app` on all interfaces (no host), as `app.listen(port)` does. */
async function listenAnyHost(app: express.Express): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('authnzerver bridge: sessions of each role', () => {
  it.each([
    ['sess-good', '4', 'authenticated', 1],
    ['sess-staff', '9', 'staff', 3],
    ['sess-anon', '2', 'anonymous', 0],
  ])('%s → subject %s, role %s, level from levelOf', async (cookie, subject, role, level) => {
    const levels: Record<string, number> = { anonymous: 0, authenticated: 1, staff: 3 };
    const res = await request(appFor({ levelOf: (r) => levels[r] ?? 0 }))
      .get('/me')
      .set('Cookie', `authnzerver_session=${cookie}`);
    expect(res.status).toBe(200);
    expect(res.body.principal).toMatchObject({ subject, kind: 'user', scheme: 'authnzerver', level, details: { role, via: 'session' } });
  });

  it("an inactive user's session is 401 user_inactive", async () => {
    const res = await request(appFor()).get('/me').set('Cookie', 'authnzerver_session=sess-inactive');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'token_invalid', reason: 'user_inactive' });
  });
});

describe('authnzerver bridge: API keys', () => {
  it('session-bound keys go to apikey-verify; a no-session key is refused there', async () => {
    const app = appFor({ apiKeyMode: 'session' });
    const ok = await request(app)
      .get('/me')
      .set('Authorization', `AuthnzApiKey ${sealed({ tkn: 'tkn-sess', uid: 4, rol: 'authenticated' })}`);
    expect(ok.status).toBe(200);
    expect(ok.body.principal).toMatchObject({ subject: '4', details: { via: 'apikey', role: 'authenticated' } });
    expect(fake.received[0]).toMatchObject({ request: 'apikey-verify' });
    const other = await request(app)
      .get('/me')
      .set('Authorization', `AuthnzApiKey ${sealed({ tkn: 'tkn-good', uid: 4, rol: 'staff' })}`);
    expect(other.status).toBe(401);
    expect(other.body.reason).toBe('apikey_rejected');
  });

  it('a key claiming another role than it was issued with is refused', async () => {
    const res = await request(appFor())
      .get('/me')
      .set('Authorization', `AuthnzApiKey ${sealed({ tkn: 'tkn-good', uid: 4, rol: 'superuser' })}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('apikey_rejected');
  });

  it('bindIp: an app listening on all interfaces sees ::ffff:127.0.0.1 and accepts a key bound to 127.0.0.1 (and refuses one bound elsewhere)', async () => {
    const served = await listenAnyHost(appFor({ bindIp: true }));
    try {
      const base = `http://127.0.0.1:${served.port}`;
      const ok = await request(base)
        .get('/me')
        .set('Authorization', `AuthnzApiKey ${sealed({ tkn: 'tkn-good', uid: 4, rol: 'staff', ipa: '127.0.0.1' })}`);
      expect(ok.status).toBe(200);
      expect(ok.body.seenFrom).toBe('::ffff:127.0.0.1');
      const mapped = await request(base)
        .get('/me')
        .set('Authorization', `AuthnzApiKey ${sealed({ tkn: 'tkn-good', uid: 4, rol: 'staff', ipa: '::FFFF:127.0.0.1' })}`);
      expect(mapped.status).toBe(200);
      for (const ipa of ['127.0.0.2', '::1', '', 'localhost']) {
        const refused = await request(base)
          .get('/me')
          .set('Authorization', `AuthnzApiKey ${sealed({ tkn: 'tkn-good', uid: 4, rol: 'staff', ipa })}`);
        expect([ipa, refused.status, refused.body.reason]).toEqual([ipa, 401, 'ip_not_allowed']);
      }
    } finally {
      await served.close();
    }
  });
});

describe('authnzerver bridge: outages and a wrong shared secret fail closed', () => {
  it("the server rate limiting us (429) is a 503 with the server's own Retry-After (180, as authnzerver sends), not a pass or a 401", async () => {
    fake.mode = 'ratelimited';
    const res = await request(appFor()).get('/me').set('Cookie', 'authnzerver_session=sess-good');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('180');
    expect(res.body).toMatchObject({ code: 'dependency_unavailable', reason: 'authnzerver_rate_limited' });
  });

  it('a server that went away: sessions and API keys get 503 authnzerver_unreachable', async () => {
    const gone = await fakeAuthnzerver();
    const client = new AuthnzerverClient({ url: gone.url, secret: SECRET, timeoutMs: 1000 });
    const app = appFor({}, client);
    expect((await request(app).get('/me').set('Cookie', 'authnzerver_session=sess-good')).status).toBe(200);
    await gone.close();
    const session = await request(app).get('/me').set('Cookie', 'authnzerver_session=sess-good');
    expect([session.status, session.body.reason]).toEqual([503, 'authnzerver_unreachable']);
    const key = await request(app)
      .get('/me')
      .set('Authorization', `AuthnzApiKey ${sealed({ tkn: 'tkn-good', uid: 4, rol: 'staff' })}`);
    expect([key.status, key.body.reason]).toEqual([503, 'authnzerver_unreachable']);
  });

  it('a redirect from the configured URL is not followed: 503, and the envelope never reaches the other server', async () => {
    const redirector: Server = createServer((req, res) => {
      req.resume();
      res.writeHead(307, { location: fake.url }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const client = new AuthnzerverClient({
        url: `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`,
        secret: SECRET,
        timeoutMs: 1000,
      });
      const res = await request(appFor({}, client)).get('/me').set('Cookie', 'authnzerver_session=sess-good');
      expect([res.status, res.body.code]).toEqual([503, 'dependency_unavailable']);
      expect(fake.received).toHaveLength(0);
    } finally {
      redirector.closeAllConnections();
      await new Promise<void>((resolve) => redirector.close(() => resolve()));
    }
  });

  it('a wrong shared secret: the server refuses (401), the app answers 503 for sessions and keys alike', async () => {
    const client = new AuthnzerverClient({ url: fake.url, secret: randomBytes(32).toString('base64url'), timeoutMs: 1000 });
    const app = appFor({}, client);
    const session = await request(app).get('/me').set('Cookie', 'authnzerver_session=sess-good');
    expect([session.status, session.body.reason]).toEqual([503, 'authnzerver_status_401']);
    const key = await request(app)
      .get('/me')
      .set('Authorization', `AuthnzApiKey ${sealed({ tkn: 'tkn-good', uid: 4, rol: 'staff' })}`);
    expect([key.status, key.body.reason]).toEqual([503, 'authnzerver_status_401']);
    expect(fake.received).toHaveLength(0); // nothing it sent could be read
  });

  it('a wrong shared secret is named in the logger, once per reason (not once per request)', async () => {
    const lines: Array<[string, Record<string, unknown>, string | undefined]> = [];
    const at = (level: string) => (fields: Record<string, unknown>, message?: string) => void lines.push([level, fields, message]);
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const client = new AuthnzerverClient({ url: fake.url, secret: randomBytes(32).toString('base64url'), timeoutMs: 1000, logger });
    const app = appFor({}, client);
    for (let i = 0; i < 3; i++) expect((await request(app).get('/me').set('Cookie', 'authnzerver_session=sess-good')).status).toBe(503);
    expect(lines).toEqual([
      [
        'error',
        { target: 'authnzerver', reason: 'authnzerver_status_401', where: 'new AuthnzerverClient()' },
        'new AuthnzerverClient(): the server refused the request (HTTP 401): the shared secret probably differs from its AUTHNZERVER_SECRET; requests that need it get 503',
      ],
    ]);
  });
});

describe('authnzerver bridge: verify() at start-up', () => {
  it('passes with the right secret (one session-exists for a random token, nothing changed)', async () => {
    await new AuthnzerverClient({ url: fake.url, secret: SECRET, timeoutMs: 1000 }).verify();
    expect(fake.received).toHaveLength(1);
    expect(fake.received[0]).toMatchObject({ request: 'session-exists' });
  });

  it('fails with a clear message when the shared secret differs', async () => {
    const client = new AuthnzerverClient({ url: fake.url, secret: randomBytes(32).toString('base64url'), timeoutMs: 1000 });
    await expect(client.verify()).rejects.toThrow(
      `AuthnzerverClient.verify(): the authnzerver at ${new URL('/', fake.url).href} refused the request (HTTP 401): the "secret" differs from the server's AUTHNZERVER_SECRET (or this host is not allowed)`,
    );
  });

  it('fails with a clear message when the server cannot be reached', async () => {
    const gone = await fakeAuthnzerver();
    await gone.close();
    const client = new AuthnzerverClient({ url: gone.url, secret: SECRET, timeoutMs: 1000 });
    await expect(client.verify()).rejects.toThrow(
      `AuthnzerverClient.verify(): the authnzerver at ${new URL('/', gone.url).href} could not be reached (authnzerver_unreachable)`,
    );
  });
});

describe('Retry-After of the server', () => {
  it.each([
    ['delta-seconds', '180', 180],
    ['an HTTP-date 90 s ahead', new Date(1_700_000_090_000).toUTCString(), 90],
    ['absent', null, 60],
    ['garbage', 'soon', 60],
    ['huge (kept to an hour)', '999999', 3600],
    ['zero (at least a second)', '0', 1],
  ])('%s', (_label, header, seconds) => {
    expect(retryAfterSeconds(header, 1_700_000_000_000, 60)).toBe(seconds);
  });
});
