/**
 * Keys and token pools shared by every variant: one RSA and one Ed25519 key pair, a pool of 1,000
 * reused tokens per key, and a large pool of distinct RS256 tokens for the "every token new" runs.
 * Cached under bench/.cache (or BENCH_CACHE_DIR) so reruns skip the RSA signing.
 */
import { fork } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Claim layout every token shares: APIJwt's, with an audience and a URL issuer so every peer accepts it. */
export const TOKEN_ISSUER = 'https://auth.bench.example';
/** `aud` of every bench token. */
export const TOKEN_AUDIENCE = 'bench-api';
/** Scope every token carries and every guarded route requires. */
export const SCOPE = 'user:all';
/** Token lifetime: long enough for a cached pool to outlive several runs. */
/** Lifetime of the cached bench tokens; the APIJwt verifiers accept it as their horizon. */
export const TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/** PEM key pairs. */
export interface BenchKeys {
  readonly rsaPrivate: string;
  readonly rsaPublic: string;
  readonly edPrivate: string;
  readonly edPublic: string;
}

/** Paths of the fixture files (what server and load processes read). */
export interface FixturePaths {
  readonly dir: string;
  readonly keys: string;
  /** Pool name → JSON file of tokens. */
  readonly pools: Readonly<Record<string, string>>;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** The cache directory. */
export function cacheDir(): string {
  return process.env['BENCH_CACHE_DIR'] ?? join(HERE, '.cache');
}

function loadOrCreateKeys(dir: string): BenchKeys {
  const file = join(dir, 'keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as BenchKeys;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed = generateKeyPairSync('ed25519');
  const keys: BenchKeys = {
    rsaPrivate: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    rsaPublic: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    edPrivate: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    edPublic: ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
  writeFileSync(file, JSON.stringify(keys));
  return keys;
}

interface PoolFile {
  readonly expiresAt: number;
  readonly tokens: readonly string[];
}

function poolIsFresh(file: string, count: number): boolean {
  if (!existsSync(file)) return false;
  const pool = JSON.parse(readFileSync(file, 'utf8')) as PoolFile;
  return pool.tokens.length >= count && pool.expiresAt - Date.now() / 1000 > 24 * 3600;
}

/** Mints tokens in `workers` child processes (RSA signing is the slow part). */
async function mint(keysFile: string, alg: 'rsa' | 'ed' | 'at', count: number, prefix: string, workers: number): Promise<string[]> {
  const per = Math.ceil(count / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const from = w * per;
      const n = Math.max(0, Math.min(per, count - from));
      return new Promise<string[]>((resolve, reject) => {
        const child = fork(join(HERE, 'mint.ts'), [keysFile, alg, String(from), String(n), prefix, String(TOKEN_TTL_SECONDS)], {
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        child.once('message', (m) => resolve(m as string[]));
        child.once('error', reject);
        child.once('exit', (code) => code !== 0 && reject(new Error(`mint worker exited with ${code}`)));
      });
    }),
  );
  return parts.flat();
}

/** Makes (or reuses) keys and the `needed` token pools. `newPoolSize` is the size of the every-token-new pool. */
export async function prepareFixtures(
  newPoolSize: number,
  needed: ReadonlySet<string>,
  log: (line: string) => void,
): Promise<FixturePaths> {
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  loadOrCreateKeys(dir);
  const keysFile = join(dir, 'keys.json');
  const specs = [
    { name: 'rs256-reused', alg: 'rsa', count: 1000, prefix: 'reused-user' },
    { name: 'eddsa-reused', alg: 'ed', count: 1000, prefix: 'reused-ed-user' },
    { name: 'rs256-new', alg: 'rsa', count: newPoolSize, prefix: 'new-user' },
    // RFC 9068 access tokens for jwtBearerScheme and express-oauth2-jwt-bearer (bench/jwt-bearer.ts).
    { name: 'at-reused', alg: 'at', count: 1000, prefix: 'reused-at-user' },
    { name: 'at-new', alg: 'at', count: newPoolSize, prefix: 'new-at-user' },
  ] as const;
  const pools: Record<string, string> = {};
  for (const spec of specs) {
    const file = join(dir, `pool-${spec.name}.json`);
    pools[spec.name] = file;
    if (!needed.has(spec.name) || poolIsFresh(file, spec.count)) continue;
    const started = Date.now();
    const tokens = await mint(keysFile, spec.alg, spec.count, spec.prefix, spec.count > 200 ? 2 : 1);
    const expiresAt = Math.floor(Date.now() / 1000) + TOKEN_TTL_SECONDS - 60;
    writeFileSync(file, JSON.stringify({ expiresAt, tokens } satisfies PoolFile));
    log(`minted ${tokens.length} ${spec.name} tokens in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return { dir, keys: keysFile, pools };
}

/** Reads a token pool. */
export function readPool(file: string): readonly string[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as PoolFile).tokens;
}

/** Reads the keys. */
export function readKeys(file: string): BenchKeys {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchKeys;
}
