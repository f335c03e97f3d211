/** A subcommand of the `authnz` CLI. Each scheme adds its own file under `src/cli/commands/`. */
export interface CliCommand {
  /** Words that select it, e.g. `['apijwt', 'mint']`. */
  readonly path: readonly string[];
  /** One line for `authnz help`. */
  readonly summary: string;
  /** Usage text printed for `--help` or a usage error. */
  readonly usage: string;
  /** Runs with the remaining arguments; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Where a command writes; injectable for tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** Parses `--name value` and `--flag` options; positional words are returned in order. */
export function parseArgs(args: readonly string[], booleanFlags: readonly string[] = []): { options: Map<string, string[]>; positionals: string[] } {
  const options = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      let value: string;
      if (eq !== -1) value = arg.slice(eq + 1);
      else if (booleanFlags.includes(name)) value = 'true';
      else {
        const next = args[i + 1];
        if (next === undefined) throw new CliUsageError(`--${name} needs a value`);
        value = next;
        i++;
      }
      options.set(name, [...(options.get(name) ?? []), value]);
    } else positionals.push(arg);
  }
  return { options, positionals };
}

/** A usage mistake: the CLI prints the message and the command's usage, exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}
