/**
 * authenticate() runs schemes with passport.authenticate(names, { session: false }, callback)'s
 * semantics without Passport's per-request objects. This checks the two agree: the same schemes,
 * once through authenticate() and once as Passport strategies (toPassportStrategy) under a real
 * Passport instance, give the same outcome for every mix of credentials.
 */
import express from 'express';
import { Passport } from 'passport';
import request from 'supertest';
import {
  AuthError,
  authenticate,
  createPrincipal,
  passportErrorHandler,
  toPassportStrategy,
  type AuthScheme,
  type Principal,
} from '../../src/index.js';
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
    res.json({
      subject: req.principal?.subject,
      scheme: req.principal?.scheme,
      user: (req as unknown as { user?: Principal }).user?.subject,
      authed: (req as unknown as { isAuthenticated(): boolean }).isAuthenticated(),
    });
  });
  return app;
}

// The reference: Passport itself, with the outcome mapped the way authenticate() documents it.
function passports(): express.Express {
  const passport = new Passport();
  for (const s of schemes) passport.use(s.name, toPassportStrategy(s) as Parameters<typeof passport.use>[1]);
  const app = express();
  app.get('/', (req, res, next) => {
    passport.authenticate(
      schemes.map((s) => s.name),
      { session: false },
      (err: unknown, user: Principal | false, infos: unknown[]) => {
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
      },
    )(req, res, next);
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

describe('passport.authenticate() over toPassportStrategy() refuses the malformed requests authenticate() refuses', () => {
  // The documented Passport set-up: failWithError and passportErrorHandler() render the outcome.
  function passportsRendered(): express.Express {
    const passport = new Passport();
    for (const s of schemes) passport.use(s.name, toPassportStrategy(s) as Parameters<typeof passport.use>[1]);
    const app = express();
    app.get(
      '/',
      passport.authenticate(
        schemes.map((s) => s.name),
        { session: false, failWithError: true },
      ) as express.RequestHandler,
      (req, res) => {
        res.json({ subject: (req as unknown as { user?: Principal }).user?.subject });
      },
    );
    app.use(passportErrorHandler());
    return app;
  }
  const a = ours();
  const b = passports();
  const c = passportsRendered();
  const malformed: Array<[string, Record<string, string | string[]>, string]> = [
    ['two Authorization headers, both valid', { authorization: ['Toy alice:a', 'Toy alice:a'] }, 'duplicate_authorization'],
    ['two Authorization headers of two schemes', { authorization: ['Other bob', 'Toy alice:a'] }, 'duplicate_authorization'],
    [
      'a 9,000-byte Authorization header holding a valid credential',
      { authorization: `Toy alice:${'a'.repeat(8990)}` },
      'authorization_too_large',
    ],
    ['two credentials in one header', { authorization: 'Toy alice, Other bob' }, 'authorization_list'],
    ['not auth-scheme syntax', { authorization: 'Toy  alice:a' }, 'authorization_syntax'],
  ];
  it.each(malformed)('%s: 400 on both paths', async (_name, headers, reason) => {
    const send = (app: express.Express) => {
      let r = request(app).get('/');
      for (const [k, v] of Object.entries(headers)) r = r.set(k, v as string);
      return r;
    };
    const [x, y, z] = await Promise.all([send(a), send(b), send(c)]);
    expect(x.status).toBe(400);
    expect(x.body).toMatchObject({ code: 'request_malformed', reason });
    expect(y.status).toBe(400);
    expect(y.body.code).toBe('request_malformed');
    expect(z.status).toBe(400);
    expect(z.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(z.body).toMatchObject({ code: 'request_malformed', reason });
  });

  it("maxAuthorizationBytes of toPassportStrategy() is checked like authenticate()'s", () => {
    for (const bad of [0, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => toPassportStrategy(schemes[0] as AuthScheme, { maxAuthorizationBytes: bad })).toThrow(
        /^toPassportStrategy\(\): "maxAuthorizationBytes" must be an integer >= 1/,
      );
    }
  });
});
