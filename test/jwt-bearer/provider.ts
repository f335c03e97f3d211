/**
 * A real OpenID provider issuing RFC 9068 JWT access tokens: oidc-provider 9 on 127.0.0.1 (free
 * port) with resource indicators (RFC 8707; `API` gets JWT tokens, `OPAQUE_API` opaque ones), DPoP
 * (RFC 9449) at the token endpoint, client_credentials, and CIBA (poll mode) with refresh tokens as
 * the user grant — CIBA is the one user flow oidc-provider completes without a browser: the test
 * plays the user's authentication device through `provider.backchannelResult()`.
 * `rotate()` restarts the provider on the same issuer with a new signing key (old key still listed).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { quietProviderNotices } from '../helpers/oauth-provider.js';

export const API = 'https://api.example.test';
export const OPAQUE_API = 'https://opaque.example.test';
export const SECRET = 'jwt-bearer-client-secret-0123456789';
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

/** oidc-provider's `features.resourceIndicators`: `API` gets ES256 JWT access tokens, `OPAQUE_API` opaque ones. */
export const RESOURCE_INDICATORS = {
  enabled: true,
  defaultResource: async () => undefined,
  useGrantedResource: async () => true,
  getResourceServerInfo: async (_ctx: unknown, resource: string) => {
    if (resource === API)
      return { scope: 'read write', audience: API, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
    if (resource === OPAQUE_API) return { scope: 'read write', audience: OPAQUE_API, accessTokenTTL: 600, accessTokenFormat: 'opaque' };
    throw new Error('unknown resource');
  },
};

/** A running provider. */
export interface JwtProvider {
  readonly issuer: string;
  /** Requests seen per path (e.g. `/jwks`). */
  readonly hits: Map<string, number>;
  /** kid of the current signing key. */
  readonly kid: string;
  /** Answer every request with this status (e.g. 500), or undefined to serve normally. */
  setFailure(status: number | undefined): void;
  /** New signing key (kid `as-<n>`), the previous one kept in the JWKS unless `dropOld`. */
  rotate(dropOld?: boolean): void;
  /** Completes a CIBA request as the user's device would (grants openid, offline_access and `read` on API). */
  approve(authReqId: string, accountId: string): Promise<void>;
  close(): Promise<void>;
}

type SigningJwk = JsonWebKey & { kid: string; alg: string; use: string };

const signingKey = (kid: string): SigningJwk => ({
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
  kid,
  alg: 'ES256',
  use: 'sig',
});

/** The provider configuration (one per key set). */
function configuration(keys: readonly SigningJwk[]): Record<string, unknown> {
  const pending = new Map<string, unknown>();
  return {
    scopes: ['openid', 'offline_access', 'read', 'write'],
    jwks: { keys: keys.map((k) => ({ ...k })) },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      dPoP: { enabled: true },
      resourceIndicators: RESOURCE_INDICATORS,
      ciba: {
        enabled: true,
        deliveryModes: ['poll'],
        processLoginHint: async (_ctx: unknown, hint: string) => hint,
        validateBindingMessage: async () => undefined,
        validateRequestContext: async () => undefined,
        verifyUserCode: async () => undefined,
        triggerAuthenticationDevice: async (_ctx: unknown, request: { jti: string }) => {
          pending.set(request.jti, request);
        },
      },
    },
    ttl: { ClientCredentials: 600, AccessToken: 600, BackchannelAuthenticationRequest: 600, RefreshToken: 3600, Grant: 3600 },
    // Only EC P-256 signing keys here: every client's ID tokens use ES256 too.
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    clients: [
      {
        client_id: 'svc',
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read write',
      },
      {
        client_id: 'svc-dpop',
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read write',
        dpop_bound_access_tokens: true,
      },
      { client_id: 'rs', client_secret: SECRET, grant_types: [], redirect_uris: [], response_types: [] },
      {
        client_id: 'device-app',
        client_secret: SECRET,
        grant_types: [CIBA_GRANT, 'refresh_token'],
        redirect_uris: [],
        response_types: [],
        backchannel_token_delivery_mode: 'poll',
        scope: 'openid offline_access read write',
      },
    ],
    pending,
  };
}

/** Starts the provider on a free loopback port. */
export async function startJwtProvider(): Promise<JwtProvider> {
  let failure: number | undefined;
  const hits = new Map<string, number>();
  let provider: Provider | undefined;
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (failure !== undefined) {
      res.statusCode = failure;
      res.end('down');
      return;
    }
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const loud = quietProviderNotices();

  let keys: SigningJwk[] = [signingKey('as-1')];
  let pending = new Map<string, unknown>();
  const boot = (): void => {
    const config = configuration(keys);
    pending = config['pending'] as Map<string, unknown>;
    delete config['pending'];
    provider = new Provider(issuer, config);
    handle = provider.callback();
  };
  boot();
  const state = {
    issuer,
    hits,
    get kid() {
      return (keys[0] as SigningJwk).kid;
    },
    setFailure(status: number | undefined) {
      failure = status;
    },
    rotate(dropOld = false) {
      const next = signingKey(`as-${keys.length + 1}`);
      keys = dropOld ? [next] : [next, ...keys];
      boot();
    },
    async approve(authReqId: string, accountId: string) {
      const p = provider as unknown as {
        Grant: new (init: Record<string, unknown>) => {
          addOIDCScope(s: string): void;
          addResourceScope(r: string, s: string): void;
          save(): Promise<string>;
        };
        backchannelResult(request: unknown, grant: unknown): Promise<void>;
      };
      const request = pending.get(authReqId);
      if (!request) throw new Error(`no pending CIBA request ${authReqId}`);
      const grant = new p.Grant({ clientId: 'device-app', accountId });
      grant.addOIDCScope('openid offline_access');
      grant.addResourceScope(API, 'read');
      await grant.save();
      await p.backchannelResult(request, grant);
    },
    close: async () => {
      loud();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}
