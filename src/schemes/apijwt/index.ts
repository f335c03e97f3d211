/** APIJwt (port of api_jwt 1.2.2 / api-jwt-2 1.3.2): issuer, verifier and configuration model. */
export { ApiJwtIssuer } from './issuer.js';
export type { ApiJwtIssuerOptions, IssueRequest, IssuedApiJwt } from './issuer.js';
export { ApiJwtVerifier } from './verifier.js';
export type { ApiJwtVerifierOptions, ApiJwtClaims, ApiJwtResult, ApiJwtFailure, ApiJwtKeySource, AudienceMode } from './verifier.js';
export { ApiJwtIssueError } from './errors.js';
export type { ApiJwtIssueErrorCode } from './errors.js';
export { DEFAULT_ALLOWED, DEFAULT_EXTRAS, DEFAULT_KEY_NAMES } from './config.js';
export type { AllowedValues, ApiJwtModelOptions, ExtraSpec, ExtraType, ExtraValue } from './config.js';
export { pyFloat, pyInt, pyJsonDumps, pyString } from '../../jwt/pyjson.js';
export type { PyJsonValue } from '../../jwt/pyjson.js';
