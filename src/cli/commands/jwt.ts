/** `authnz jwt header`: prints an `Authorization: JWT …` header value for curl (asymmetric_jwt_auth). */
import { createAuthHeader } from '../../schemes/asymmetric-jwt/client.js';
import { readPassphrase } from '../args.js';
import { JSON_OPTION, PASSPHRASE_OPTION, type CliCommand } from '../types.js';

/** The `authnz jwt header` command. */
export const jwtHeaderCommand: CliCommand = {
  path: ['jwt', 'header'],
  summary: 'print an Authorization: JWT header value (asymmetric JWT)',
  description: [
    'Prints "JWT <token>" signed with the private key in FILE (PEM: PKCS#8, encrypted PKCS#8, PKCS#1;',
    'or JWK): RS512 for RSA, EdDSA for Ed25519, ES256 for P-256. Each token holds a fresh nonce and is',
    'valid for about 20 seconds, once. --legacy makes the 0.x shape (RSA only, no kid, float time/nonce).',
  ].join('\n'),
  options: [
    { name: 'subject', value: 'NAME', required: true, help: 'the username the API knows the caller by' },
    { name: 'private-key', value: 'FILE', required: true, help: "the caller's private key" },
    PASSPHRASE_OPTION,
    { name: 'audience', value: 'AUD', help: 'adds an aud claim, for APIs configured with that audience' },
    { name: 'legacy', help: 'asymmetric_jwt_auth 0.x token shape' },
    JSON_OPTION,
  ],
  examples: [
    'curl -H "Authorization: $(authnz jwt header --subject svc-client --private-key keys/svc-client_private.pem)" https://api/...',
  ],
  async run(args, io) {
    const authorization = createAuthHeader({
      username: args.required('subject'),
      keyFile: args.required('private-key'),
      passphrase: readPassphrase(args),
      compat: args.flag('legacy') ? '0.x' : '1.x',
      audience: args.string('audience'),
    });
    io.out(args.flag('json') ? `${JSON.stringify({ authorization })}\n` : `${authorization}\n`);
    return 0;
  },
};
