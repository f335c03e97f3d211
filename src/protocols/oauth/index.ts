/** OAuth 2.0 for services: introspection (RFC 7662), outbound tokens (RFC 6749 / RFC 7523), discovery. */
export { Introspector, MemoryIntrospectionCache } from './introspection.js';
export type {
  IntrospectionOptions,
  IntrospectionCache,
  IntrospectionCacheEntry,
  MemoryIntrospectionCacheOptions,
  IntrospectedToken,
  IntrospectionContext,
} from './introspection.js';
export { TokenClient, JWT_BEARER_GRANT } from './token-client.js';
export type { TokenClientOptions, AccessToken, ClientGrantRequest, UserGrantRequest } from './token-client.js';
export { clientAuthenticator } from './client-auth.js';
export { createMtlsFetch } from './mtls-fetch.js';
export type { ClientTlsOptions, MtlsFetch } from './mtls-fetch.js';
export type { ClientAuthentication, ClientAuthenticator } from './client-auth.js';
export { resolveSigningKey, signAssertion } from './assertion.js';
export type { SigningKey, SigningKeyInput } from './assertion.js';
export { MetadataSource } from './discovery.js';
export type { ServerMetadata, MetadataSourceOptions } from './discovery.js';
export { OAuthClientError, isOAuthClientError } from './errors.js';
export type { OAuthClientErrorCode } from './errors.js';
export type { FetchLike, HttpOptions } from './http.js';
