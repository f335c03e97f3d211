/**
 * Asymmetric JWT routes (`Authorization: JWT`): callers sign with their own private key, the API
 * holds public keys only. Two development callers: `svc-client` (Ed25519, key stored here) and
 * `jwks-client` (RSA, key fetched from a JWKS URL the example itself publishes, as a peer would).
 */
import type { Express } from 'express';
import { join } from 'node:path';
import { asymmetricJwtScheme, authenticate, keyFingerprint, loadPublicKey, publishJwks, requireScopes } from '../../../src/index.js';
import type { RouteModule } from '../context.js';
import { storesOf } from '../stores.js';
import { devKeyPair } from '../dev-keys.js';

export const mountAsymmetricJwt: RouteModule = async (app: Express, ctx) => {
  const svc = devKeyPair(ctx.devDir, 'asymmetric_jwt_svc', 'ed25519');
  const peer = devKeyPair(ctx.devDir, 'asymmetric_jwt_peer', 'rsa');
  const jwksPath = '/asymmetric-jwt/.well-known/jwks.json';
  // The peer's published key set; the kid is asymmetric_jwt_auth's SPKI fingerprint so Python peers agree.
  app.use(
    publishJwks({ path: jwksPath, keys: [{ key: peer.publicPem, kid: keyFingerprint(loadPublicKey(peer.publicPem)), alg: 'RS512' }] }),
  );

  const revocations = storesOf(ctx).revocations;
  const auth = authenticate(
    [
      asymmetricJwtScheme({
        users: {
          'svc-client': { publicKeys: [svc.publicPem], scopes: ['orders:read'], level: 1 },
          'jwks-client': { jwks: [`${ctx.baseUrl}${jwksPath}`], scopes: [] },
        },
        replayStore: storesOf(ctx).replayStore,
        ...(revocations ? { isRevoked: revocations.forAsymmetricJwt() } : {}),
      }),
    ],
    { realm: 'example' },
  );
  const me = (req: { principal?: unknown }, res: { json(body: unknown): void }): void => {
    res.json({ principal: req.principal });
  };
  app.get('/asymmetric-jwt/whoami', auth, me);
  app.get('/asymmetric-jwt/orders', auth, requireScopes('orders:read'), me);

  const u = ctx.baseUrl;
  const cli = (user: string, key: string): string =>
    `npx tsx src/cli/main.ts jwt header --subject ${user} --private-key ${join(ctx.devDir, `${key}_private.pem`)}`;
  const header = (user: string, key: string): string => `"Authorization: $(${cli(user, key)})"`;
  return [
    `curl -i ${u}/asymmetric-jwt/orders -H ${header('svc-client', 'asymmetric_jwt_svc')}   # 200`,
    `curl -i ${u}/asymmetric-jwt/orders -H ${header('jwks-client', 'asymmetric_jwt_peer')}  # 403 insufficient_scope (key from JWKS)`,
    `H="$(${cli('svc-client', 'asymmetric_jwt_svc')})"; curl -s ${u}/asymmetric-jwt/whoami -H "Authorization: $H" >/dev/null; curl -i ${u}/asymmetric-jwt/whoami -H "Authorization: $H"   # 401 replay`,
    `curl -i ${u}${jwksPath}`,
  ];
};
