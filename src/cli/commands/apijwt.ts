/** `authnz apijwt mint`: prints an APIJwt token, for development and scripts. */
import { readFileSync } from 'node:fs';
import { ApiJwtIssuer } from '../../schemes/apijwt/issuer.js';
import type { ApiJwtModelOptions, ExtraValue } from '../../schemes/apijwt/config.js';
import { readPassphrase } from '../args.js';
import { JSON_OPTION, PASSPHRASE_OPTION, type CliCommand } from '../types.js';

export const apiJwtMintCommand: CliCommand = {
  path: ['apijwt', 'mint'],
  summary: 'print an APIJwt token for a subject, key name and scopes',
  description: [
    'Signs with the private key in FILE (RSA: RS256, as api_jwt; Ed25519: EdDSA). --config is a JSON file',
    'with { keyNames, extras, allowed } as ApiJwtIssuer takes them; without it the default key names apply',
    'and the allow-lists on level, dnt and scopes are lifted (a development convenience).',
  ].join('\n'),
  options: [
    { name: 'private-key', value: 'FILE', required: true, help: 'signing key (PEM)' },
    PASSPHRASE_OPTION,
    { name: 'subject', value: 'NAME', required: true, help: 'who the token is for (sub)' },
    { name: 'key-name', value: 'NAME', help: 'APIJwt key name, mapped to iss by the model (default user)' },
    { name: 'scope', value: 'SCOPE', list: true, help: 'scope to grant' },
    { name: 'level', value: 'N', help: 'assurance level' },
    { name: 'factor', value: 'F', help: 'authentication factor claim' },
    { name: 'target', value: 'T', help: 'target claim' },
    { name: 'dnt', value: 'N', help: 'do-not-track claim' },
    { name: 'lifetime-seconds', value: 'N', help: "lifetime: 3600, 60m, 1h (default: the issuer's, 1h)" },
    { name: 'audience', value: 'AUD', help: 'aud claim' },
    { name: 'config', value: 'FILE', help: 'issuer model as JSON' },
    JSON_OPTION,
  ],
  examples: ['authnz apijwt mint --private-key keys/rsa_private.pem --subject alice --scope orders:read,orders:write --level 1'],
  async run(args, io) {
    const configFile = args.string('config');
    const config: ApiJwtModelOptions = configFile
      ? (JSON.parse(readFileSync(configFile, 'utf8')) as ApiJwtModelOptions)
      : { allowed: { level: null, dnt: null, scopes: null } };
    const passphrase = readPassphrase(args);
    const ttl = args.seconds('lifetime-seconds');
    const issuer = new ApiJwtIssuer({
      ...config,
      privateKey: readFileSync(args.required('private-key'), 'utf8'),
      ...(passphrase === undefined ? {} : { passphrase }),
      ...(ttl === undefined ? {} : { ttl }),
    });
    const extras: Record<string, ExtraValue> = {};
    const scopes = args.list('scope');
    if (scopes.length > 0) extras['scopes'] = scopes;
    const level = args.number('level');
    const dnt = args.number('dnt');
    const factor = args.string('factor');
    const target = args.string('target');
    if (level !== undefined) extras['level'] = level;
    if (dnt !== undefined) extras['dnt'] = dnt;
    if (factor !== undefined) extras['factor'] = factor;
    if (target !== undefined) extras['target'] = target;
    const keyName = args.string('key-name');
    const audience = args.string('audience');
    const issued = issuer.issue({
      subject: args.required('subject'),
      ...(keyName === undefined ? {} : { key: keyName }),
      ...(audience === undefined ? {} : { audience }),
      extras,
    });
    io.out(args.flag('json') ? JSON.stringify(issued, null, 2) + '\n' : issued.token + '\n');
    return 0;
  },
};
