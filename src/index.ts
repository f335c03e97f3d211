/**
 * authnz-express: one `req.principal`, one set of guards, many schemes.
 * Optional heavy dependencies live behind subpaths: `authnz-express/redis`, `authnz-express/kms`.
 */
export { AuthError, isAuthError, statusForCode, invalidCredentials, malformedRequest, dependencyUnavailable } from './errors.js';
export type { AuthErrorCode, AuthErrorOptions, Challenge } from './errors.js';
export { createPrincipal, getPrincipal } from './principal.js';
export type { Principal, PrincipalDetails, PrincipalInit, PrincipalKind, SchemeId } from './principal.js';
export { clientAddress, credentialPresence, isToken68, readAuthorization, readToken68 } from './scheme.js';
export type { AuthRequest, AuthScheme } from './scheme.js';
export { authenticate } from './middleware/authenticate.js';
export type { AuthenticateOptions, Middleware } from './middleware/authenticate.js';
export { requireScopes, requireLevel, requireKind, requireSubject, authorize } from './middleware/guards.js';
export type { RequireScopesOptions, AuthorizeOptions, PrincipalPredicate } from './middleware/guards.js';
export { toProblem, formatChallenge, problemType, writeProblem } from './middleware/render.js';
export type { ProblemDetails, ErrorRenderer } from './middleware/render.js';
export { getAuthContext } from './middleware/context.js';
// Observability: diagnostics_channel events and configuration warnings.
export { CHANNELS } from './diagnostics.js';
export type { AuthenticateEvent, DependencyEvent, DependencyTarget, GuardEvent } from './diagnostics.js';
export type { Logger, ObservableOptions, ValidateOptions, WarningCode } from './warnings.js';
export type { AuthContext } from './middleware/context.js';
export { toPassportStrategy, passportAttempts, type PassportStrategyOptions, type PassportAttempt } from './strategies/passport.js';
export { passportErrorHandler, type ErrorMiddleware } from './strategies/passport-errors.js';
export type { PassportStrategyLike } from './strategies/passport.js';
export { importPublicKey, importPrivateKey, keyFamily, KeyImportError, MIN_RSA_BITS } from './keys/import.js';
export type { PublicKeyInput, PrivateKeyInput, KeyFamily } from './keys/import.js';
export { parseCompact, verifyParsed, signCompact, algorithmsForKey, JwsError, ALGORITHMS_BY_FAMILY } from './jwt/compact.js';
export type { JwsAlgorithm, JwsFailure, ParsedJws } from './jwt/compact.js';
// Schemes (one line each; keep this list sorted by issue order)
export * from './schemes/apijwt/index.js';
export { apiJwtScheme } from './strategies/apijwt.js';
export type { ApiJwtSchemeOptions } from './strategies/apijwt.js';
export { jwkThumbprint } from './keys/thumbprint.js';
export * from './schemes/oauth/index.js';
export { introspectionScheme, defaultIntrospectionPrincipal } from './strategies/introspection.js';
export type { IntrospectionSchemeOptions } from './strategies/introspection.js';
export { publishJwks, buildJwks, defaultAlgorithm } from './middleware/jwks.js';
export type { PublishJwksOptions, JwksKeyEntry, PublishedJwk } from './middleware/jwks.js';
export { loadKeyDirectory, parseKeyFile, KeyDirectoryError } from './keys/directory.js';
export type { DirectoryKey, LoadKeyDirectoryOptions, ParsedKey } from './keys/directory.js';
// kmsauth (issue 4): SDK-free core and strategy; the AWS SDK adapter and local KMS live in `authnz-express/kms`.
export { KmsTokenValidator, KmsTokenGenerator, TokenValidationError, ConfigurationError, TokenGenerationError, ServiceConnectionError, KmsUnavailableError, KMSAUTH_MESSAGES } from './schemes/kmsauth/index.js';
export type { KmsTokenValidatorOptions, KmsTokenValidation, KmsauthStats, DecryptTokenContext, KmsTokenGeneratorOptions, KmsClientLike, EncryptionContext } from './schemes/kmsauth/index.js';
export { kmsauthScheme } from './strategies/kmsauth.js';
export type { KmsauthSchemeOptions } from './strategies/kmsauth.js';
// API keys, rate limits, brute force, access policy, authnzerver bridge (issue 5).
export { ApiKeyManager, parseApiKey, generateApiKey, hashApiKey, cidrMatcher, validateCidrs } from './schemes/apikey/index.js';
export type { ApiKeyManagerOptions, IssueApiKeyOptions, IssuedApiKey, VerifiedApiKey, VerifyContext, ParsedApiKey } from './schemes/apikey/index.js';
export { MemoryApiKeyStore, JsonFileApiKeyStore } from './stores/apikey.js';
export { CachedApiKeyStore } from './stores/apikey-cache.js';
export type { CachedApiKeyStoreOptions } from './stores/apikey-cache.js';
export type { ApiKeyRecord, ApiKeyStore } from './stores/apikey.js';
export { apiKeyScheme, readApiKey } from './strategies/apikey.js';
export type { ApiKeySchemeOptions } from './strategies/apikey.js';
export { rateLimit, rateLimitKey, memoryLimiterFactory } from './middleware/rate-limit.js';
export type { RateLimitOptions, RateLimitRule, LimiterFactory, LimiterLike, LimiterConfig, LimiterResult } from './middleware/rate-limit.js';
export { bruteForce } from './middleware/brute-force.js';
export { preAuthLimit } from './middleware/pre-auth-limit.js';
export type { PreAuthLimitOptions, PreAuthLimiter } from './middleware/pre-auth-limit.js';
export type { BruteForceOptions, BruteForceGuard, SubjectHint } from './middleware/brute-force.js';
export { loadPolicy, validatePolicy, parsePolicyText, PolicyError, checkAccess, checkLimit, allowedActions, visibilityAllows } from './policy/index.js';
export type { PolicyDocument, ItemPolicy, RolePolicy, LimitKind, AccessRequest, AccessTarget, AccessReason, DecideOptions } from './policy/index.js';
export { requireAccess, principalRole } from './middleware/require-access.js';
export type { RequireAccessOptions, TargetSource } from './middleware/require-access.js';
// Asymmetric JWT (`Authorization: JWT`, asymmetric_jwt_auth; issue 3).
export * from './schemes/asymmetric-jwt/index.js';
export { asymmetricJwtScheme } from './strategies/asymmetric-jwt.js';
export type { AsymmetricJwtSchemeOptions } from './strategies/asymmetric-jwt.js';
export { MemoryNonceStore } from './stores/nonce.js';
export type { NonceStore, NonceClaim, MemoryNonceStoreOptions } from './stores/nonce.js';
export { parseOpenSshPublicKey, isOpenSshPublicKey } from './keys/openssh.js';
export type { OpenSshPublicKey } from './keys/openssh.js';
export { RemoteJwks } from './keys/remote-jwks.js';
export type { RemoteJwksOptions } from './keys/remote-jwks.js';
export { AuthnzerverClient, fernetEncrypt, fernetDecrypt, parseFernetKey, FernetError, encryptMessage, decryptMessage } from './schemes/authnzerver/index.js';
export type { AuthnzerverClientOptions, AuthnzerverReply, FernetEncryptOptions, FernetDecryptOptions } from './schemes/authnzerver/index.js';
export { authnzerverScheme, sealAuthnzerverApiKey } from './strategies/authnzerver.js';
export type { AuthnzerverSchemeOptions } from './strategies/authnzerver.js';
// OAuth 2.0 JWT access tokens (RFC 9068) and DPoP (RFC 9449).
export * from './schemes/jwt-bearer/index.js';
export { jwtBearerScheme, defaultJwtBearerPrincipal } from './strategies/jwt-bearer.js';
export type { JwtBearerSchemeOptions } from './strategies/jwt-bearer.js';
export * from './schemes/dpop/index.js';
