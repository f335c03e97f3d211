/**
 * authnz-express: one `req.principal`, one set of guards, many schemes.
 *
 * The public surface, grouped by area and listed name by name (no `export *`), so that every change
 * to it is a deliberate diff; test/build/api.test.ts compares the built entry points with the
 * checked-in lists in test/build/api/ (`npm run api:update` rewrites them after a deliberate change).
 * Protocol internals (the JWS codec, Python-compatible JSON, Fernet and the authnzerver message
 * format, kmsauth's message table) are not exported. Optional heavy dependencies live behind
 * subpaths: `authnz-express/redis`, `authnz-express/kms`.
 */

// Errors: one request-time error type with stable codes.
export {
  AuthnzError,
  isAuthnzError,
  AuthError,
  isAuthError,
  statusForCode,
  invalidCredentials,
  malformedRequest,
  dependencyUnavailable,
} from './errors.js';
export type {
  AuthErrorCode,
  AuthErrorOptions,
  AuthReason,
  KnownReason,
  ClaimReason,
  TokenReason,
  DpopReason,
  SignatureReason,
  DirectoryReason,
  RequestReason,
  CredentialReason,
  CertificateReason,
  LimitReason,
  DependencyReason,
  Challenge,
} from './errors.js';

// The principal and the scheme contract (for custom schemes).
export { createPrincipal, getPrincipal, issuerSubject } from './principal.js';
export type { Principal, PrincipalDetails, PrincipalInit, PrincipalKind, SchemeId } from './principal.js';
export { clientAddress, credentialPresence, isToken68, readAuthorization, readToken68 } from './scheme.js';
export type { AuthRequest, AuthScheme } from './scheme.js';

// Middleware: authentication, guards, problem+json rendering, Passport glue.
export { authenticate } from './middleware/authenticate.js';
export type { AuthenticateOptions } from './middleware/authenticate.js';
export {
  requireScopes,
  requireLevel,
  requireKind,
  requireSubject,
  authorize,
  requireSignedComponents,
  requireSignatureTag,
} from './middleware/guards.js';
export type { RequireScopesOptions, AuthorizeOptions, PrincipalPredicate, IssuerSubject } from './middleware/guards.js';
export { toProblem, formatChallenge, problemType, writeProblem } from './lib/render.js';
export type { ProblemDetails, ErrorRenderer } from './lib/render.js';
export { getAuthContext } from './middleware/context.js';
// Observability: diagnostics_channel events and configuration warnings.
export { CHANNELS } from './diagnostics.js';
export type { AuthenticateEvent, DependencyEvent, DependencyTarget, GuardEvent } from './diagnostics.js';
export type { Logger, ObservableOptions, ValidateOptions, WarningCode } from './lib/warnings.js';
export type { AuthContext } from './middleware/context.js';
export { toPassportStrategy, passportAttempts, type PassportStrategyOptions, type PassportAttempt } from './passport/strategy.js';
export { passportErrorHandler } from './passport/errors.js';
export type { Middleware, ErrorMiddleware } from './http.js';
export type { PassportStrategyLike } from './passport/strategy.js';

// Keys: import, directories, OpenSSH keys, remote JWKS, thumbprints, publishing a JWKS.
export { importPublicKey, importPrivateKey, keyFamily, KeyImportError, isKeyImportError, MIN_RSA_BITS } from './keys/import.js';
export type { KeyImportErrorCode } from './keys/import.js';
export type { PublicKeyInput, PrivateKeyInput, KeyFamily } from './keys/import.js';
export type { JwsAlgorithm } from './jwt/compact.js';
export { loadKeyDirectory, parseKeyFile, KeyDirectoryError } from './keys/directory.js';
export type { DirectoryKey, LoadKeyDirectoryOptions, ParsedKey } from './keys/directory.js';
export { parseOpenSshPublicKey, isOpenSshPublicKey } from './keys/openssh.js';
export type { OpenSshPublicKey } from './keys/openssh.js';
export { RemoteJwks } from './keys/remote-jwks.js';
export type { RemoteJwksOptions } from './keys/remote-jwks.js';
export { jwkThumbprint } from './keys/thumbprint.js';
export { publishJwks, buildJwks } from './middleware/jwks.js';
export { defaultAlgorithm } from './jwt/compact.js';
export type { PublishJwksOptions, JwksKeyEntry, PublishedJwk } from './middleware/jwks.js';

