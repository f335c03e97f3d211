/** Parses a command's arguments against its declared options (see `CliCommand.options`). */
import { readFileSync } from 'node:fs';
import { CliUsageError, type CliArgs, type CliCommand, type CliOption } from './types.js';

/** The closest of `candidates` to `word` (edit distance, or a prefix), when close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) || word.startsWith(c) ? 1 : distance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Levenshtein distance (typos are short; the quadratic table is fine). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] as number;
}

/** `unknown option --scopes (did you mean --scope?)`. */
function unknownOption(name: string, options: readonly CliOption[]): CliUsageError {
  const guess = closest(name, [...options.map((o) => o.name), 'help']);
  return new CliUsageError(`unknown option --${name}${guess ? ` (did you mean --${guess}?)` : ''}`);
}

/**
 * Parses `args` for `command`: `--name value`, `--name=value`, flags, positionals, `--` ending the
 * options. Unknown options, a missing value, a repeated single-valued option, a value given to a flag,
 * a missing required option and a wrong number of positionals are usage errors.
 */
export function parseCommandArgs(command: CliCommand, args: readonly string[]): CliArgs {
  const specs = new Map(command.options.map((o) => [o.name, o]));
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  let optionsEnded = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (optionsEnded || arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      optionsEnded = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new CliUsageError(`unknown option ${arg}${closestShort(arg, command.options)}`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = specs.get(name);
    if (spec === undefined) throw unknownOption(name, command.options);
    let value: string;
    if (spec.value === undefined) {
      if (eq !== -1) throw new CliUsageError(`--${name} takes no value`);
      value = '';
    } else if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      // A following option is not a value: `--subject --json` means the value was forgotten.
      if (next === undefined || (next.startsWith('--') && next.length > 2))
        throw new CliUsageError(`--${name} needs a value (${spec.value})`);
      value = next;
      i++;
    }
    const seen = values.get(name) ?? [];
    if (seen.length > 0 && !spec.repeat && !spec.list) throw new CliUsageError(`--${name} given more than once`);
    seen.push(value);
    values.set(name, seen);
  }
  const expected = command.positionals ?? [];
  if (positionals.length > expected.length) throw new CliUsageError(`unexpected argument ${JSON.stringify(positionals[expected.length])}`);
  if (positionals.length < expected.length) throw new CliUsageError(`missing <${expected[positionals.length]?.name as string}>`);
  for (const spec of command.options) {
    if (spec.required && !values.has(spec.name)) throw new CliUsageError(`--${spec.name} is required`);
  }
  return new ParsedArgs(specs, values, positionals);
}

/** `-x` is never valid (only `-h`, handled before parsing); suggest the long option it may abbreviate. */
function closestShort(arg: string, options: readonly CliOption[]): string {
  const letter = arg.slice(1, 2);
  const match = options.find((o) => o.name.startsWith(letter));
  return match ? ` (options are long: did you mean --${match.name}?)` : '';
}

class ParsedArgs implements CliArgs {
  readonly #specs: Map<string, CliOption>;
  readonly #values: Map<string, string[]>;
  readonly positionals: readonly string[];

  constructor(specs: Map<string, CliOption>, values: Map<string, string[]>, positionals: readonly string[]) {
    this.#specs = specs;
    this.#values = values;
    this.positionals = positionals;
  }

  #spec(name: string): CliOption {
    const spec = this.#specs.get(name);
    // A programming error in the command, not a usage error: every name read must be declared.
    if (spec === undefined) throw new Error(`option --${name} is not declared by this command`);
    return spec;
  }

  string(name: string): string | undefined {
    this.#spec(name);
    return this.#values.get(name)?.[0];
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw new CliUsageError(`--${name} is required`);
    return value;
  }

  flag(name: string): boolean {
    this.#spec(name);
    return this.#values.has(name);
  }

  list(name: string): string[] {
    const spec = this.#spec(name);
    const all = this.#values.get(name) ?? [];
    return spec.list ? all.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean) : [...all];
  }

  optionalInteger(name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    const { min = 0, max = Number.MAX_SAFE_INTEGER } = bounds;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new CliUsageError(
        `--${name} must be a whole number${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` from ${min} to ${max}`} (got ${JSON.stringify(raw)})`,
      );
    }
    return n;
  }

  integer(name: string, fallback: number, bounds?: { min?: number; max?: number }): number {
    return this.optionalInteger(name, bounds) ?? fallback;
  }

  number(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n)) throw new CliUsageError(`--${name} must be a number (got ${JSON.stringify(raw)})`);
    return n;
  }

  seconds(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const match = /^(\d+)([smhd]?)$/.exec(raw);
    const n = match ? Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'] : NaN;
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new CliUsageError(`--${name} must be a duration such as 90, 90s, 15m, 12h or 30d (got ${JSON.stringify(raw)})`);
    return n;
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!(choices as readonly string[]).includes(raw)) {
      const guess = closest(raw, choices);
      throw new CliUsageError(
        `--${name} must be one of ${choices.join(', ')} (got ${JSON.stringify(raw)}${guess ? `; did you mean ${guess}?` : ''})`,
      );
    }
    return raw as T;
  }
}

/** The passphrase from `--passphrase-file` or `$AUTHNZ_KEY_PASSPHRASE`, if either is set. */
export function readPassphrase(args: CliArgs): string | undefined {
  const file = args.string('passphrase-file');
  if (file !== undefined) return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  const env = process.env['AUTHNZ_KEY_PASSPHRASE'];
  return env === undefined || env === '' ? undefined : env;
}

/** `--url` (required, absolute) and `--method` (default GET, upper-cased) of a command about one request. */
export function requestTarget(args: CliArgs): { method: string; url: string } {
  const url = args.required('url');
  try {
    new URL(url);
  } catch {
    throw new CliUsageError('--url must be an absolute URL');
  }
  const method = (args.string('method') ?? 'GET').toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new CliUsageError('--method must be an HTTP method such as GET or POST');
  return { method, url };
}
