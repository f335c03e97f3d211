/** Route modules of the example app, one per scheme; each scheme appends its own line. */
import type { RouteModule } from '../context.js';
import { mountApiJwt } from './apijwt.js';
import { mountOAuth } from './oauth.js';
import { mountKmsauth } from './kmsauth.js';
import { mountAsymmetricJwt } from './asymmetric-jwt.js';
import { mountApiKey } from './apikey.js';
import { mountJwtBearer } from './jwt-bearer.js';
import { mountMtls } from './mtls.js';

export const routeModules: Array<[name: string, mount: RouteModule]> = [
  ['APIJwt (Authorization: Bearer)', mountApiJwt],
  ['OAuth 2.0 introspection (Authorization: Bearer, opaque tokens)', mountOAuth],
  ['kmsauth (X-Auth-From + X-Auth-Token, or Basic)', mountKmsauth],
  ['asymmetric JWT (Authorization: JWT, caller-signed)', mountAsymmetricJwt],
  ['API keys (X-API-Key or Authorization: ApiKey), rate limit, access policy', mountApiKey],
  ['OAuth 2.0 JWT access tokens (RFC 9068) and DPoP (RFC 9449)', mountJwtBearer],
  ['mutual TLS (client certificate with a SPIFFE ID, on the HTTPS listener)', mountMtls],
];
