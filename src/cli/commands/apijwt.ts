/** `authnz apijwt mint`: prints an APIJwt token, for development and scripts. */
import { readFileSync } from 'node:fs';
import { ApiJwtIssuer } from '../../schemes/apijwt/issuer.js';
import type { ApiJwtModelOptions, ExtraValue } from '../../schemes/apijwt/config.js';
import { parseArgs, CliUsageError, type CliCommand } from '../types.js';

const USAGE = `usage: authnz apijwt mint --private-key FILE --subject SUB [--key user] [--scopes a,b]
                         [--level 1.0] [--factor F] [--target T] [--dnt 0] [--ttl 3600]
                         [--audience AUD] [--config FILE] [--passphrase P]

Prints a token signed with FILE (RSA → RS256, as api_jwt; Ed25519 → EdDSA). --config is a JSON file
with { keys, extras, allowed } as ApiJwtIssuer takes them; without it the default key names apply
and allow-lists on level, dnt and scopes are lifted (a development convenience).`;

export const apiJwtMintCommand: CliCommand = {
  path: ['apijwt', 'mint'],
  summary: 'print an APIJwt token for a subject, key name and scopes',
  usage: USAGE,
  async run(args, io) {
    const { options } = parseArgs(args);
    const one = (name: string): string | undefined => options.get(name)?.[0];
    const keyFile = one('private-key');
    const subject = one('subject');
    if (!keyFile) throw new CliUsageError('--private-key is required');
    if (!subject) throw new CliUsageError('--subject is required');
    const config: ApiJwtModelOptions = one('config')
      ? (JSON.parse(readFileSync(one('config') as string, 'utf8')) as ApiJwtModelOptions)
      : { allowed: { level: null, dnt: null, scopes: null } };
    const number = (name: string): number | undefined => {
      const v = one(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new CliUsageError(`--${name} must be a number`);
      return n;
    };
    const issuer = new ApiJwtIssuer({
      ...config,
      privateKey: readFileSync(keyFile, 'utf8'),
      ...(one('passphrase') === undefined ? {} : { passphrase: one('passphrase') as string }),
      ...(number('ttl') === undefined ? {} : { ttl: number('ttl') as number }),
    });
    const extras: Record<string, ExtraValue> = {};
    if (one('scopes') !== undefined) extras['scopes'] = (one('scopes') as string).split(',').filter(Boolean);
    if (number('level') !== undefined) extras['level'] = number('level') as number;
    if (number('dnt') !== undefined) extras['dnt'] = number('dnt') as number;
    if (one('factor') !== undefined) extras['factor'] = one('factor') as string;
    if (one('target') !== undefined) extras['target'] = one('target') as string;
    const issued = issuer.issue({
      subject,
      ...(one('key') === undefined ? {} : { key: one('key') as string }),
      ...(one('audience') === undefined ? {} : { audience: one('audience') as string }),
      extras,
    });
    io.out(issued.token + '\n');
    return 0;
  },
};
