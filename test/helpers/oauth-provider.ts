/**
 * A real OAuth 2.0 authorization server for the tests: oidc-provider 9 on 127.0.0.1 (ephemeral port),
 * with client_credentials, introspection, revocation and a minimal RFC 7523 jwt-bearer grant.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import Provider from 'oidc-provider';
import { publishJwks } from '../../src/middleware/jwks.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A running provider. */
export interface TestProvider {
  readonly issuer: string;
  readonly provider: Provider;
  /** Private key of the `svc-pk` client (ES256), whose public JWK is registered with the provider. */
  readonly clientKey: KeyObject;
  /** Number of requests seen per path (e.g. `/token/introspection`). */
  readonly hits: Map<string, number>;
  /** Makes the server answer every request with this status (e.g. 500), or undefined to serve normally. */
  setFailure(status: number | undefined): void;
  close(): Promise<void>;
}

export const SECRETS = { rs: 'rs-secret-0123456789abcdef', svc: 'svc-secret:with %special/chars' } as const;

/**
 * Drops oidc-provider's expected start-up notices (Node runtime, in-memory adapter, development
 * keys) from console.warn and console.info, to keep test output readable; returns the undo.
 */
export function quietProviderNotices(): () => void {
  const { warn, info } = console;
  const quiet =
    (orig: (...a: unknown[]) => void) =>
    (...a: unknown[]) => {
      if (typeof a[0] !== 'string' || !a[0].startsWith('oidc-provider')) orig(...a);
    };
  console.warn = quiet(warn);
  console.info = quiet(info);
  return () => {
    console.warn = warn;
    console.info = info;
  };
}

/**
 * oidc-provider's `fetch` option for tests: it refuses to fetch special-use addresses (SSRF
 * protection) through its dispatcher, and the tests' client key sets are on loopback (test only).
 */
export function loopbackFetch(url: string, options: RequestInit & { dispatcher?: unknown }): Promise<Response> {
  const { dispatcher: _dispatcher, ...rest } = options;
  return fetch(url, rest);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** Starts oidc-provider on a free loopback port; `clientJwksUri` overrides where svc-pk's keys are fetched. */
export async function startProvider(opts: { clientJwksUri?: string; clientKey?: KeyObject } = {}): Promise<TestProvider> {
  let delegate: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => {
    r.statusCode = 503;
    r.end();
  };
  let failure: number | undefined;
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (failure !== undefined) {
      res.statusCode = failure;
      res.end('down');
      return;
    }
    delegate(req, res);
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const clientKey = opts.clientKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  // The client's public key is published by the suite's own JWKS middleware on a second loopback port
  // and registered as `jwks_uri` (inline `jwks` objects made in jest's vm realm fail oidc-provider's
  // `constructor === Object` check).
  const jwksMiddleware = publishJwks({ keys: [clientKey], cacheSeconds: 0 });
  const jwksServer = createServer((req, res) =>
    jwksMiddleware(req, res, () => {
      res.statusCode = 404;
      res.end();
    }),
  );
  const jwksPort = await listen(jwksServer);
  const clientJwksUri = opts.clientJwksUri ?? `http://127.0.0.1:${jwksPort}/.well-known/jwks.json`;
  const claimsByToken = new WeakMap<object, Record<string, unknown>>();
  const seenJti = new Set<string>();

  const loud = quietProviderNotices();
  const provider = new Provider(issuer, {
    scopes: ['openid', 'read', 'write'],
    jwks: { keys: [{ ...signing, kid: 'as-1', alg: 'RS256', use: 'sig' }] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Any authenticated confidential client may introspect / revoke (the defaults print a notice).
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true, allowedPolicy: async () => true },
    },
    ttl: { ClientCredentials: 600, AccessToken: 600 },
    clients: [
      { client_id: 'rs', client_secret: SECRETS.rs, grant_types: [], redirect_uris: [], response_types: [] },
      {
        client_id: 'rs-post',
        client_secret: SECRETS.rs,
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: [],
        redirect_uris: [],
        response_types: [],
      },
      {
        client_id: 'svc',
        client_secret: SECRETS.svc,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read write',
      },
      {
        client_id: 'svc-pk',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks_uri: clientJwksUri,
        grant_types: ['client_credentials', JWT_BEARER],
        redirect_uris: [],
        response_types: [],
        scope: 'read write',
      },
    ],
    extraTokenClaims: (_ctx, token) => claimsByToken.get(token as object),
    fetch: loopbackFetch,
  });

  provider.registerGrantType(
    JWT_BEARER,
    async (ctx) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      const client = ctx.oidc.client as unknown as { clientId: string; scope?: string; metadata(): { jwks_uri?: string } };
      const fail = (description: string) => {
        ctx.status = 400;
        ctx.body = { error: 'invalid_grant', error_description: description };
      };
      let payload: Record<string, unknown>;
      try {
        const keys = (await (await fetch(client.metadata().jwks_uri as string)).json()) as JSONWebKeySet;
        ({ payload } = await jwtVerify(params['assertion'] ?? '', createLocalJWKSet(keys), {
          issuer: client.clientId,
          audience: issuer,
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
          maxTokenAge: '1h',
        }));
      } catch {
        fail('assertion invalid');
        return;
      }
      if (seenJti.has(String(payload['jti']))) {
        fail('assertion replayed');
        return;
      }
      seenJti.add(String(payload['jti']));
      const allowed = (client.scope ?? '').split(' ');
      const requested = (params['scope'] ?? String(payload['scope'] ?? '')).split(' ').filter((s) => s !== '');
      const scope = requested.filter((s) => allowed.includes(s)).join(' ');
      const token = new provider.AccessToken({
        accountId: String(payload['sub']),
        client: ctx.oidc.client,
        scope,
        gty: 'jwt-bearer',
      } as never);
      const extra: Record<string, unknown> = {};
      if (payload['purpose']) extra['purpose'] = payload['purpose'];
      if (payload['authorization_id']) extra['authorization_id'] = payload['authorization_id'];
      claimsByToken.set(token, extra);
      const value = await token.save();
      ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope };
    },
    ['assertion', 'scope'],
  );
  delegate = provider.callback();
  return {
    issuer,
    provider,
    clientKey,
    hits,
    setFailure(status) {
      failure = status;
    },
    close: async () => {
      loud();
      for (const s of [server, jwksServer]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
