/** Child process: mints a slice of a token pool with the APIJwt issuer and sends it back over IPC. */
import { ApiJwtIssuer } from '../src/schemes/apijwt/issuer.js';
import { mintAccessTokens } from './jwt-bearer.js';
import { readKeys, SCOPE, TOKEN_AUDIENCE, TOKEN_ISSUER } from './fixtures.js';

const [keysFile = '', alg = 'rsa', from = '0', count = '0', prefix = 'user', ttl = '3600'] = process.argv.slice(2);
const keys = readKeys(keysFile);
const issuer = new ApiJwtIssuer({
  privateKey: alg === 'rsa' ? keys.rsaPrivate : keys.edPrivate,
  keyNames: { user: TOKEN_ISSUER },
  lifetimeSeconds: Number(ttl),
});
const tokens: string[] = alg === 'at' ? mintAccessTokens(keys, Number(from), Number(count), prefix, Number(ttl)) : [];
for (let i = Number(from); alg !== 'at' && i < Number(from) + Number(count); i++) {
  tokens.push(issuer.issue({ subject: `${prefix}-${i}`, audience: TOKEN_AUDIENCE, extras: { scopes: [SCOPE], level: 1 } }).token);
}
process.send?.(tokens, () => process.exit(0));