// APIJwt (`Authorization: Bearer`, api_jwt / api-jwt-2).
export {
  ApiJwtIssuer,
  ApiJwtVerifier,
  ApiJwtIssueError,
  DEFAULT_ALLOWED,
  DEFAULT_EXTRAS,
  DEFAULT_KEY_NAMES,
} from './schemes/apijwt/index.js';
export type {
  ApiJwtIssuerOptions,
  IssueRequest,
  IssuedApiJwt,
  ApiJwtVerifierOptions,
  ApiJwtClaims,
  ApiJwtResult,
  ApiJwtFailure,
  ApiJwtKeySource,
  AudienceMode,
} from './schemes/apijwt/index.js';
export type {
  ApiJwtIssueErrorCode,
  AllowedValues,
  ApiJwtModelOptions,
  ExtraSpec,
  ExtraType,
  ExtraValue,
  PyJsonValue,
} from './schemes/apijwt/index.js';
export { apiJwtScheme } from './schemes/apijwt/scheme.js';
export type { ApiJwtSchemeOptions } from './schemes/apijwt/scheme.js';

// Asymmetric JWT (`Authorization: JWT`, asymmetric_jwt_auth): both sides.
export { AsymmetricJwtVerifier, ASYMMETRIC_JWT_ALGORITHMS, DEFAULT_MAX_TOKEN_AGE_SECONDS } from './schemes/asymmetric-jwt/index.js';
export type { AsymmetricJwtVerifierOptions, AsymmetricJwtResult, AsymmetricJwtCompat } from './schemes/asymmetric-jwt/index.js';
export { createAuthHeader, createToken, createJwtFetch, signToken, loadSigningKey } from './schemes/asymmetric-jwt/index.js';
export type { CreateAuthHeaderOptions, CreateJwtFetchOptions } from './schemes/asymmetric-jwt/index.js';
export { lookupUser, loadPublicKey, storedKeys, keyFingerprint } from './schemes/asymmetric-jwt/index.js';
export type { AsymmetricJwtUser, AsymmetricJwtUserLookup, AsymmetricJwtKeySource } from './schemes/asymmetric-jwt/index.js';
export { asymmetricJwtScheme } from './schemes/asymmetric-jwt/scheme.js';
export type { AsymmetricJwtSchemeOptions } from './schemes/asymmetric-jwt/scheme.js';
export { MemoryReplayStore } from './stores/replay.js';
export type { ReplayStore, ReplayClaim, MemoryReplayStoreOptions } from './stores/replay.js';

// kmsauth (python-kmsauth): SDK-free core and scheme; the AWS SDK adapter and local KMS live in `authnz-express/kms`.
export {
  KmsTokenValidator,
  KmsTokenGenerator,
  KmsauthValidationError,
  KmsauthContextError,
  KmsauthGenerationError,
  KmsauthConnectionError,
  KmsUnavailableError,
} from './schemes/kmsauth/index.js';
export type {
  KmsTokenValidatorOptions,
  KmsTokenValidation,
  KmsauthStats,
  DecryptTokenContext,
  KmsTokenGeneratorOptions,
  KmsClientLike,
  EncryptionContext,
  KmsauthValidationCode,
} from './schemes/kmsauth/index.js';
export { kmsauthScheme } from './schemes/kmsauth/scheme.js';
export type { KmsauthSchemeOptions } from './schemes/kmsauth/scheme.js';

// API keys (hashed at rest, scoped, IP-bound).
export { ApiKeyManager, parseApiKey, generateApiKey, hashApiKey, cidrMatcher, validateCidrs } from './schemes/apikey/index.js';
export type {
  ApiKeyManagerOptions,
  IssueApiKeyOptions,
  IssuedApiKey,
  VerifiedApiKey,
  VerifyContext,
  ParsedApiKey,
} from './schemes/apikey/index.js';
export { MemoryApiKeyStore, JsonFileApiKeyStore } from './stores/apikey.js';
export type { ApiKeyRecord, ApiKeyStore } from './stores/apikey.js';
export { CachedApiKeyStore } from './stores/apikey-cache.js';
export type { CachedApiKeyStoreOptions } from './stores/apikey-cache.js';
export { apiKeyScheme, readApiKey } from './schemes/apikey/scheme.js';
export type { ApiKeySchemeOptions } from './schemes/apikey/scheme.js';

