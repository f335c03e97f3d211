/**
 * OAuth 2.0 JWT access tokens (RFC 9068) and DPoP (RFC 9449): `/jwt/orders` accepts Bearer and DPoP
 * tokens, `/dpop/orders` only DPoP-bound ones. With no provider configured (JWT_ISSUER and
 * JWT_AUDIENCE), an embedded oidc-provider starts on 127.0.0.1 (free port) issuing JWT access tokens
 * for this API (resource indicator = the API's base URL) to a `svc-dpop` client that must bind them.
 */
import type { Express } from 'express';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authenticate, importPrivateKey, jwtBearerScheme, requireScopes } from '../../../src/index.js';
import type { ExampleContext, RouteModule } from '../context.js';
import { devKeyPair } from '../dev-keys.js';
import { serveProvider } from '../oidc.js';

/** The embedded provider's client secret: made on first start, reused after (mode 0600). */
function devSecret(devDir: string): string {
  const path = join(devDir, 'jwt_bearer_client_secret');
  if (!existsSync(path)) writeFileSync(path, randomBytes(18).toString('base64url'), { mode: 0o600 });
  return readFileSync(path, 'utf8');
}

/** Starts oidc-provider with JWT access tokens for `audience` and DPoP at its token endpoint. */
async function startProvider(ctx: ExampleContext, audience: string, secret: string): Promise<string> {
  const signing = importPrivateKey(devKeyPair(ctx.devDir, 'jwt_as_ec', 'ec').privatePem).export({ format: 'jwk' });
  return serveProvider(ctx, () => ({
    scopes: ['openid', 'read', 'write'],
    jwks: { keys: [{ ...signing, kid: 'example-jwt-as', alg: 'ES256', use: 'sig' }] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({
          scope: 'read write',
          audience,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    ttl: { ClientCredentials: 600 },
    clients: [
      {
        client_id: 'svc-dpop',
        client_secret: secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read write',
        dpop_bound_access_tokens: true,
      },
    ],
  }));
}

export const mountJwtBearer: RouteModule = async (app: Express, ctx) => {
  const secret = devSecret(ctx.devDir);
  const audience = process.env['JWT_AUDIENCE'] ?? ctx.baseUrl;
  const configured = process.env['JWT_ISSUER'];
  const issuer = configured ?? (await startProvider(ctx, audience, secret));
  const me = (req: { principal?: unknown }, res: { json(body: unknown): void }): void => {
    res.json({ principal: req.principal });
  };
  // A DPoP proof names the URL the client called: only this API's own origin may satisfy it, never
  // one the request's Host header claims.
  const origins = [new URL(ctx.baseUrl).origin];
  app.get('/jwt/orders', authenticate([jwtBearerScheme({ issuer, audience, dpop: { origins } })]), requireScopes('read'), me);
  app.get(
    '/dpop/orders',
    authenticate([jwtBearerScheme({ issuer, audience, dpop: { mode: 'required', origins } })]),
    requireScopes('read'),
    me,
  );

  devKeyPair(ctx.devDir, 'dpop_client_ec', 'ec');
  const key = join(ctx.devDir, 'dpop_client_ec_private.pem');
  const u = ctx.baseUrl;
  return [
    `curl -i ${u}/dpop/orders                                    # 401 with a DPoP algs="…" challenge`,
    `TOKEN=$(AUTHNZ_CLIENT_SECRET=${configured ? '<your client secret>' : secret} npx tsx src/cli/main.ts oauth token --issuer ${issuer} --client-id svc-dpop --scope read --resource ${audience} --dpop-key ${key})`,
    `curl -i ${u}/dpop/orders -H "Authorization: DPoP $TOKEN" -H "DPoP: $(AUTHNZ_ACCESS_TOKEN=$TOKEN npx tsx src/cli/main.ts dpop proof --private-key ${key} --url ${u}/dpop/orders)"   # expect 200: subject svc-dpop, details.jkt`,
    `curl -i ${u}/jwt/orders -H "Authorization: Bearer $TOKEN"   # expect 401 dpop_bound: a DPoP-bound token sent as Bearer`,
    `curl -i ${u}/jwt/orders -H "Authorization: DPoP $TOKEN" -H "DPoP: $(AUTHNZ_ACCESS_TOKEN=$TOKEN npx tsx src/cli/main.ts dpop proof --private-key ${key} --url ${u}/jwt/orders)"     # expect 200 (Bearer and DPoP route)`,
  ];
};
