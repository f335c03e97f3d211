/**
 * The variants measured: each is one server process. Kept free of heavy imports so the orchestrator
 * can list them cheaply; the apps themselves are built in apps.ts inside the server process.
 */

import type { FloorOp } from './floor.js';
import { JWT_BEARER_TARGETS, JWT_BEARER_VARIANTS } from './jwt-bearer-variants.js';
import type { CpuTarget } from './report.js';

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
  {
    name: 'oauth2-jwt-bearer',
    label: 'express-oauth2-jwt-bearer RS256 + scope check',
    group: 'RS256, 1,000 reused tokens',
    pool: 'rs256-reused',
  },
  {
    name: 'passport-jwt-keyobject',
    label: 'passport-jwt RS256 (KeyObject built once) + scope check',
    group: 'RS256, 1,000 reused tokens',
    pool: 'rs256-reused',
  },
  {
    name: 'express-jwt-keyobject',
    label: 'express-jwt RS256 (KeyObject built once) + scope check',
    group: 'RS256, 1,000 reused tokens',
    pool: 'rs256-reused',
  },
  {
    name: 'jose',
    label: 'hand-written jose jwtVerify RS256 (key imported once) + scope check',
    group: 'RS256, 1,000 reused tokens',
    pool: 'rs256-reused',
  },
  {
    name: 'fast-jwt-cache',
    label: 'fast-jwt createVerifier RS256, cache: true + scope check',
    group: 'RS256, 1,000 reused tokens',
    pool: 'rs256-reused',
  },
  {
    name: 'fast-jwt',
    label: 'fast-jwt createVerifier RS256, no cache + scope check',
    group: 'RS256, 1,000 reused tokens',
    pool: 'rs256-reused',
  },
  { name: 'apijwt-eddsa', label: 'authnz APIJwt EdDSA + requireScopes', group: 'EdDSA, 1,000 reused tokens', pool: 'eddsa-reused' },
  {
    name: 'apijwt-rs256-new',
    label: 'authnz APIJwt RS256 + requireScopes',
    group: 'RS256, every token new',
    pool: 'rs256-new',
    warmupPool: 'rs256-reused',
    fresh: true,
  },
  {
    name: 'apijwt-rs256-new-nocache',
    label: 'authnz APIJwt RS256 + requireScopes, cache: false',
    group: 'RS256, every token new',
    pool: 'rs256-new',
    warmupPool: 'rs256-reused',
    fresh: true,
  },
  {
    name: 'passport-jwt-new',
    label: 'passport-jwt RS256 + scope check',
    group: 'RS256, every token new',
    pool: 'rs256-new',
    warmupPool: 'rs256-reused',
    fresh: true,
  },
  {
    name: 'passport-jwt-keyobject-new',
    label: 'passport-jwt RS256 (KeyObject built once) + scope check',
    group: 'RS256, every token new',
    pool: 'rs256-new',
    warmupPool: 'rs256-reused',
    fresh: true,
  },
  {
    name: 'jose-new',
    label: 'hand-written jose jwtVerify RS256 (key imported once) + scope check',
    group: 'RS256, every token new',
    pool: 'rs256-new',
    warmupPool: 'rs256-reused',
    fresh: true,
  },
  {
    name: 'fast-jwt-new',
    label: 'fast-jwt createVerifier RS256, no cache + scope check',
    group: 'RS256, every token new',
    pool: 'rs256-new',
    warmupPool: 'rs256-reused',
    fresh: true,
  },
  {
    name: 'asym-memory',
    label: 'authnz asymmetric JWT (Ed25519), memory nonce store',
    group: 'Asymmetric JWT, fresh token per request',
    pool: 'server',
    fresh: true,
  },
  {
    name: 'httpsig-memory',
    label: 'authnz HTTP message signature (RFC 9421, Ed25519), memory nonce store',
    group: 'Asymmetric JWT, fresh token per request',
    pool: 'server',
    fresh: true,
  },
  {
    name: 'asym-redis',
    label: 'authnz asymmetric JWT (Ed25519), Redis nonce store',
    group: 'Asymmetric JWT, fresh token per request',
    pool: 'server',
    fresh: true,
  },
  { name: 'kmsauth-cached', label: 'authnz kmsauth, 200 reused tokens', group: 'kmsauth (local KMS)', pool: 'server' },
  {
    name: 'kmsauth-new',
    label: 'authnz kmsauth, every token new (one KMS Decrypt each)',
    group: 'kmsauth (local KMS)',
    pool: 'server',
    fresh: true,
  },
  { name: 'apikey', label: 'authnz API key (memory store), 1,000 keys', group: 'API key', pool: 'server' },
  { name: 'bare-kmsauth-headers', label: 'bare Express 5, kmsauth request headers (no auth)', group: 'request shape', pool: 'server' },
  { name: 'bare-apikey-headers', label: 'bare Express 5, API key request headers (no auth)', group: 'request shape', pool: 'server' },
  // Bare again under another name: its ratios to bare show how steady each measure is on this machine.
  {
    name: 'bare-again',
    label: 'bare Express 5 again (the same code: the noise of each measure)',
    group: 'steadiness',
    pool: 'rs256-reused',
  },
  {
    name: 'bare-promise-hop',
    label: 'bare Express 5 + one middleware that calls next() after a resolved promise',
    group: 'steadiness',
    pool: 'rs256-reused',
  },
  {
    name: 'three-schemes',
    label: 'authnz kmsauth + API key + APIJwt RS256 (APIJwt last)',
    group: 'RS256, 1,000 reused tokens',
    pool: 'rs256-reused',
  },
  ...JWT_BEARER_VARIANTS,
];