// OAuth 2.0: introspection (RFC 7662), outbound tokens (RFC 6749 / RFC 7523), discovery.
export {
  Introspector,
  MemoryIntrospectionCache,
  TokenClient,
  JWT_BEARER_GRANT,
  clientAuthenticator,
  createMtlsFetch,
  resolveSigningKey,
  signAssertion,
  MetadataSource,
  OAuthClientError,
  isOAuthClientError,
} from './protocols/oauth/index.js';
export type {
  IntrospectionOptions,
  IntrospectionCache,
  IntrospectionCacheEntry,
  MemoryIntrospectionCacheOptions,
  IntrospectedToken,
  IntrospectionContext,
  TokenClientOptions,
  AccessToken,
  ClientGrantRequest,
  UserGrantRequest,
} from './protocols/oauth/index.js';
export type {
  ClientAuthentication,
  ClientAuthenticator,
  ClientTlsOptions,
  MtlsFetch,
  SigningKey,
  SigningKeyInput,
  ServerMetadata,
  MetadataSourceOptions,
  OAuthClientErrorCode,
  FetchLike,
  HttpOptions,
} from './protocols/oauth/index.js';
export type { CappedReadable } from './lib/net.js';
export { introspectionScheme, defaultIntrospectionPrincipal } from './schemes/introspection/scheme.js';
export type { IntrospectionSchemeOptions } from './schemes/introspection/scheme.js';

// OAuth 2.0 JWT access tokens (RFC 9068) and DPoP (RFC 9449).
export { JwtAccessTokenVerifier, JWT_BEARER_ALGORITHMS, scopesOf } from './schemes/jwt-bearer/index.js';
export type {
  JwtAccessTokenVerifierOptions,
  JwtIssuerOptions,
  VerifyAccessTokenOptions,
  IssuerKeyOptions,
  StaticKey,
  VerifiedAccessToken,
} from './schemes/jwt-bearer/index.js';
export { jwtBearerScheme, defaultJwtBearerPrincipal } from './schemes/jwt-bearer/scheme.js';
export type { JwtBearerSchemeOptions } from './schemes/jwt-bearer/scheme.js';
export {
  verifyDpopProof,
  createDpopProof,
  dpopKey,
  accessTokenHash,
  DPOP_ALGORITHMS,
  HmacDpopNonces,
  requestUrl,
  createDpopFetch,
} from './protocols/dpop/index.js';
export type {
  DpopExpectation,
  VerifiedDpopProof,
  DpopProofRequest,
  DpopKey,
  DpopNonceSource,
  HmacDpopNoncesOptions,
  DpopMode,
  DpopOptions,
  PresentedToken,
  DpopFetchOptions,
} from './protocols/dpop/index.js';

// HTTP Message Signatures (RFC 9421) with Content-Digest (RFC 9530).
export {
  signMessage,
  verifyMessage,
  DEFAULT_REQUIRED_COMPONENTS,
  httpMessage,
  messageFromNodeRequest,
  messageFromFetchRequest,
  messageFromFetchResponse,
  signatureBase,
  componentValue,
  KNOWN_STRUCTURED_FIELDS,
  algorithmsForKey,
  signBase,
  verifyBase,
  hmacSecret,
  parseSignatureInput,
  parseSignatures,
  parseAcceptSignature,
  serializeAcceptSignature,
  componentFromText,
  HTTP_SIGNATURE_ALGORITHMS,
  DEFAULT_STRUCTURED_LIMITS,
  contentDigest,
  parseContentDigest,
  ContentDigestCheck,
  captureRawBody,
  capturedRawBody,
  feedRequestBody,
} from './protocols/http-signatures/index.js';
export type {
  HttpSigningKey,
  SignParameters,
  SignMessageOptions,
  SignedMessage,
  VerificationKey,
  VerificationKeyLookup,
  VerifyMessageOptions,
  VerifiedSignature,
  HttpMessage,
  HttpMessageInit,
  FieldsInput,
  NodeRequestLike,
  StructuredFieldType,
  SignatureKeyMaterial,
  HttpSignatureAlgorithm,
  ComponentIdentifier,
  ComponentParameters,
  SignatureParameters,
  SignatureInputEntry,
  SignatureRequest,
  StructuredLimits,
  ContentDigestAlgorithm,
  BodyStream,
} from './protocols/http-signatures/index.js';
export { httpSignatureScheme, HTTP_SIGNATURE_CHALLENGE } from './schemes/http-signature/index.js';
export type {
  HttpSignatureSchemeOptions,
  HttpSignatureKeyOwner,
  HttpSignaturePublicKey,
  HttpSignatureSharedSecret,
  HttpSignatureKeyContext,
  HttpSignatureKeyResolver,
  ResolvedHttpSignatureKey,
} from './schemes/http-signature/index.js';

