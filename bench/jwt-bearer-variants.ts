/** The jwtBearerScheme rows of the bench and their targets; free of heavy imports like variants.ts. */
import type { Target, Variant } from './variants.js';

const reused = 'RFC 9068 access tokens (RS256, JWKS), 1,000 reused';
const fresh = 'RFC 9068 access tokens (RS256, JWKS), every token new';
const dpop = 'DPoP: 1,000 bound tokens, a fresh ES256 proof per request';

/** Ours and express-oauth2-jwt-bearer on the same tokens and JWKS. */
export const JWT_BEARER_VARIANTS: readonly Variant[] = [
  { name: 'jwt-bearer-reused', label: 'authnz jwtBearerScheme + requireScopes', group: reused, pool: 'at-reused' },
  { name: 'oauth2-jwt-bearer-at-reused', label: 'express-oauth2-jwt-bearer + requiredScopes', group: reused, pool: 'at-reused' },
  {
    name: 'jwt-bearer-new',
    label: 'authnz jwtBearerScheme + requireScopes',
    group: fresh,
    pool: 'at-new',
    warmupPool: 'at-reused',
    fresh: true,
  },
  {
    name: 'oauth2-jwt-bearer-at-new',
    label: 'express-oauth2-jwt-bearer + requiredScopes',
    group: fresh,
    pool: 'at-new',
    warmupPool: 'at-reused',
    fresh: true,
  },
  {
    name: 'jwt-bearer-dpop',
    label: 'authnz jwtBearerScheme (DPoP, jti replay store) + requireScopes',
    group: dpop,
    pool: 'server',
    fresh: true,
  },
  {
    name: 'oauth2-jwt-bearer-dpop',
    label: 'express-oauth2-jwt-bearer (DPoP, no jti replay check) + requiredScopes',
    group: dpop,
    pool: 'server',
    fresh: true,
  },
];

/** The jwtBearerScheme targets, side by side with express-oauth2-jwt-bearer. */
export const JWT_BEARER_TARGETS: readonly Target[] = [
  {
    name: 'jwtBearerScheme, reused tokens ≥ 1.5 × express-oauth2-jwt-bearer',
    variant: 'jwt-bearer-reused',
    versus: 'oauth2-jwt-bearer-at-reused',
    min: 1.5,
  },
  {
    name: 'jwtBearerScheme, every token new ≥ 1.3 × express-oauth2-jwt-bearer',
    variant: 'jwt-bearer-new',
    versus: 'oauth2-jwt-bearer-at-new',
    min: 1.3,
  },
  {
    name: 'jwtBearerScheme with DPoP vs express-oauth2-jwt-bearer with DPoP (no target; shown)',
    variant: 'jwt-bearer-dpop',
    versus: 'oauth2-jwt-bearer-dpop',
    min: 0,
  },
];
