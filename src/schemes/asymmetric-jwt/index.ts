/** The asymmetric_jwt_auth protocol (`Authorization: JWT`), both sides, framework-free. */
export { AsymmetricJwtVerifier, ASYMMETRIC_JWT_ALGORITHMS, DEFAULT_MAX_TOKEN_AGE_SECONDS } from './verify.js';
export type { AsymmetricJwtVerifierOptions, AsymmetricJwtResult, AsymmetricJwtCompat } from './verify.js';
export { createAuthHeader, createToken, createJwtFetch, signToken, loadSigningKey } from './client.js';
export type { CreateAuthHeaderOptions, CreateJwtFetchOptions } from './client.js';
export { lookupUser, loadPublicKey, storedKeys } from './keys.js';
export type { AsymmetricJwtUser, AsymmetricJwtUserLookup, AsymmetricJwtKeySource } from './keys.js';
export { keyFingerprint } from './format.js';
