/**
 * An app run as a child process (`node --import tsx <script>`), for tests that must see the process
 * itself survive an outage: started with its own environment, ready once its output says which port
 * it listens on, stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** A started app process. */
export interface AppProcess {
  readonly child: ChildProcess;
  /** Resolves with `http://127.0.0.1:<port>` once the process printed its port; rejects if it exits first. */
  readonly url: Promise<string>;
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: { text: string };
}

/**
 * Starts `script` with `env` added to this process's environment, less REDIS_URL and DATABASE_URL:
 * the apps read those, and must see only what the test gives them (not the developer's shell).
 * `listening` must capture the port in its first group (default `LISTENING <port>`).
 */
export function startAppProcess(
  script: URL,
  env: Record<string, string>,
  options: { listening?: RegExp; timeoutMs?: number } = {},
): AppProcess {
  const listening = options.listening ?? /LISTENING (\d+)/;
  const output = { text: '' };
  const inherited = { ...process.env };
  delete inherited['REDIS_URL'];
  delete inherited['DATABASE_URL'];
  const child = spawn(process.execPath, ['--import', 'tsx', script.pathname], {
    env: { ...inherited, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not listen: ${output.text}`)), options.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer): void => {
      output.text += chunk.toString();
      const m = listening.exec(output.text);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`app exited (${String(code ?? signal)}): ${output.text}`));
    });
  });
  // A test that fails before awaiting `url` must not also report an unhandled rejection.
  url.catch(() => undefined);
  return { child, url, output };
}

/** True while the process has neither exited nor been ended by a signal. */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Sends SIGTERM to a running app process and waits for its exit. */
export async function stopAppProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || !isRunning(child)) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
