/**
 * The variants measured: each is one server process. Kept free of heavy imports so the orchestrator
 * can list them cheaply; the apps themselves are built in apps.ts inside the server process.
 */

import { JWT_BEARER_TARGETS, JWT_BEARER_VARIANTS } from './jwt-bearer-variants.js';

/** Where a variant's request headers come from. */
export type PoolName = 'rs256-reused' | 'eddsa-reused' | 'rs256-new' | 'at-reused' | 'at-new' | 'server';

/** One measured server. */
export interface Variant {
  /** Unique id, used with `--only`. */
  readonly name: string;
  /** What the row shows. */
  readonly label: string;
  /** Scenario group, for the table. */
  readonly group: string;
  /** The request pool the load process rotates through (`server`: the server makes its own). */
  readonly pool: PoolName;
  /** Pool used for warm-up (default: `pool`); new-token runs warm up on other tokens. */
  readonly warmupPool?: PoolName;
  /** Each pool entry is meant to be used once per round (reuses are counted and shown). */
  readonly fresh?: boolean;
}

/** Bare Express, the denominator of every ratio. Its requests carry the same headers (ignored). */
export const BARE: Variant = { name: 'bare', label: 'bare Express 5 (no auth)', group: 'baseline', pool: 'rs256-reused' };

/** Every variant, in run order. */
export const VARIANTS: readonly Variant[] = [
  { name: 'apijwt-rs256', label: 'authnz APIJwt RS256 + requireScopes', group: 'RS256, 1,000 reused tokens', pool: 'rs256-reused' },
  { name: 'passport-jwt', label: 'passport-jwt RS256 + scope check', group: 'RS256, 1,000 reused tokens', pool: 'rs256-reused' },
  { name: 'express-jwt', label: 'express-jwt RS256 + scope check', group: 'RS256, 1,000 reused tokens', pool: 'rs256-reused' },
  { name: 'oauth2-jwt-bearer', label: 'express-oauth2-jwt-bearer RS256 + scope check', group: 'RS256, 1,000 reused tokens', pool: 'rs256-reused' },
  { name: 'jose', label: 'hand-written jose jwtVerify RS256 + scope check', group: 'RS256, 1,000 reused tokens', pool: 'rs256-reused' },
  { name: 'apijwt-eddsa', label: 'authnz APIJwt EdDSA + requireScopes', group: 'EdDSA, 1,000 reused tokens', pool: 'eddsa-reused' },
  { name: 'apijwt-rs256-new', label: 'authnz APIJwt RS256 + requireScopes', group: 'RS256, every token new', pool: 'rs256-new', warmupPool: 'rs256-reused', fresh: true },
  { name: 'passport-jwt-new', label: 'passport-jwt RS256 + scope check', group: 'RS256, every token new', pool: 'rs256-new', warmupPool: 'rs256-reused', fresh: true },
  { name: 'jose-new', label: 'hand-written jose jwtVerify RS256 + scope check', group: 'RS256, every token new', pool: 'rs256-new', warmupPool: 'rs256-reused', fresh: true },
  { name: 'asym-memory', label: 'authnz asymmetric JWT (Ed25519), memory nonce store', group: 'Asymmetric JWT, fresh token per request', pool: 'server', fresh: true },
  { name: 'asym-redis', label: 'authnz asymmetric JWT (Ed25519), Redis nonce store', group: 'Asymmetric JWT, fresh token per request', pool: 'server', fresh: true },
  { name: 'kmsauth-cached', label: 'authnz kmsauth, 200 reused tokens', group: 'kmsauth (local KMS)', pool: 'server' },
  { name: 'kmsauth-new', label: 'authnz kmsauth, every token new (one KMS Decrypt each)', group: 'kmsauth (local KMS)', pool: 'server', fresh: true },
  { name: 'apikey', label: 'authnz API key (memory store), 1,000 keys', group: 'API key', pool: 'server' },
  { name: 'three-schemes', label: 'authnz kmsauth + API key + APIJwt RS256 (APIJwt last)', group: 'RS256, 1,000 reused tokens', pool: 'rs256-reused' },
  ...JWT_BEARER_VARIANTS,
];

/** Looks a variant up by name (bare included). */
export function variantByName(name: string): Variant | undefined {
  return name === BARE.name ? BARE : VARIANTS.find((v) => v.name === name);
}

/** A target from issue 7: a variant's ratio to bare, or its ratio relative to another variant's. */
export interface Target {
  readonly name: string;
  readonly variant: string;
  /** When set, the value is ratio(variant) / ratio(versus); otherwise ratio(variant). */
  readonly versus?: string;
  readonly min: number;
}

/** The targets, checked against each run. */
export const TARGETS: readonly Target[] = [
  { name: 'APIJwt RS256 + guard, 1,000 reused tokens ≥ 0.90 × bare', variant: 'apijwt-rs256', min: 0.9 },
  { name: 'APIJwt RS256, every token new ≥ 0.50 × bare', variant: 'apijwt-rs256-new', min: 0.5 },
  { name: 'APIJwt RS256, every token new ≥ 1.6 × passport-jwt', variant: 'apijwt-rs256-new', versus: 'passport-jwt-new', min: 1.6 },
  { name: 'Asymmetric JWT, fresh tokens, memory store ≥ 0.45 × bare', variant: 'asym-memory', min: 0.45 },
  { name: 'Asymmetric JWT, fresh tokens, Redis store ≥ 0.40 × bare', variant: 'asym-redis', min: 0.4 },
  { name: 'kmsauth, cached tokens ≥ 0.90 × bare', variant: 'kmsauth-cached', min: 0.9 },
  { name: 'Three-scheme route within 5% of the APIJwt-only route', variant: 'three-schemes', versus: 'apijwt-rs256', min: 0.95 },
  ...JWT_BEARER_TARGETS,
];
