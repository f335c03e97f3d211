#!/usr/bin/env node
/** The `authnz` command: key generation and per-scheme helpers. */
import { commands } from './commands/index.js';
import { CliUsageError, type CliIo } from './types.js';

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const words = argv.filter((a) => !a.startsWith('-'));
  const match = [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((w, i) => words[i] === w) && argv.slice(0, c.path.length).every((a, i) => a === c.path[i]));
  if (!match || argv[0] === 'help' || argv.length === 0) {
    const lines = ['usage: authnz <command> [options]', '', 'commands:'];
    for (const c of commands) lines.push(`  ${c.path.join(' ').padEnd(22)} ${c.summary}`);
    (match || argv.length === 0 || argv[0] === 'help' ? io.out : io.err)(lines.join('\n') + '\n');
    return match || argv.length === 0 || argv[0] === 'help' ? 0 : 2;
  }
  const rest = argv.slice(match.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(match.usage + '\n');
    return 0;
  }
  try {
    return await match.run(rest, io);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.err(`authnz ${match.path.join(' ')}: ${error.message}\n\n${match.usage}\n`);
      return 2;
    }
    io.err(`authnz ${match.path.join(' ')}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const isMain = process.argv[1] !== undefined && /(?:^|[\\/])(?:main\.(?:[cm]?js|ts)|authnz)$/.test(process.argv[1]);
if (isMain) {
  runCli(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`authnz: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