/** Looks a variant up by name (bare included). */
export function variantByName(name: string): Variant | undefined {
  return name === BARE.name ? BARE : VARIANTS.find((v) => v.name === name);
}

/** A target: a variant's ratio to bare, or its ratio relative to another variant's. */
export interface Target {
  readonly name: string;
  readonly variant: string;
  /** When set, the value is ratio(variant) / ratio(versus); otherwise ratio(variant). */
  readonly versus?: string;
  readonly min: number;
}

/** The throughput targets checked against each run: ratios to bare Express and to the peers. */
export const TARGETS: readonly Target[] = [
  { name: 'APIJwt RS256, every token new ≥ 1.15 × hand-written jose', variant: 'apijwt-rs256-new', versus: 'jose-new', min: 1.15 },
  { name: 'APIJwt RS256 + guard, 1,000 reused tokens ≥ 0.92 × bare', variant: 'apijwt-rs256', min: 0.92 },
  { name: 'APIJwt RS256, reused tokens ≥ 1.1 × fast-jwt with its cache', variant: 'apijwt-rs256', versus: 'fast-jwt-cache', min: 1.1 },
  { name: 'kmsauth, cached tokens ≥ 0.85 × bare', variant: 'kmsauth-cached', min: 0.85 },
  { name: 'Asymmetric JWT (Ed25519), fresh tokens, memory store ≥ 0.60 × bare', variant: 'asym-memory', min: 0.6 },
  { name: 'Asymmetric JWT (Ed25519), fresh tokens, Redis store ≥ 0.52 × bare', variant: 'asym-redis', min: 0.52 },
  { name: 'API key, memory store ≥ 0.85 × bare', variant: 'apikey', min: 0.85 },
  { name: 'APIJwt RS256, every token new ≥ 0.50 × bare', variant: 'apijwt-rs256-new', min: 0.5 },
  { name: 'APIJwt RS256, every token new ≥ 1.6 × passport-jwt', variant: 'apijwt-rs256-new', versus: 'passport-jwt-new', min: 1.6 },
  { name: 'Three-scheme route within 5% of the APIJwt-only route', variant: 'three-schemes', versus: 'apijwt-rs256', min: 0.95 },
  ...JWT_BEARER_TARGETS,
];

/**
 * Groups of the fixed-rate latency phase: bare and every variant of these groups are driven at the
 * same offered load (a share of bare's measured throughput) and their p50/p99 compared.
 */
export const FIXED_RATE_GROUPS: readonly string[] = [
  'RS256, 1,000 reused tokens',
  'RS256, every token new',
  ...new Set(JWT_BEARER_VARIANTS.filter((v) => v.group.startsWith('RFC 9068')).map((v) => v.group)),
];

