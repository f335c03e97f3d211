/** OAuth 2.0 JWT access tokens (RFC 9068): verifier, issuer key sources, claim shapes. */
export { JwtAccessTokenVerifier, JWT_BEARER_ALGORITHMS } from './verifier.js';
export type { JwtAccessTokenVerifierOptions, JwtIssuerOptions, VerifyAccessTokenOptions } from './verifier.js';
export type { IssuerKeyOptions, StaticKey } from './keys.js';
export { scopesOf } from './claims.js';
export type { VerifiedAccessToken } from './claims.js';
