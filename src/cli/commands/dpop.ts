/** `authnz dpop proof`: prints a DPoP proof (RFC 9449) for one request, for curl and scripts. */
import { readFileSync } from 'node:fs';
import { createDpopProof, dpopKey } from '../../protocols/dpop/proof.js';
import { readPassphrase, requestTarget } from '../args.js';
import { importPrivateKey } from '../../keys/import.js';
import { JSON_OPTION, PASSPHRASE_OPTION, type CliCommand } from '../types.js';

/** The `authnz dpop proof` command. */
export const dpopProofCommand: CliCommand = {
  path: ['dpop', 'proof'],
  summary: 'print a DPoP proof for one request (RFC 9449)',
  description: [
    'Prints a DPoP proof (the value of the DPoP header) for METHOD and URL, signed by the private key in',
    'FILE (P-256: ES256, P-384: ES384, Ed25519: EdDSA, RSA: RS256). With an access token (read from',
    '--access-token-file or $AUTHNZ_ACCESS_TOKEN, never the command line) the proof carries its hash',
    '(ath), as API calls need; without one it is a proof for a token request. Each proof has a fresh jti',
    'and iat and is accepted once, for about a minute. --json adds the key thumbprint (cnf.jkt).',
  ].join('\n'),
  options: [
    { name: 'private-key', value: 'FILE', required: true, help: 'the DPoP private key (PEM or JWK)' },
    PASSPHRASE_OPTION,
    { name: 'method', value: 'METHOD', help: 'HTTP method of the request (default GET)' },
    { name: 'url', value: 'URL', required: true, help: 'URL of the request (query and fragment are ignored)' },
    { name: 'access-token-file', value: 'FILE', help: 'file holding the access token (else $AUTHNZ_ACCESS_TOKEN)' },
    { name: 'nonce', value: 'NONCE', help: "the server's DPoP-Nonce, when it asked for one" },
    JSON_OPTION,
  ],
  examples: [
    'curl -H "Authorization: DPoP $TOKEN" -H "DPoP: $(AUTHNZ_ACCESS_TOKEN=$TOKEN authnz dpop proof --private-key dpop_private.pem --url https://api.example.com/orders)" https://api.example.com/orders',
  ],
  async run(args, io) {
    const { method, url } = requestTarget(args);
    const tokenFile = args.string('access-token-file');
    const token =
      tokenFile !== undefined ? readFileSync(tokenFile, 'utf8').trim() : process.env['AUTHNZ_ACCESS_TOKEN']?.trim() || undefined;
    const privateKey = importPrivateKey(readFileSync(args.required('private-key')), readPassphrase(args));
    const key = dpopKey(privateKey);
    const nonce = args.string('nonce');
    const proof = createDpopProof(key, {
      method,
      url,
      ...(token === undefined ? {} : { accessToken: token }),
      ...(nonce === undefined ? {} : { nonce }),
    });
    io.out(args.flag('json') ? `${JSON.stringify({ proof, jkt: key.jkt, alg: key.alg })}\n` : `${proof}\n`);
    return 0;
  },
};
