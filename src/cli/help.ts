/** `--help` texts, derived from the commands' declarations so they cannot drift from the parser. */
import type { CliCommand, CliOption } from './types.js';

const HELP_LINE: [string, string] = ['-h, --help', 'show this help'];

function table(rows: ReadonlyArray<[string, string]>): string[] {
  const width = Math.min(30, Math.max(...rows.map(([left]) => left.length)) + 2);
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${left.length >= width ? `\n  ${' '.repeat(width)}` : ''}${right}`);
}

function optionLeft(o: CliOption): string {
  return `--${o.name}${o.value === undefined ? '' : ` ${o.value}`}`;
}

function optionRight(o: CliOption): string {
  const notes = [o.required ? 'required' : '', o.list ? 'repeatable, or comma-separated' : o.repeat ? 'repeatable' : ''].filter(Boolean);
  return notes.length === 0 ? o.help : `${o.help} (${notes.join('; ')})`;
}

/** The synopsis line: required options spelled out, the rest as `[options]`. */
export function usageLine(command: CliCommand): string {
  const words = ['authnz', ...command.path];
  for (const p of command.positionals ?? []) words.push(`<${p.name}>`);
  for (const o of command.options) if (o.required) words.push(optionLeft(o));
  words.push('[options]');
  return `usage: ${words.join(' ')}`;
}

/** Full help of one command. */
export function commandHelp(command: CliCommand): string {
  const lines = [usageLine(command), '', command.summary.charAt(0).toUpperCase() + command.summary.slice(1) + '.'];
  if (command.description) lines.push('', command.description);
  if (command.positionals?.length) lines.push('', 'arguments:', ...table(command.positionals.map((p) => [`<${p.name}>`, p.help])));
  lines.push('', 'options:', ...table([...command.options.map((o): [string, string] => [optionLeft(o), optionRight(o)]), HELP_LINE]));
  if (command.examples?.length) lines.push('', 'examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** Help of the whole CLI (`prefix` empty) or of a group such as `kms`. */
export function groupHelp(commands: readonly CliCommand[], prefix: readonly string[]): string {
  const inGroup = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const lines = [`usage: authnz ${[...prefix, '<command>'].join(' ')} [options]`, '', 'commands:'];
  lines.push(...table(inGroup.map((c) => [c.path.join(' '), c.summary])));
  lines.push('', 'options:', ...table(prefix.length === 0 ? [HELP_LINE, ['--version', 'print the version']] : [HELP_LINE]));
  lines.push('', `Run 'authnz ${[...prefix, '<command>'].join(' ')} --help' for a command's options. Results go to stdout,`);
  lines.push('messages to stderr; exit status 0 on success, 1 on an error, 2 on a usage mistake.');
  return lines.join('\n') + '\n';
}
