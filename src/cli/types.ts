/**
 * The `authnz` CLI's command contract. A command declares its options once (name, value placeholder,
 * help line, repeatability); the parser, the `--help` text and the "did you mean" suggestions are all
 * derived from that declaration, so every subcommand behaves the same way.
 *
 * Conventions every command follows (see docs/cli.md):
 * - one option name per concept: `--subject` (who the credential is for), `--scope` (repeatable and
 *   comma-separated), `--private-key FILE` (a key file), `--kms-key` (a KMS key id or alias),
 *   `--key-name` (an APIJwt key name), `--lifetime-seconds` (seconds, or with a unit: `90`, `90s`, `15m`, `12h`, `30d`),
 *   `--store` (a file or a URL), `--passphrase-file` (never a secret on the command line);
 * - results on stdout, messages on stderr; `--json` for machine-readable output;
 * - exit 0 on success, 1 on an error, 2 on a usage mistake.
 */
import { AuthnzError } from '../errors.js';
import { brandedGuard } from '../lib/brand.js';

/** One option of a command, e.g. `{ name: 'scope', value: 'SCOPE', list: true, help: '…' }`. */
export interface CliOption {
  /** Name without the leading dashes, e.g. `private-key`. */
  readonly name: string;
  /** Placeholder of its value in the help (`FILE`, `N`); absent for a flag that takes no value. */
  readonly value?: string;
  /** One line for `--help`. */
  readonly help: string;
  /** The command cannot run without it (checked before `run`). */
  readonly required?: boolean;
  /** May be given more than once; the values are kept in order. */
  readonly repeat?: boolean;
  /** Like `repeat`, and each value is also split on commas and whitespace (scopes, CIDRs). */
  readonly list?: boolean;
}

/** A positional argument of a command, e.g. `<dir>`. */
export interface CliPositional {
  /** Name shown in the usage line. */
  readonly name: string;
  /** One line for `--help`. */
  readonly help: string;
}

/** A subcommand of the `authnz` CLI. Each scheme adds its own file under `src/cli/commands/`. */
export interface CliCommand {
  /** Words that select it, e.g. `['apijwt', 'mint']`. */
  readonly path: readonly string[];
  /** One line for `authnz --help`. */
  readonly summary: string;
  /** Paragraphs printed under the usage line by `--help`. */
  readonly description?: string;
  /** Its options; `--help` and `-h` are added by the CLI. */
  readonly options: readonly CliOption[];
  /** Positional arguments, all required, in order (none when absent). */
  readonly positionals?: readonly CliPositional[];
  /** Example command lines for `--help`. */
  readonly examples?: readonly string[];
  /** Runs with the parsed arguments; resolves to the exit code (0, or 1 for an error it reported). */
  run(args: CliArgs, io: CliIo): Promise<number>;
}

/** Where a command writes; injectable for tests. Results go to `out`, messages to `err`. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The parsed arguments of one command, with typed accessors that raise usage errors. */
export interface CliArgs {
  /** Positional arguments, in order (their count is checked before `run`). */
  readonly positionals: readonly string[];
  /** The value of an option given at most once, or undefined. */
  string(name: string): string | undefined;
  /** The value of an option that must be present and non-empty. */
  required(name: string): string;
  /** Whether a flag was given. */
  flag(name: string): boolean;
  /** Every value of a repeatable option (list options split on commas and whitespace). */
  list(name: string): string[];
  /** A whole number within bounds, or `fallback`. */
  integer(name: string, fallback: number, bounds?: { min?: number; max?: number }): number;
  /** Like `integer`, undefined when absent. */
  optionalInteger(name: string, bounds?: { min?: number; max?: number }): number | undefined;
  /** A finite number, or undefined. */
  number(name: string): number | undefined;
  /** A duration in seconds (`90`, `90s`, `15m`, `12h`, `30d`), or undefined. */
  seconds(name: string): number | undefined;
  /** One of `choices`, or `fallback`. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T;
}

/** A usage mistake: the CLI prints the message and where to find the usage; exit code 2. */
export class CliUsageError extends AuthnzError<'usage'> {
  constructor(message: string) {
    super('usage', message);
  }
}

/** True for a {@link CliUsageError} from any copy of the library (brand, not `instanceof`). */
export const isCliUsageError = brandedGuard(CliUsageError, 'CliUsageError');

/** `--json`, which every command accepts. */
export const JSON_OPTION: CliOption = { name: 'json', help: 'print the result as JSON' };

/** The passphrase of an encrypted private key: a file, or `$AUTHNZ_KEY_PASSPHRASE` (never argv). */
export const PASSPHRASE_OPTION: CliOption = {
  name: 'passphrase-file',
  value: 'FILE',
  help: 'passphrase of an encrypted private key (else $AUTHNZ_KEY_PASSPHRASE)',
};
