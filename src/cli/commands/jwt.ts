/** `authnz jwt header`: prints an `Authorization: JWT …` header value for curl (asymmetric_jwt_auth). */
import { createAuthHeader } from '../../schemes/asymmetric-jwt/client.js';
import { parseArgs, CliUsageError, type CliCommand } from '../types.js';

const USAGE = `usage: authnz jwt header --user USERNAME --key FILE [--passphrase P] [--legacy]

Prints "JWT <token>" signed with the private key in FILE (PEM: PKCS#8, encrypted PKCS#8, PKCS#1;
or JWK): RS512 for RSA, EdDSA for Ed25519, ES256 for P-256. Each token holds a fresh nonce and is
valid for about 20 seconds, once. The passphrase may also come from AUTHNZ_KEY_PASSPHRASE, which
keeps it out of the process list. --legacy makes the 0.x shape (RSA only, no kid, float time/nonce).

  curl -H "Authorization: $(authnz jwt header --user svc --key svc_private.pem)" https://api/...`;

/** The `authnz jwt header` command. */
export const jwtHeaderCommand: CliCommand = {
  path: ['jwt', 'header'],
  summary: 'print an Authorization: JWT header value (asymmetric JWT)',
  usage: USAGE,
  async run(args, io) {
    const { options, positionals } = parseArgs(args, ['legacy']);
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument ${positionals[0] as string}`);
    const username = options.get('user')?.[0];
    const keyFile = options.get('key')?.[0];
    if (!username) throw new CliUsageError('--user is required');
    if (!keyFile) throw new CliUsageError('--key is required');
    const passphrase = options.get('passphrase')?.[0] ?? process.env['AUTHNZ_KEY_PASSPHRASE'];
    const compat = options.has('legacy') ? '0.x' : '1.x';
    io.out(`${createAuthHeader({ username, keyFile, passphrase, compat })}\n`);
    return 0;
  },
};