// authnzerver bridge (sessions and API keys over its protocol).
export { AuthnzerverClient } from './schemes/authnzerver/index.js';
export type { AuthnzerverClientOptions, AuthnzerverReply } from './schemes/authnzerver/index.js';
export { authnzerverScheme, sealAuthnzerverApiKey } from './schemes/authnzerver/scheme.js';
export type { AuthnzerverSchemeOptions } from './schemes/authnzerver/scheme.js';

// Rate limits and brute-force lock-out (in memory here; Redis-backed in `authnz-express/redis`).
export { rateLimit, rateLimitKey } from './limits/rate-limit.js';
export type { RateLimitOptions } from './limits/rate-limit.js';
export { memoryLimiterFactory } from './stores/limiter.js';
export type { RateLimitRule, LimiterFactory, LimiterLike, LimiterConfig, LimiterResult } from './stores/limiter.js';
export { bruteForce } from './limits/brute-force.js';
export type { BruteForceOptions, BruteForceGuard, SubjectHint } from './limits/brute-force.js';
export { preAuthLimit } from './limits/pre-auth-limit.js';
export type { PreAuthLimitOptions, PreAuthLimiter } from './limits/pre-auth-limit.js';

// Access policy.
export {
  loadPolicy,
  validatePolicy,
  parsePolicyText,
  PolicyError,
  isPolicyError,
  checkAccess,
  checkLimit,
  allowedActions,
  visibilityAllows,
} from './policy/index.js';
export type {
  PolicyDocument,
  ItemPolicy,
  RolePolicy,
  LimitKind,
  AccessRequest,
  AccessTarget,
  AccessReason,
  DecideOptions,
} from './policy/index.js';
export { requireAccess, principalRole } from './middleware/require-access.js';
export type { RequireAccessOptions, TargetSource } from './middleware/require-access.js';

/* HTTP Message Signatures key directories, Web Bot Auth, and signing outgoing requests. */
export { KeyDirectoryResolver, DIRECTORY_PATH, DIRECTORY_MEDIA_TYPE, DIRECTORY_TAG } from './protocols/http-signatures/directory.js';
export type {
  KeyDirectoryOptions,
  KeyDirectoryEntry,
  KeyDirectoryContents,
  DirectorySignatureCheck,
} from './protocols/http-signatures/directory.js';
export { DirectoryFetchError, isDirectoryFetchError } from './protocols/http-signatures/directory-fetch.js';
export type {
  DirectoryFetchErrorCode,
  DirectoryLookup,
  ResolvedAddress,
  DirectoryAnswer,
} from './protocols/http-signatures/directory-fetch.js';
export { checkDirectorySignatures } from './protocols/http-signatures/directory-signature.js';
export { createSignedFetch, createRequestSigner, WEB_BOT_AUTH_TAG } from './protocols/http-signatures/signed-fetch.js';
export type { RequestSignerOptions, SignedFetchOptions, RequestToSign, RequestSigner } from './protocols/http-signatures/signed-fetch.js';
export { webBotAuth } from './schemes/http-signature/web-bot-auth.js';
export type { WebBotAuthOptions, WebBotAuthSchemeOptions } from './schemes/http-signature/web-bot-auth.js';
export { publishKeyDirectory } from './schemes/http-signature/publish-directory.js';
export type { PublishKeyDirectoryOptions, DirectorySigningKey } from './schemes/http-signature/publish-directory.js';
// Mutual TLS: client certificates (socket or a trusted proxy's header), SPIFFE X.509-SVIDs.
export { clientCertificateScheme, isSpiffeId } from './schemes/client-certificate/scheme.js';
export type {
  ClientCertificateSchemeOptions,
  ClientCertificateIdentity,
  VerifiedClientCertificate,
} from './schemes/client-certificate/scheme.js';
export { clientCertificateReader, certificateThumbprint } from './lib/client-certificate.js';
export type {
  ClientCertificateSource,
  ClientCertificateSourceOptions,
  ClientCertificateReader,
  PresentedCertificate,
  TrustedProxies,
} from './lib/client-certificate.js';
export type { ReadSubjectAltNames } from './lib/x509.js';
