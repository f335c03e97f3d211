/**
 * Memory held by verified-token caches per 100,000 cached tokens: APIJwt's and jwtBearerScheme's
 * (limits raised so every token fits), and fast-jwt's (`cache: count`), as the growth of the live
 * heap (after full collections) and of the resident set. Each token is presented as a fresh string,
 * as a server's header parser makes one per request, so what a cache keeps of it is counted; the
 * signed tokens themselves are made before the baseline. Ed25519 tokens, so minting is quick.
 * Usage: node --expose-gc --import tsx bench/token-memory.ts [count] [apijwt|jwt-bearer|fast-jwt ...]
 */
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { signCompact } from '../src/jwt/compact.js';
import { ApiJwtIssuer } from '../src/schemes/apijwt/issuer.js';
import { apiJwtScheme, jwtBearerScheme, type AuthRequest, type AuthScheme } from '../src/index.js';
import { live, settle } from './heap.js';

const count = Number(process.argv[2] ?? 100_000);
const which = process.argv.slice(3);
const want = (n: string): boolean => which.length === 0 || which.includes(n);
// A new flat string with the same text, as the HTTP parser hands each request.
const fresh = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');
const ISSUER = 'https://issuer.bench.example/';
const AUDIENCE = 'https://api.bench.example';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

async function measure(name: string, tokens: readonly string[], fill: () => Promise<unknown>): Promise<void> {
  await settle();
  const before = live();
  const kept = await fill();
  const after = live();
  const per = (bytes: number): string =>
    `${(((bytes / count) * 100_000) / 1024 / 1024).toFixed(1)} MiB per 100,000 (${(bytes / count).toFixed(0)} B each)`;
  const length = tokens.reduce((n, t) => n + t.length, 0) / tokens.length;
  console.log(
    `${name.padEnd(26)} tokens of ${length.toFixed(0)} chars: heap ${per(after.heap - before.heap)}; rss ${per(after.rss - before.rss)}`,
  );
  if (kept === undefined) throw new Error('nothing kept');
}

/** Presents every token three times: the caches admit a token on its second verification. */
async function fillScheme(scheme: AuthScheme, tokens: readonly string[]): Promise<AuthScheme> {
  for (const token of tokens) {
    for (let k = 0; k < 3; k++) {
      const req = { headers: { authorization: `Bearer ${fresh(token)}` }, method: 'GET', url: '/r' } as unknown as AuthRequest;
      if ((await scheme.authenticate(req)) === undefined) throw new Error('not authenticated');
    }
  }
  return scheme;
}

if (want('apijwt')) {
  const issuer = new ApiJwtIssuer({ privateKey, keyNames: { user: ISSUER }, lifetimeSeconds: 3600 });
  const tokens = Array.from(
    { length: count },
    (_, i) => issuer.issue({ subject: `user-${i}`, audience: AUDIENCE, extras: { scopes: ['user:all'], level: 1 } }).token,
  );
  await measure('APIJwt cache', tokens, async () => {
    const scheme = apiJwtScheme({
      publicKeys: [publicPem],
      keyNames: { user: ISSUER },
      audience: { audience: AUDIENCE },
      maxTokenLifetimeSeconds: 3600,
      cache: { maxBytes: 2 ** 30 },
    });
    return fillScheme(scheme, tokens);
  });
}
if (want('jwt-bearer')) {
  const header = JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: 'bench-ed' });
  const iat = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: count }, (_, i) =>
    signCompact(
      'EdDSA',
      privateKey,
      header,
      JSON.stringify({
        iss: ISSUER,
        aud: AUDIENCE,
        sub: `user-${i}`,
        client_id: 'bench-app',
        scope: 'openid user:all',
        iat,
        exp: iat + 3600,
        jti: randomUUID(),
      }),
    ),
  );
  await measure('jwtBearerScheme cache', tokens, async () => {
    const jwk = { ...createPublicKey(publicPem).export({ format: 'jwk' }), kid: 'bench-ed', alg: 'EdDSA' };
    const scheme = jwtBearerScheme({
      issuer: ISSUER,
      audience: AUDIENCE,
      publicKeys: [jwk],
      algorithms: ['EdDSA'],
      profile: 'rfc9068',
      dpop: { mode: 'disabled' },
      cache: { maxBytes: 2 ** 30 },
    });
    return fillScheme(scheme, tokens);
  });
}
if (want('fast-jwt')) {
  const header = JSON.stringify({ alg: 'EdDSA', typ: 'JWT' });
  const iat = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: count }, (_, i) =>
    signCompact(
      'EdDSA',
      privateKey,
      header,
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: `user-${i}`, scopes: ['user:all'], iat, exp: iat + 3600 }),
    ),
  );
  await measure('fast-jwt cache', tokens, async () => {
    const verify = createVerifier({ key: publicPem, algorithms: ['EdDSA'], allowedIss: ISSUER, allowedAud: AUDIENCE, cache: count });
    for (const token of tokens) verify(fresh(token));
    return verify;
  });
}
