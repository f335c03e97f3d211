/**
 * A 401 marked `endsChain` (a bound or misused credential) stops the scheme chain, under
 * `authenticate()` and under Passport over `toPassportStrategy()` with `passportErrorHandler()`:
 * a later scheme that would accept the same credential never runs, and the refusing scheme's
 * challenge answers. A plain 401 still falls through (control).
 */
import express from 'express';
import { Passport } from 'passport';
import request from 'supertest';
import { AuthError, authenticate, passportErrorHandler, readAuthorization, toPassportStrategy, type AuthScheme } from '../../src/index.js';
import { toyScheme } from '../helpers/toy-scheme.js';

/** Refuses `Toy stolen` as a bound token (ends the chain) and `Toy bad` as a plain wrong credential. */
const strict: AuthScheme = {
  name: 'strict',
  challenge: { scheme: 'Strict' },
  async authenticate(req) {
    const cred = readAuthorization(req, 'Toy');
    if (cred === 'stolen') throw new AuthError('token_invalid', { reason: 'dpop_bound', detail: 'bound', endsChain: true });
    if (cred === 'wrong') throw new AuthError('token_invalid', { reason: 'bad', detail: 'wrong' });
    return undefined;
  },
};
// Accepts any `Toy <subject>`: whatever reaches it is let in.
const schemes = [strict, toyScheme('fallback', 'Toy')];

function ours(): express.Express {
  const app = express();
  app.get('/', authenticate(schemes), (req, res) => {
    res.json({ subject: req.principal?.subject });
  });
  return app;
}

function passports(): express.Express {
  const passport = new Passport();
  for (const s of schemes) passport.use(s.name, toPassportStrategy(s) as Parameters<typeof passport.use>[1]);
  const app = express();
  app.get(
    '/',
    passport.authenticate(
      schemes.map((s) => s.name),
      { session: false, failWithError: true },
    ),
    (req, res) => {
      res.json({ subject: req.principal?.subject });
    },
  );
  app.use(passportErrorHandler());
  return app;
}

describe.each([
  ['authenticate()', ours()],
  ['passport.authenticate() over toPassportStrategy()', passports()],
])('%s', (_name, app) => {
  it('a 401 that ends the chain is final: the fallback never accepts the credential', async () => {
    const res = await request(app).get('/').set('authorization', 'Toy stolen');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'token_invalid', reason: 'dpop_bound' });
    expect(res.headers['www-authenticate']).toMatch(/^Strict error="invalid_token"/);
  });

  it('control: a plain 401 falls through to the fallback', async () => {
    const res = await request(app).get('/').set('authorization', 'Toy wrong');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: 'wrong' });
  });
});
