/**
 * APIJwt routes, one per guard. The example plays the auth service too: it signs development tokens
 * with a key made on first start, so the curl lines work as printed.
 */
import type { Express } from 'express';
import {
  ApiJwtIssuer,
  apiJwtScheme,
  authenticate,
  authorize,
  requireKind,
  requireLevel,
  requireScopes,
  requireSubject,
} from '../../../src/index.js';
import type { RouteModule } from '../context.js';
import { storesOf } from '../stores.js';
import { devKeyPair } from '../dev-keys.js';

export const mountApiJwt: RouteModule = async (app: Express, ctx) => {
  const { privatePem, publicPem } = devKeyPair(ctx.devDir, 'apijwt_rsa', 'rsa');
  const model = {
    keyNames: { user: 'auth_user', admin: 'auth_admin' },
    allowed: { scopes: { PER_KEY: { user: ['orders:read', 'orders:write'], admin: ['admin:all', 'orders:read'] } } },
  };
  const issuer = new ApiJwtIssuer({ ...model, privateKey: privatePem, lifetimeSeconds: 3600 });
  const revocations = storesOf(ctx).revocations;
  const revocation = revocations ? { isRevoked: revocations.forApiJwt() } : {};
  const bearer = authenticate([apiJwtScheme({ ...model, publicKeys: [publicPem], requireKnownIssuer: true, ...revocation })], {
    realm: 'example',
  });
  const me = (req: { principal?: unknown }, res: { json(body: unknown): void }): void => {
    res.json({ principal: req.principal });
  };

  app.get('/apijwt/me', bearer, me);
  app.get('/apijwt/orders', bearer, requireScopes('orders:read'), me);
  app.post('/apijwt/orders', bearer, requireScopes(['orders:write', 'admin:all'], { match: 'any' }), me);
  app.get('/apijwt/strong', bearer, requireLevel(2), me);
  app.get('/apijwt/users-only', bearer, requireKind('user'), me);
  app.get('/apijwt/alice', bearer, requireSubject('alice'), me);
  app.get(
    '/apijwt/office-hours',
    bearer,
    authorize((p) => p.details.factor === 'yubikey', { description: 'Requires a hardware key.' }),
    me,
  );
  app.get('/apijwt/optional', authenticate([apiJwtScheme({ ...model, publicKeys: [publicPem] })], { optional: true }), me);

  const reader = issuer.issue({ subject: 'alice', extras: { scopes: ['orders:read'], level: 1, factor: 'password' } }).token;
  const admin = issuer.issue({ subject: 'root', keyName: 'admin', extras: { scopes: ['admin:all'], level: 3, factor: 'yubikey' } }).token;
  const u = ctx.baseUrl;
  return [
    `curl -i ${u}/apijwt/orders -H 'Authorization: Bearer ${reader}'          # 200`,
    `curl -i -X POST ${u}/apijwt/orders -H 'Authorization: Bearer ${reader}'  # 403 insufficient_scope`,
    `curl -i ${u}/apijwt/strong -H 'Authorization: Bearer ${admin}'           # 200 (level 3)`,
    `curl -i ${u}/apijwt/orders                                               # 401 with a Bearer challenge`,
    `npx tsx src/cli/main.ts apijwt mint --private-key ${ctx.devDir}/apijwt_rsa_private.pem --subject bob --scope orders:read`,
  ];
};
