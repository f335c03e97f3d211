/** `authnz oauth token` (fetch an access token) and `authnz jwks <dir>` (print a JWK Set for a key directory). */
import { readFileSync } from 'node:fs';
import { loadKeyDirectory } from '../../keys/directory.js';
import { buildJwks } from '../../middleware/jwks.js';
import type { JwsAlgorithm } from '../../jwt/compact.js';
import type { ClientAuthentication } from '../../protocols/oauth/client-auth.js';
import { TokenClient } from '../../protocols/oauth/token-client.js';
import { readPassphrase } from '../args.js';
import { CliUsageError, JSON_OPTION, PASSPHRASE_OPTION, type CliCommand } from '../types.js';

/** `authnz oauth token`. */
export const oauthTokenCommand: CliCommand = {
  path: ['oauth', 'token'],
  summary: 'fetch an OAuth 2.0 access token (client_credentials or jwt-bearer)',
  description: [
    'Fetches a token with client_credentials (or, with --subject, the jwt-bearer grant signed by',
    '--assertion-key) and prints the access token (--json: the whole token response). The client secret',
    'is read from $AUTHNZ_CLIENT_SECRET (or $BAIKAL_CLIENT_SECRET), never from the command line.',
    '--issuer falls back to $BAIKAL_AUTHSERVER_ENDPOINT, --client-id to $BAIKAL_CLIENT_ID.',
  ].join('\n'),
  options: [
    { name: 'issuer', value: 'URL', help: 'authorization server (discovery)' },
    { name: 'token-endpoint', value: 'URL', help: 'token endpoint, instead of --issuer' },
    { name: 'client-id', value: 'ID', help: 'client id' },
    {
      name: 'auth',
      value: 'basic|post|private_key_jwt',
      help: 'client authentication (default basic, or private_key_jwt with --private-key)',
    },
    { name: 'private-key', value: 'FILE', help: 'client key for private_key_jwt' },
    { name: 'scope', value: 'SCOPE', list: true, help: 'scope to request' },
    { name: 'purpose', value: 'P', list: true, help: 'purpose to request' },
    { name: 'subject', value: 'NAME', help: 'jwt-bearer grant for this subject (needs --assertion-key)' },
    { name: 'assertion-key', value: 'FILE', help: 'key that signs the jwt-bearer assertion' },
    { name: 'resource', value: 'URL', repeat: true, help: 'RFC 8707 resource indicator: the API the token is for' },
    { name: 'dpop-key', value: 'FILE', help: 'request a DPoP-bound token (RFC 9449) for this private key' },
    { name: 'header', value: "'NAME: VALUE'", repeat: true, help: 'extra request header' },
    { name: 'timeout-ms', value: 'N', help: 'request timeout (default 5000)' },
    JSON_OPTION,
  ],
  examples: ['AUTHNZ_CLIENT_SECRET=… authnz oauth token --issuer https://as.example.com --client-id svc --scope read'],
  async run(args, io) {
    const one = (name: string): string | undefined => args.string(name);
    const issuer = one('issuer') ?? process.env['BAIKAL_AUTHSERVER_ENDPOINT'];
    const tokenEndpoint = one('token-endpoint');
    const clientId = one('client-id') ?? process.env['BAIKAL_CLIENT_ID'];
    if (!issuer && !tokenEndpoint) throw new CliUsageError('--issuer or --token-endpoint is required');
    if (!clientId) throw new CliUsageError('--client-id is required');
    const method = one('auth') ?? (one('private-key') ? 'private_key_jwt' : 'basic');
    let clientAuth: ClientAuthentication;
    if (method === 'private_key_jwt') {
      const file = one('private-key');
      if (!file) throw new CliUsageError('--auth private_key_jwt needs --private-key FILE');
      clientAuth = { method: 'private_key_jwt', clientId, privateKey: readFileSync(file) };
    } else if (method === 'basic' || method === 'post') {
      const clientSecret = process.env['AUTHNZ_CLIENT_SECRET'] ?? process.env['BAIKAL_CLIENT_SECRET'];
      if (!clientSecret) throw new CliUsageError('set AUTHNZ_CLIENT_SECRET (or BAIKAL_CLIENT_SECRET) to the client secret');
      clientAuth = { method: method === 'basic' ? 'client_secret_basic' : 'client_secret_post', clientId, clientSecret };
    } else throw new CliUsageError('--auth must be basic, post or private_key_jwt');
    const headers: Record<string, string> = {};
    for (const h of args.list('header')) {
      const colon = h.indexOf(':');
      if (colon <= 0) throw new CliUsageError(`--header must be 'Name: value'`);
      headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
    }
    const timeout = args.optionalInteger('timeout-ms', { min: 1 });
    const assertionKey = one('assertion-key');
    const client = new TokenClient({
      ...(issuer ? { issuer } : {}),
      ...(tokenEndpoint ? { tokenEndpoint } : {}),
      clientAuth,
      headers,
      cache: false,
      ...(timeout === undefined ? {} : { timeoutMs: timeout }),
      ...(assertionKey ? { assertionKey: readFileSync(assertionKey) } : {}),
      ...(one('dpop-key') ? { dpopKey: readFileSync(one('dpop-key') as string) } : {}),
    });
    const scopes = args.list('scope');
    const purposes = args.list('purpose');
    const sub = one('subject');
    if (sub && !assertionKey) throw new CliUsageError('--subject needs --assertion-key FILE');
    const resource = args.list('resource');
    const request = { scopes, purposes, ...(resource.length > 0 ? { resource } : {}) };
    const token = sub ? await client.grantUser({ sub, ...request }) : await client.grantClient(request);
    io.out(args.flag('json') ? `${JSON.stringify(token.response, null, 2)}\n` : `${token.accessToken}\n`);
    return 0;
  },
};

/** `authnz jwks <dir>`. */
export const jwksCommand: CliCommand = {
  path: ['jwks'],
  summary: 'print the public JWK Set of every key in a directory',
  description: [
    "Loads every key in <dir> (PEM, DER, JWK) and prints their public JWK Set with kid (the file's JWK",
    'kid, else the RFC 7638 thumbprint), use "sig" and alg; both halves of a pair are listed once.',
    'The output is JSON with or without --json.',
  ].join('\n'),
  positionals: [{ name: 'dir', help: 'key directory' }],
  options: [PASSPHRASE_OPTION, { name: 'alg', value: 'ALG', help: 'alg to state on every key (default: from the key type)' }, JSON_OPTION],
  async run(args, io) {
    const dir = args.positionals[0] as string;
    const passphrase = readPassphrase(args);
    const alg = args.string('alg');
    const keys = loadKeyDirectory(dir, passphrase === undefined ? {} : { passphrase });
    const jwks = buildJwks(
      keys.map((k) => ({
        key: k.publicKey,
        ...(k.kid === undefined ? {} : { kid: k.kid }),
        ...(alg === undefined ? {} : { alg: alg as JwsAlgorithm }),
      })),
    );
    // A directory often holds both halves of a key pair: publish each key once.
    const seen = new Set<string>();
    jwks.keys = jwks.keys.filter((k) => !seen.has(k.kid) && Boolean(seen.add(k.kid)));
    io.out(`${JSON.stringify(jwks, null, 2)}\n`);
    return 0;
  },
};
