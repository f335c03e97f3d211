/** Every CLI subcommand; each scheme appends its own import and entry. */
import type { CliCommand } from '../types.js';

export const commands: CliCommand[] = [];
