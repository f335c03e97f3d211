/**
 * authenticate() runs schemes with passport.authenticate(names, { session: false }, callback)'s
 * semantics without Passport's per-request objects. This checks the two agree: the same schemes,
 * once through authenticate() and once as Passport strategies (toPassportStrategy) under a real
 * Passport instance, give the same outcome for every mix of credentials.
 */
import express from 'express';
import { Passport } from 'passport';
import request from 'supertest';
import { AuthError, authenticate, createPrincipal, toPassportStrategy, type AuthScheme, type Principal } from '../../src/index.js';
import { toyScheme } from '../helpers/toy-scheme.js';

// A scheme whose authenticate() throws synchronously (not a rejected promise) for "Sync boom".
const syncThrower: AuthScheme = {
  name: 'sync',
  challenge: { scheme: 'Sync' },
  authenticate(req) {
    const h = req.headers['x-sync'];
    if (h === undefined) return Promise.resolve(undefined);
    if (h === 'boom') throw new Error('sync failure');
    if (h === 'down') throw new AuthError('dependency_unavailable', { reason: 'down' });
    return Promise.resolve(createPrincipal({ subject: String(h), kind: 'service', scheme: 'sync' }));
  },
};

const schemes = [toyScheme('toy', 'Toy'), syncThrower, toyScheme('other', 'Other')];

function ours(): express.Express {
  const app = express();
  app.get('/', authenticate(schemes), (req, res) => {
    res.json({ subject: req.principal?.subject, scheme: req.principal?.scheme, user: (req as unknown as { user?: Principal }).user?.subject, authed: (req as unknown as { isAuthenticated(): boolean }).isAuthenticated() });
  });
  return app;
}

// The reference: Passport itself, with the outcome mapped the way authenticate() documents it.
function passports(): express.Express {
  const passport = new Passport();
  for (const s of schemes) passport.use(s.name, toPassportStrategy(s) as Parameters<typeof passport.use>[1]);
  const app = express();
  app.get('/', (req, res, next) => {
    passport.authenticate(schemes.map((s) => s.name), { session: false }, (err: unknown, user: Principal | false, infos: unknown[]) => {
      if (err) {
        res.status(err instanceof AuthError ? err.status : 401).json({ code: err instanceof AuthError ? err.code : 'token_invalid' });
        return;
      }
      if (user) {
        res.json({ subject: user.subject, scheme: user.scheme, user: user.subject, authed: true });
        return;
      }
      const first = infos.find((i): i is AuthError => i instanceof AuthError);
      res.status(first ? first.status : 401).json({ code: first ? first.code : 'credentials_missing' });
    })(req, res, next);
  });
  return app;
}

const cases: Array<[string, Record<string, string>]> = [
  ['nothing', {}],
  ['first scheme valid', { authorization: 'Toy alice:a' }],
  ['third scheme valid', { authorization: 'Other bob' }],
  ['first scheme wrong', { authorization: 'Toy bad' }],
  ['wrong Authorization, valid sync header', { authorization: 'Toy bad', 'x-sync': 'carol' }],
  ['sync scheme throws synchronously, third valid', { 'x-sync': 'boom', authorization: 'Other bob' }],
  ['sync scheme 503, third valid', { 'x-sync': 'down', authorization: 'Other bob' }],
  ['first scheme 503', { authorization: 'Toy down' }],
  ['first scheme malformed (400)', { authorization: 'Toy ' }],
  ['first scheme crashes asynchronously, sync valid', { authorization: 'Toy crash', 'x-sync': 'dave' }],
];

describe('authenticate() agrees with passport.authenticate()', () => {
  const a = ours();
  const b = passports();
  it.each(cases)('%s', async (_name, headers) => {
    const [x, y] = await Promise.all([request(a).get('/').set(headers), request(b).get('/').set(headers)]);
    expect(x.status).toBe(y.status);
    if (y.status === 200) expect(x.body).toEqual(y.body);
    else expect(x.body.code).toBe(y.body.code);
  });
});
