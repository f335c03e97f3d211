/**
 * Builds the Express app of each variant. Every app has the same route (`GET /r`, answering "ok")
 * and the same keys; only the authentication in front of it differs. Peers get the same checks as
 * ours: signature, issuer, audience, expiry, and the scope.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';
import { readKeys, SCOPE, TOKEN_AUDIENCE, TOKEN_ISSUER, type BenchKeys } from './fixtures.js';

/** What a built variant hands back to the server process. */
export interface BuiltApp {
  readonly handlers: RequestHandler[];
  /** Request headers the load process should rotate through (for `pool: 'server'`). */
  readonly pool?: ReadonlyArray<Readonly<Record<string, string>>>;
  /** Releases resources (KMS servers, Redis clients). */
  readonly close?: () => Promise<void>;
}

type Builder = (keys: BenchKeys) => Promise<BuiltApp>;

/** The same scope check for every peer: APIJwt writes `scopes` as comma-separated text. */
function hasScope(claims: unknown): boolean {
  const scopes = (claims as { scopes?: unknown } | undefined)?.scopes;
  if (typeof scopes === 'string') return scopes.split(',').includes(SCOPE);
  return Array.isArray(scopes) && scopes.includes(SCOPE);
}

function scopeCheck(read: (req: Request) => unknown): RequestHandler {
  return (req, res, next) => {
    if (hasScope(read(req))) next();
    else res.status(403).end();
  };
}

function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  return h !== undefined && h.startsWith('Bearer ') ? h.slice(7) : undefined;
}

async function apiJwt(publicKey: string): Promise<BuiltApp> {
  const { authenticate, requireScopes, apiJwtScheme } = await import('../src/index.js');
  const scheme = apiJwtScheme({ publicKeys: [publicKey], keys: { user: TOKEN_ISSUER }, audience: { audience: TOKEN_AUDIENCE } });
  return { handlers: [authenticate([scheme]) as RequestHandler, requireScopes(SCOPE) as RequestHandler] };
}

const passportJwt: Builder = async (keys) => {
  const { Passport } = await import('passport');
  const pj = (await import('passport-jwt')).default;
  const passport = new Passport();
  passport.use(
    new pj.Strategy(
      { jwtFromRequest: pj.ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: keys.rsaPublic, algorithms: ['RS256'], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE },
      (payload: unknown, done: (err: unknown, user?: unknown) => void) => done(null, payload),
    ),
  );
  return { handlers: [passport.authenticate('jwt', { session: false }) as RequestHandler, scopeCheck((req) => req.user)] };
};

const expressJwt: Builder = async (keys) => {
  const { expressjwt } = await import('express-jwt');
  const mw = expressjwt({ secret: keys.rsaPublic, algorithms: ['RS256'], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
  return { handlers: [mw as unknown as RequestHandler, scopeCheck((req) => (req as Request & { auth?: unknown }).auth)] };
};

const oauth2JwtBearer: Builder = async (keys) => {
  const { auth } = await import('express-oauth2-jwt-bearer');
  // The library's own key option (no JWKS round trip per request either way: a JWKS is fetched once and cached).
  const mw = auth({ issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, publicKey: keys.rsaPublic, tokenSigningAlg: 'RS256' });
  return { handlers: [mw, scopeCheck((req) => (req as Request & { auth?: { payload?: unknown } }).auth?.payload)] };
};

const joseCheck: Builder = async (keys) => {
  const { jwtVerify, importSPKI } = await import('jose');
  const key = await importSPKI(keys.rsaPublic, 'RS256');
  const options = { algorithms: ['RS256'], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE };
  const mw: RequestHandler = (req, res, next) => {
    const token = bearer(req);
    if (token === undefined) {
      res.status(401).end();
      return;
    }
    jwtVerify(token, key, options).then(
      ({ payload }) => {
        if (!hasScope(payload)) res.status(403).end();
        else next();
      },
      () => res.status(401).end(),
    );
  };
  return { handlers: [mw] };
};

const BUILDERS: Readonly<Record<string, Builder>> = {
  bare: () => Promise.resolve({ handlers: [] }),
  'apijwt-rs256': (keys) => apiJwt(keys.rsaPublic),
  'apijwt-rs256-new': (keys) => apiJwt(keys.rsaPublic),
  'apijwt-eddsa': (keys) => apiJwt(keys.edPublic),
  'passport-jwt': passportJwt,
  'passport-jwt-new': passportJwt,
  'express-jwt': expressJwt,
  'oauth2-jwt-bearer': oauth2JwtBearer,
  jose: joseCheck,
  'jose-new': joseCheck,
};

/** Builds the Express app of a variant. */
export async function buildApp(variant: string, keysFile: string): Promise<{ app: express.Express; built: BuiltApp }> {
  const builder = BUILDERS[variant];
  if (!builder) throw new Error(`unknown variant ${variant}`);
  const built = await builder(readKeys(keysFile));
  const app = express();
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.get('/r', ...built.handlers, (_req: Request, res: Response) => {
    res.send('ok');
  });
  // Peers report failures through next(err): answer 401 without a stack trace.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status((err as { status?: number }).status ?? 401).end();
  });
  return { app, built };
}
