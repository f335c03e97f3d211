/**
 * A private redis-server for outage tests: its own loopback port and data directory, so stopping,
 * pausing or killing it never disturbs other suites using the shared Redis on 6379.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Ports handed out below Linux's ephemeral range (32768-60999). A port the kernel picked for
 * `listen(0)` comes from that range, so between its release and the server's bind any outgoing
 * connection (every client of every suite makes them) may take it as its local port, and the
 * server then fails with EADDRINUSE. Each jest worker (and the parent, which runs global set-up)
 * hands out ports from its own block, checking each by binding it, and never the same one twice.
 * Jest loads this module afresh for every test file, so the cursor lives in a file named after the
 * process: later suites of one worker do not start again at the block's first port, where the
 * process-wide fetch pool may still hold a connection to an earlier suite's server.
 */
const FIRST_PORT = 20_000;
const BLOCK_SIZE = 1_000;
const handedOut = new Set<number>();
const CURSOR_DIR = join(tmpdir(), 'authnz-test-ports');
const CURSOR_FILE = join(CURSOR_DIR, String(process.pid));

/** The next position in this process's block, counted across every test file the process runs. */
function nextCursor(): number {
  let cursor = 0;
  try {
    cursor = Number(readFileSync(CURSOR_FILE, 'utf8')) || 0;
  } catch {
    mkdirSync(CURSOR_DIR, { recursive: true });
  }
  writeFileSync(CURSOR_FILE, String(cursor + 1));
  return cursor;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1 from this process's block (bound, checked, released). */
export async function freePort(): Promise<number> {
  const worker = Number(process.env['JEST_WORKER_ID'] ?? '0');
  const base = FIRST_PORT + (Number.isInteger(worker) && worker >= 0 && worker < 12 ? worker : 11) * BLOCK_SIZE;
  for (let tried = 0; tried < 2 * BLOCK_SIZE; tried++) {
    const port = base + (nextCursor() % BLOCK_SIZE);
    // First pass: never a port this process already handed out; after that, any that binds.
    if (tried < BLOCK_SIZE && handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port in ${base}-${base + BLOCK_SIZE - 1}`);
}

/** Controls one private redis-server. */
export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'authnz-hardening-redis-'));
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Starts a server on a free port (AOF on, fsync always, so data survives a restart). */
  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
    return redis;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** True while the child process is alive. */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** (Re)starts the server on the same port and directory; resolves when it accepts connections. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        this.dir,
        '--daemonize',
        'no',
        '--loglevel',
        'notice',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${String(code)}: ${output}`));
      });
    });
  }

  /** Kills the server (SIGKILL: no goodbye to clients) and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** Resumes a paused server. */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Kills the server and removes its directory. */
  async dispose(): Promise<void> {
    if (this.running) this.resume();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