const RSA: readonly FloorOp[] = ['rsa2048-verify'];
/**
 * The cryptography each path cannot avoid (bench/floor.ts): cached JWT paths key their cache by a
 * SHA-256 of the token, kmsauth by a SHA-256 of token and context, API keys by an HMAC-SHA256 with
 * the pepper; every new token costs its signature check; the asymmetric scheme claims its nonce.
 */
export const FLOORS: Readonly<Record<string, readonly FloorOp[]>> = {
  'apijwt-rs256-new': RSA,
  'apijwt-rs256-new-nocache': RSA,
  'passport-jwt-new': RSA,
  'passport-jwt-keyobject-new': RSA,
  'jose-new': RSA,
  'fast-jwt-new': RSA,
  'passport-jwt': RSA,
  'express-jwt': RSA,
  'oauth2-jwt-bearer': RSA,
  'passport-jwt-keyobject': RSA,
  'express-jwt-keyobject': RSA,
  jose: RSA,
  'fast-jwt': RSA,
  'jwt-bearer-new': RSA,
  'oauth2-jwt-bearer-at-new': RSA,
  'oauth2-jwt-bearer-at-reused': RSA,
  'asym-memory': ['ed25519-verify', 'nonce-memory'],
  'asym-redis': ['ed25519-verify'],
  'kmsauth-cached': ['sha256'],
  'kmsauth-new': ['sha256'],
  apikey: ['hmac-sha256'],
  'jwt-bearer-dpop': ['es256-verify', 'sha256', 'sha256'],
  'oauth2-jwt-bearer-dpop': ['rsa2048-verify', 'es256-verify', 'sha256'],
};

/** The CPU targets: server CPU per request at the fixed load, every round checked. */
export const CPU_TARGETS: readonly CpuTarget[] = [
  ...[
    ['apijwt-rs256', 'APIJwt RS256, reused tokens'],
    ['jwt-bearer-reused', 'jwtBearerScheme, reused tokens'],
    ['apikey', 'API key, memory store'],
    ['kmsauth-cached', 'kmsauth, cached tokens'],
  ].flatMap(([variant = '', name = '']): CpuTarget[] => [
    { name: `${name} ≤ 1.05 × bare`, variant, kind: 'ratio', max: 1.05 },
    { name: `${name} no worse than fast-jwt with its cache`, variant, kind: 'versus', versus: 'fast-jwt-cache', max: 1 },
  ]),
  { name: 'APIJwt RS256, every token new: overhead ≤ 1.2 × one RSA verify', variant: 'apijwt-rs256-new', kind: 'floor', max: 1.2 },
  { name: 'APIJwt RS256, every token new: below jose', variant: 'apijwt-rs256-new', kind: 'versus', versus: 'jose-new', max: 1 },
  {
    name: 'APIJwt RS256, every token new: below express-oauth2-jwt-bearer',
    variant: 'apijwt-rs256-new',
    kind: 'versus',
    versus: 'oauth2-jwt-bearer-at-new',
    max: 1,
  },
  { name: 'jwtBearerScheme, every token new: overhead ≤ 1.2 × one RSA verify', variant: 'jwt-bearer-new', kind: 'floor', max: 1.2 },
  { name: 'jwtBearerScheme, every token new: below jose', variant: 'jwt-bearer-new', kind: 'versus', versus: 'jose-new', max: 1 },
  {
    name: 'jwtBearerScheme, every token new: below express-oauth2-jwt-bearer',
    variant: 'jwt-bearer-new',
    kind: 'versus',
    versus: 'oauth2-jwt-bearer-at-new',
    max: 1,
  },
  {
    name: 'Asymmetric JWT (memory store): overhead ≤ 1.2 × (Ed25519 verify + nonce claim)',
    variant: 'asym-memory',
    kind: 'floor',
    max: 1.2,
  },
  {
    name: 'Three schemes on one route within 5% of APIJwt alone',
    variant: 'three-schemes',
    kind: 'versus',
    versus: 'apijwt-rs256',
    max: 1.05,
  },
];
