/**
 * `authnz kms local` mints tokens for anyone who can reach it: a non-loopback `--host` needs
 * `--allow-remote`, and then a loud warning goes to stderr.
 */
import { runCli } from '../../src/cli/main.js';

interface Run {
  readonly done: Promise<number>;
  readonly out: () => string;
  readonly err: () => string;
}

function start(argv: string[]): Run {
  let out = '';
  let err = '';
  const done = runCli(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { done, out: () => out, err: () => err };
}

/** Resolves once `predicate` holds, or rejects after `ms` (the command must answer or start by then). */
async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs a server command until it has printed its URL, then stops it the way Ctrl-C would. */
async function runUntilListening(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const run = start(argv);
  let finished: number | undefined;
  void run.done.then(
    (code) => {
      finished = code;
    },
    () => {
      finished = -1;
    },
  );
  await until(() => finished !== undefined || run.out().includes('listening on'), 15_000, 'the local KMS to start');
  if (finished === undefined) process.emit('SIGTERM');
  return { code: await run.done, out: run.out(), err: run.err() };
}

describe('authnz kms local --host', () => {
  it.each(['0.0.0.0', '::', '192.0.2.10'])(
    '--host %s without --allow-remote is a usage error (exit 2) naming the flag; nothing listens',
    async (host) => {
      const run = start(['kms', 'local', '--host', host, '--port', '0']);
      let code: number | undefined;
      void run.done.then((c) => {
        code = c;
      });
      await until(() => code !== undefined, 5000, 'the command to refuse');
      expect(code).toBe(2);
      expect(run.out()).toBe('');
      expect(run.err()).toContain('--allow-remote');
      expect(run.err()).toContain(host);
    },
  );

  it('with --allow-remote it starts, and warns loudly on stderr that anyone who reaches it can mint tokens', async () => {
    const r = await runUntilListening(['kms', 'local', '--host', '0.0.0.0', '--port', '0', '--allow-remote']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^WARNING: /m);
    expect(r.err).toContain('anyone who can reach');
    expect(r.out).toMatch(/listening on http:\/\/0\.0\.0\.0:\d+/);
  });

  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1'])('loopback --host %s needs no flag and prints no warning', async (host) => {
    const r = await runUntilListening(['kms', 'local', '--host', host, '--port', '0']);
    expect(r.code).toBe(0);
    expect(r.err).not.toContain('WARNING');
  });
});
