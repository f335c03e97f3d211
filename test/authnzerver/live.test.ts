/**
 * Against a real authnzerver (waqasbhatti/authnzerver), when AUTHNZERVER_URL and AUTHNZERVER_SECRET
 * are set. Without them the suite is reported as skipped, with the reason in its name, so CI output
 * shows it was not run instead of hiding it.
 *
 *   authnzrv --basedir /tmp/authnz &   # prints the secret; default http://127.0.0.1:13431
 *   AUTHNZERVER_URL=http://127.0.0.1:13431 AUTHNZERVER_SECRET=... npm test -- test/authnzerver/live
 */
import express from 'express';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { authenticate, AuthnzerverClient, authnzerverScheme, sealAuthnzerverApiKey } from '../../src/index.js';

const LIVE_URL = process.env['AUTHNZERVER_URL'];
const LIVE_SECRET = process.env['AUTHNZERVER_SECRET'];
const live = LIVE_URL !== undefined && LIVE_URL !== '' && LIVE_SECRET !== undefined && LIVE_SECRET !== '';
const describeLive = live ? describe : describe.skip;
const title = live
  ? 'authnzerver live'
  : 'authnzerver live — SKIPPED: AUTHNZERVER_URL and AUTHNZERVER_SECRET are not set (needs a running authnzerver)';

// `npm test -- --json` (CI) lists skipped tests only as a count: say why once, in the run's output too.
if (!live) process.stderr.write(`${title}\n`);

const FRONTEND = randomBytes(32).toString('base64url') + '=';
// authnzerver's `expires` format: naive UTC `%Y-%m-%dT%H:%M:%S.%f`.
const inOneHour = (): string =>
  new Date(Date.now() + 3600_000)
    .toISOString()
    .replace('Z', '')
    .replace(/\.(\d{3})$/, '.$1000');

describeLive(title, () => {
  const client = (): AuthnzerverClient =>
    new AuthnzerverClient({ url: LIVE_URL as string, secret: LIVE_SECRET as string, timeoutMs: 5000, allowInsecure: true });
  const appFor = (extra: Partial<Parameters<typeof authnzerverScheme>[0]> = {}, c = client()) => {
    const app = express();
    app.get('/me', authenticate([authnzerverScheme({ client: c, apiKeySecret: FRONTEND, cacheSeconds: 0, ...extra })]), (req, res) => {
      res.json(req.principal);
    });
    return app;
  };
  const newSession = async (userId: number | null): Promise<string> => {
    const created = await client().request(
      'session-new',
      { ip_address: '127.0.0.1', user_agent: 'authnz-express-test', user_id: userId, expires: inOneHour(), extra_info_json: {} },
      '127.0.0.1',
    );
    expect(created.success).toBe(true);
    return String(created.response['session_token']);
  };

  it('an anonymous session (session-new, user_id null) verifies through the strategy; an unknown one is 401', async () => {
    const token = await newSession(null);
    const res = await request(appFor()).get('/me').set('Cookie', `authnzerver_session=${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ subject: '2', details: { role: 'anonymous', via: 'session' } });
    const missing = await request(appFor()).get('/me').set('Cookie', 'authnzerver_session=definitely-not-a-session');
    expect([missing.status, missing.body.reason]).toEqual([401, 'session_unknown']);
  });

  it('a user session (the superuser, user 1, created at server start-up) carries the user id and role; session-delete ends it', async () => {
    const token = await newSession(1);
    const app = appFor();
    const res = await request(app).get('/me').set('Cookie', `authnzerver_session=${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ subject: '1', details: { role: 'superuser', via: 'session' } });
    expect((await client().request('session-delete', { session_token: token }, '127.0.0.1')).success).toBe(true);
    expect((await request(app).get('/me').set('Cookie', `authnzerver_session=${token}`)).status).toBe(401);
  });

  it('a no-session API key (apikey-new-nosession) verifies sealed; a forged token or role is refused; revocation takes effect', async () => {
    const issued = await client().request(
      'apikey-new-nosession',
      {
        issuer: 'authnzerver',
        audience: 'reports',
        subject: '/api/reports',
        apiversion: 1,
        expires_seconds: 900,
        not_valid_before: 1,
        user_id: 1,
        user_role: 'superuser',
        ip_address: '127.0.0.1',
        refresh_expires: 3600,
        refresh_nbf: 1,
      },
      '127.0.0.1',
    );
    expect(issued.success).toBe(true);
    const dict = JSON.parse(String(issued.response['apikey'])) as Record<string, unknown>;
    // not_valid_before is one second ahead of issue time.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const app = appFor({ audience: 'reports' });
    const ok = await request(app)
      .get('/me')
      .set('Authorization', `AuthnzApiKey ${sealAuthnzerverApiKey(JSON.stringify(dict), FRONTEND)}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ subject: '1', details: { role: 'superuser', via: 'apikey', target: 'reports' } });
    for (const forged of [
      { ...dict, tkn: randomBytes(32).toString('base64url') },
      { ...dict, rol: 'staff' },
    ]) {
      const res = await request(app)
        .get('/me')
        .set('Authorization', `AuthnzApiKey ${sealAuthnzerverApiKey(JSON.stringify(forged), FRONTEND)}`);
      expect([res.status, res.body.reason]).toEqual([401, 'apikey_rejected']);
    }
    const revoked = await client().request(
      'apikey-revoke-nosession',
      { apikey_dict: dict, user_id: 1, user_role: 'superuser' },
      '127.0.0.1',
    );
    expect(revoked.success).toBe(true);
    expect(
      (
        await request(app)
          .get('/me')
          .set('Authorization', `AuthnzApiKey ${sealAuthnzerverApiKey(JSON.stringify(dict), FRONTEND)}`)
      ).status,
    ).toBe(401);
  });

  it('a wrong shared secret is refused by the server: 503 authnzerver_status_401, never a pass', async () => {
    const wrong = new AuthnzerverClient({
      url: LIVE_URL as string,
      secret: randomBytes(32).toString('base64url'),
      timeoutMs: 5000,
      allowInsecure: true,
    });
    const token = await newSession(null);
    const res = await request(appFor({}, wrong)).get('/me').set('Cookie', `authnzerver_session=${token}`);
    expect([res.status, res.body.reason]).toEqual([503, 'authnzerver_status_401']);
  });

  it('outage: a client pointed at a port where nothing listens answers 503 authnzerver_unreachable', async () => {
    const down = new AuthnzerverClient({ url: 'http://127.0.0.1:1', secret: LIVE_SECRET as string, timeoutMs: 1000 });
    const res = await request(appFor({}, down)).get('/me').set('Cookie', 'authnzerver_session=x');
    expect([res.status, res.body.reason]).toEqual([503, 'authnzerver_unreachable']);
  });
});
