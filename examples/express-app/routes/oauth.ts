/**
 * OAuth 2.0 for services: an introspection-protected route and the service's JWKS. With no
 * authorization server configured (OAUTH_ISSUER), an embedded oidc-provider is started on 127.0.0.1
 * (free port) with a `svc` client for client_credentials and an `rs` client that introspects.
 */
import type { Express } from 'express';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authenticate, importPrivateKey, introspectionScheme, publishJwks, requireScopes } from '../../../src/index.js';
import type { ExampleContext, RouteModule } from '../context.js';
import { storesOf } from '../stores.js';
import { devKeyPair } from '../dev-keys.js';
import { serveProvider } from '../oidc.js';

interface DevClients {
  svcSecret: string;
  rsSecret: string;
}

/** Client secrets of the embedded provider: made on first start, reused after (mode 0600). */
function devClients(devDir: string): DevClients {
  const path = join(devDir, 'oauth_clients.json');
  if (!existsSync(path)) {
    const fresh: DevClients = { svcSecret: randomBytes(18).toString('base64url'), rsSecret: randomBytes(18).toString('base64url') };
    writeFileSync(path, JSON.stringify(fresh), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(path, 'utf8')) as DevClients;
}

/** Starts the embedded oidc-provider (client_credentials, introspection, revocation). */
async function startEmbeddedProvider(ctx: ExampleContext, clients: DevClients): Promise<string> {
  const signing = importPrivateKey(devKeyPair(ctx.devDir, 'oauth_as_rsa', 'rsa').privatePem).export({ format: 'jwk' });
  return serveProvider(ctx, () => ({
    scopes: ['openid', 'read', 'write'],
    jwks: { keys: [{ ...signing, kid: 'example-as', alg: 'RS256', use: 'sig' }] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true, allowedPolicy: async () => true },
    },
    ttl: { ClientCredentials: 600, AccessToken: 600 },
    clients: [
      { client_id: 'rs', client_secret: clients.rsSecret, grant_types: [], redirect_uris: [], response_types: [] },
      {
        client_id: 'svc',
        client_secret: clients.svcSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read write',
      },
    ],
  }));
}

export const mountOAuth: RouteModule = async (app: Express, ctx) => {
  const clients = devClients(ctx.devDir);
  const configured = process.env['OAUTH_ISSUER'];
  const issuer = configured ?? (await startEmbeddedProvider(ctx, clients));
  const introspectionCache = storesOf(ctx).introspectionCache;
  const scheme = introspectionScheme({
    issuer,
    clientAuth: {
      method: 'client_secret_basic',
      clientId: process.env['OAUTH_RS_CLIENT_ID'] ?? 'rs',
      clientSecret: process.env['OAUTH_RS_CLIENT_SECRET'] ?? clients.rsSecret,
    },
    cacheSeconds: 30,
    negativeCacheSeconds: 5,
    ...(introspectionCache ? { cache: introspectionCache } : {}),
  });
  const bearer = authenticate([scheme], { realm: 'example-oauth' });
  const me = (req: { principal?: unknown }, res: { json(body: unknown): void }): void => {
    res.json({ principal: req.principal });
  };
  app.get('/oauth/me', bearer, me);
  app.get('/oauth/write', bearer, requireScopes('write'), me);

  // The service's own signing keys (current and next), as peers and private_key_jwt registrations fetch them.
  const keyDir = join(ctx.devDir, 'oauth-keys');
  mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const current = devKeyPair(keyDir, 'service_ec', 'ec').publicPem;
  const next = devKeyPair(keyDir, 'service_ed25519', 'ed25519').publicPem;
  app.use(publishJwks({ keys: [current, next], path: '/oauth/jwks.json', cacheSeconds: 300 }));

  const u = ctx.baseUrl;
  const secret = configured ? '<your client secret>' : clients.svcSecret;
  return [
    `curl -i ${u}/oauth/jwks.json                                # 200, the service's public keys`,
    `curl -i ${u}/oauth/me                                       # 401 with a Bearer challenge`,
    `TOKEN=$(curl -s -u svc:${secret} -d grant_type=client_credentials -d scope=read ${issuer}/token | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `curl -i ${u}/oauth/me -H "Authorization: Bearer $TOKEN"     # expect 200: subject svc, scopes [read]`,
    `curl -i ${u}/oauth/write -H "Authorization: Bearer $TOKEN"  # expect 403 insufficient_scope`,
    `AUTHNZ_CLIENT_SECRET=${secret} npx tsx src/cli/main.ts oauth token --issuer ${issuer} --client-id svc --scope 'read write'`,
    `npx tsx src/cli/main.ts jwks ${keyDir}   # the same JWK Set, from the key directory`,
  ];
};
