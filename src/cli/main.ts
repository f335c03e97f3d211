#!/usr/bin/env node
/** The `authnz` command: key generation and per-scheme helpers. */
import { readFileSync } from 'node:fs';
import { commands } from './commands/index.js';
import { closest, parseCommandArgs } from './args.js';
import { commandHelp, groupHelp } from './help.js';
import { CliUsageError, type CliCommand, type CliIo } from './types.js';

const isHelp = (arg: string | undefined): boolean => arg === '--help' || arg === '-h';

/** The package version; package.json is two levels up from both src/cli and dist/cli. */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Exit code 2 with the message and a pointer to the help. */
function usageError(io: CliIo, where: readonly string[], message: string): number {
  const name = ['authnz', ...where].join(' ');
  io.err(`${name}: ${message}\nRun '${name} --help' for usage.\n`);
  return 2;
}

/** Resolves the command words at the start of `argv`: a command, or the group prefix reached. */
function resolve(argv: readonly string[]): { command?: CliCommand; prefix: string[] } {
  const command = [...commands].sort((a, b) => b.path.length - a.path.length).find((c) => c.path.every((w, i) => argv[i] === w));
  if (command) return { command, prefix: [...command.path] };
  const prefix: string[] = [];
  for (const word of argv) {
    if (!commands.some((c) => c.path.length > prefix.length + 1 && [...prefix, word].every((w, i) => c.path[i] === w))) break;
    prefix.push(word);
  }
  return { prefix };
}

/**
 * Checks a command line against the commands' declarations without running it: the command it names
 * and its parsed arguments, or a `CliUsageError`. Tests use it to keep documented lines valid.
 */
export function checkCommandLine(argv: readonly string[]): { command?: CliCommand } {
  if (argv[0] === 'help' || argv[0] === '--version' || (argv.length === 1 && isHelp(argv[0]))) return {};
  const { command, prefix } = resolve(argv);
  if (command === undefined) throw new CliUsageError(`unknown command '${argv.slice(0, prefix.length + 1).join(' ')}'`);
  parseCommandArgs(command, argv.slice(command.path.length));
  return { command };
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv[0] === '--version') {
    io.out(`${version()}\n`);
    return 0;
  }
  const helpRequest = argv[0] === 'help';
  const words = helpRequest ? argv.slice(1) : argv;
  const { command, prefix } = resolve(words);
  if (command === undefined) {
    const next = words[prefix.length];
    if (helpRequest && next === undefined) {
      io.out(groupHelp(commands, prefix));
      return 0;
    }
    if (isHelp(next)) {
      io.out(groupHelp(commands, prefix));
      return 0;
    }
    if (next === undefined) {
      io.err(groupHelp(commands, prefix));
      return usageError(io, prefix, 'missing command');
    }
    if (next.startsWith('-')) {
      const guess = prefix.length === 0 ? closest(next.replace(/^-+/, ''), ['help', 'version']) : undefined;
      return usageError(io, prefix, `unknown option ${next}${guess ? ` (did you mean --${guess}?)` : ''}`);
    }
    // Suggest among the full command paths below the prefix and their first words (group names).
    const below = commands.filter((c) => prefix.every((w, i) => c.path[i] === w)).map((c) => c.path.slice(prefix.length));
    const candidates = [...new Set(below.flatMap((p) => [p.join(' '), p[0] as string]))];
    const second = words[prefix.length + 1];
    const twoWords = second === undefined || second.startsWith('-') ? undefined : `${next} ${second}`;
    const guess =
      (twoWords &&
        closest(
          twoWords,
          candidates.filter((c) => c.includes(' ')),
        )) ||
      closest(next, candidates);
    return usageError(
      io,
      prefix,
      `unknown command '${[...prefix, next].join(' ')}'${guess ? ` (did you mean '${[...prefix, guess].join(' ')}'?)` : ''}`,
    );
  }
  const rest = words.slice(command.path.length);
  const dashDash = rest.indexOf('--');
  if (helpRequest || (dashDash === -1 ? rest : rest.slice(0, dashDash)).some(isHelp)) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(parseCommandArgs(command, rest), io);
  } catch (error) {
    if (error instanceof CliUsageError) return usageError(io, command.path, error.message);
    io.err(`authnz ${command.path.join(' ')}: ${error instanceof Error ? error.message : String(error)}\n`);
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
