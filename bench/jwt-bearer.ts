/**
 * jwtBearerScheme beside express-oauth2-jwt-bearer on the same RFC 9068 access tokens (RS256, `kid`,
 * `iss`, `aud`, `sub`, `client_id`, `scope`, `iat`, `jti`) and the same JWKS, served on loopback by
 * the server process: 1,000 reused tokens, every token new, and DPoP (bound tokens, a fresh proof per
 * request). Both sides check signature, issuer, audience, expiry and the scope with their own guard.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import { signCompact } from '../src/jwt/compact.js';
import { createDpopProof, dpopKey } from '../src/protocols/dpop/proof.js';
import type { BenchKeys } from './fixtures.js';

/** Issuer and audience of the access tokens. */
export const AT_ISSUER = 'https://login.bench.example/';
export const AT_AUDIENCE = 'https://api.bench.example';
const AT_SCOPE = 'user:all';
const KID = 'bench-rsa';
/** Host the DPoP pools address (sent as the Host header, so both sides see the same htu). */
const DPOP_HOST = 'api.bench.example';

/** RFC 9068 access tokens `from`..`from+count-1`, signed RS256 by the bench RSA key; `jkt` binds them. */
export function mintAccessTokens(keys: BenchKeys, from: number, count: number, prefix: string, ttlSeconds: number, jkt?: string): string[] {
  const key = createPrivateKey(keys.rsaPrivate);
  const header = JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: KID });
  const iat = Math.floor(Date.now() / 1000);
  const out: string[] = [];
  for (let i = from; i < from + count; i++) {
    const claims = {
      iss: AT_ISSUER,
      aud: AT_AUDIENCE,
      sub: `${prefix}-${i}`,
      client_id: 'bench-app',
      scope: `openid ${AT_SCOPE}`,
      iat,
      exp: iat + ttlSeconds,
      jti: randomUUID(),
      ...(jkt ? { cnf: { jkt } } : {}),
    };
    out.push(signCompact('RS256', key, header, JSON.stringify(claims)));
  }
  return out;
}

