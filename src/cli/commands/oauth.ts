/** `authnz oauth token` (fetch an access token) and `authnz jwks <dir>` (print a JWK Set for a key directory). */
import { readFileSync } from 'node:fs';
import { loadKeyDirectory } from '../../keys/directory.js';
import { buildJwks } from '../../middleware/jwks.js';
import type { JwsAlgorithm } from '../../jwt/compact.js';
import type { ClientAuthentication } from '../../schemes/oauth/client-auth.js';
import { TokenClient } from '../../schemes/oauth/token-client.js';
import { CliUsageError, parseArgs, type CliCommand } from '../types.js';

const TOKEN_USAGE = `usage: authnz oauth token (--issuer URL | --token-endpoint URL) --client-id ID
                         [--auth basic|post|private_key_jwt] [--private-key FILE]
                         [--scope S]... [--purpose P]... [--sub SUB --assertion-key FILE]
                         [--header 'Name: value']... [--timeout-ms 5000] [--json]

Fetches a token with client_credentials (or, with --sub, the jwt-bearer grant signed by
--assertion-key) and prints the access token (--json: the whole token response).
The client secret is read from AUTHNZ_CLIENT_SECRET (or BAIKAL_CLIENT_SECRET), never from the
command line. --issuer falls back to BAIKAL_AUTHSERVER_ENDPOINT, --client-id to BAIKAL_CLIENT_ID.`;

const JWKS_USAGE = `usage: authnz jwks <dir> [--passphrase P] [--alg RS512]

Loads every key in <dir> (PEM, DER, JWK) and prints their public JWK Set with kid (the file's JWK
kid, else the RFC 7638 thumbprint), use "sig" and alg; both halves of a pair are listed once.`;

/** `authnz oauth token`. */
export const oauthTokenCommand: CliCommand = {
  path: ['oauth', 'token'],
  summary: 'fetch an OAuth 2.0 access token (client_credentials or jwt-bearer)',
  usage: TOKEN_USAGE,
  async run(args, io) {
    const { options } = parseArgs(args, ['json']);
    const one = (name: string): string | undefined => options.get(name)?.[0];
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
    for (const h of options.get('header') ?? []) {
      const colon = h.indexOf(':');
      if (colon <= 0) throw new CliUsageError(`--header must be 'Name: value'`);
      headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
    }
    const timeout = one('timeout-ms') === undefined ? undefined : Number(one('timeout-ms'));
    if (timeout !== undefined && !(timeout > 0)) throw new CliUsageError('--timeout-ms must be a positive number');
    const assertionKey = one('assertion-key');
    const client = new TokenClient({
      ...(issuer ? { issuer } : {}),
      ...(tokenEndpoint ? { tokenEndpoint } : {}),
      clientAuth,
      headers,
      cache: false,
      ...(timeout === undefined ? {} : { timeoutMs: timeout }),
      ...(assertionKey ? { assertionKey: readFileSync(assertionKey) } : {}),
    });
    const scopes = (options.get('scope') ?? []).flatMap((s) => s.split(/[ ,]/)).filter(Boolean);
    const purposes = (options.get('purpose') ?? []).flatMap((s) => s.split(/[ ,]/)).filter(Boolean);
    const sub = one('sub');
    const token = sub ? await client.grantUser({ sub, scopes, purposes }) : await client.grantClient({ scopes, purposes });
    io.out(one('json') ? `${JSON.stringify(token.response, null, 2)}\n` : `${token.accessToken}\n`);
    return 0;
  },
};

/** `authnz jwks <dir>`. */
export const jwksCommand: CliCommand = {
  path: ['jwks'],
  summary: 'print the public JWK Set of every key in a directory',
  usage: JWKS_USAGE,
  async run(args, io) {
    const { options, positionals } = parseArgs(args);
    const dir = positionals[0];
    if (!dir || positionals.length > 1) throw new CliUsageError('give exactly one key directory');
    const passphrase = options.get('passphrase')?.[0];
    const alg = options.get('alg')?.[0];
    const keys = loadKeyDirectory(dir, passphrase === undefined ? {} : { passphrase });
    const jwks = buildJwks(keys.map((k) => ({ key: k.publicKey, ...(k.kid === undefined ? {} : { kid: k.kid }), ...(alg === undefined ? {} : { alg: alg as JwsAlgorithm }) })));
    // A directory often holds both halves of a key pair: publish each key once.
    const seen = new Set<string>();
    jwks.keys = jwks.keys.filter((k) => !seen.has(k.kid) && Boolean(seen.add(k.kid)));
    io.out(`${JSON.stringify(jwks, null, 2)}\n`);
    return 0;
  },
};