/** Serves the bench RSA public key as a JWKS on 127.0.0.1; resolves to its URL. */
async function serveJwks(keys: BenchKeys): Promise<{ url: string; close(): Promise<void> }> {
  const { createPublicKey } = await import('node:crypto');
  const body = JSON.stringify({
    keys: [{ ...createPublicKey(keys.rsaPublic).export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }],
  });
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Most proofs a DPoP server is expected to take per second (env BENCH_DPOP_POOL_RATE): a fresh ES256
 * proof per request costs the server an ECDSA verify, so DPoP rounds run well below bare Express.
 * Sizing the pools by this rather than the bare-Express bound (BENCH_POOL_RATE) keeps start-up short:
 * ~100,000 proofs signed ahead made the DPoP servers miss the start-up deadline on a busy machine.
 * A round that outruns its pool shows its reuses in the table (and ours refuses them as replays).
 */
const DPOP_POOL_RATE = Number(process.env['BENCH_DPOP_POOL_RATE'] ?? 8000);

/**
 * DPoP pools for one server: 1,000 tokens bound to one client key (minted once, shared by the warm-up
 * and measured pools), a proof per request, each proof with its own `jti` and used once. Signed in
 * slices that yield to the event loop, so the process stays responsive while it prepares.
 */
async function dpopPools(
  keys: BenchKeys,
  sizes: { measure: number; warmup: number },
): Promise<{ pool: Record<string, string>[]; warmupPool: Record<string, string>[] }> {
  const client = dpopKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const tokens = mintAccessTokens(keys, 0, 1000, 'dpop-user', 3600, client.jkt);
  // iat a little ahead, so every proof stays inside both sides' window for the whole round.
  const at = Date.now() + 5000;
  const url = `http://${DPOP_HOST}/r`;
  const make = async (n: number): Promise<Record<string, string>[]> => {
    const out: Record<string, string>[] = [];
    while (out.length < n) {
      for (const end = Math.min(n, out.length + 2000); out.length < end;) {
        const token = tokens[out.length % tokens.length] as string;
        out.push({
          host: DPOP_HOST,
          authorization: `DPoP ${token}`,
          dpop: createDpopProof(client, { method: 'GET', url, accessToken: token, clock: () => at }),
        });
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    return out;
  };
  const cap = (n: number, seconds: number): number => Math.min(n, Math.ceil(DPOP_POOL_RATE * seconds));
  const seconds = (key: 'BENCH_DURATION' | 'BENCH_WARMUP', fallback: number): number => Number(process.env[key] ?? fallback);
  return {
    pool: await make(cap(sizes.measure, seconds('BENCH_DURATION', 5))),
    warmupPool: await make(cap(sizes.warmup, seconds('BENCH_WARMUP', 2))),
  };
}

/** What the variant builders need from apps.ts. */
export interface JwtBearerBenchDeps {
  lib(): Promise<typeof import('../src/index.js')>;
  poolSizes(): { measure: number; warmup: number };
}

type Built = {
  handlers: RequestHandler[];
  pool?: Record<string, string>[];
  warmupPool?: Record<string, string>[];
  close?: () => Promise<void>;
};

async function ours(keys: BenchKeys, deps: JwtBearerBenchDeps, dpop: boolean): Promise<Built> {
  const { authenticate, requireScopes, jwtBearerScheme, MemoryReplayStore } = await deps.lib();
  const jwks = await serveJwks(keys);
  // Same proof window as the peer's defaults (iat up to 300 s old, 30 s ahead); room for every jti of a round.
  const scheme = jwtBearerScheme({
    issuer: AT_ISSUER,
    audience: AT_AUDIENCE,
    jwksUri: jwks.url,
    // The cached pools live 7 days (bench/fixtures.ts); the peer has no lifetime cap, so neither here.
    maxTokenLifetimeSeconds: 8 * 24 * 3600,
    // The big replay store only where proofs arrive: a 2M-entry LRU costs the collector on every route.
    dpop: {
      maxProofAgeSeconds: 300,
      clockToleranceSeconds: 30,
      ...(dpop ? { replayStore: new MemoryReplayStore({ maxEntries: 2_000_000 }) } : {}),
    },
  });
  const built: Built = {
    handlers: [authenticate([scheme]) as RequestHandler, requireScopes(AT_SCOPE) as RequestHandler],
    close: jwks.close,
  };
  if (dpop) Object.assign(built, await dpopPools(keys, deps.poolSizes()));
  return built;
}

async function peer(keys: BenchKeys, deps: JwtBearerBenchDeps, dpop: boolean): Promise<Built> {
  const { auth, requiredScopes } = await import('express-oauth2-jwt-bearer');
  const jwks = await serveJwks(keys);
  const built: Built = {
    handlers: [
      auth({ issuer: AT_ISSUER, audience: AT_AUDIENCE, jwksUri: jwks.url, tokenSigningAlg: 'RS256', dpop: { enabled: true } }),
      requiredScopes(AT_SCOPE),
    ],
    close: jwks.close,
  };
  if (dpop) Object.assign(built, await dpopPools(keys, deps.poolSizes()));
  return built;
}

/** Builders by variant name, for apps.ts. */
export function jwtBearerBuilders(deps: JwtBearerBenchDeps): Record<string, (keys: BenchKeys) => Promise<Built>> {
  return {
    'jwt-bearer-reused': (keys) => ours(keys, deps, false),
    'jwt-bearer-new': (keys) => ours(keys, deps, false),
    'jwt-bearer-dpop': (keys) => ours(keys, deps, true),
    'oauth2-jwt-bearer-at-reused': (keys) => peer(keys, deps, false),
    'oauth2-jwt-bearer-at-new': (keys) => peer(keys, deps, false),
    'oauth2-jwt-bearer-dpop': (keys) => peer(keys, deps, true),
  };
}
