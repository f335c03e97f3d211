/**
 * In-process timing of two small per-request steps, each beside the rule it replaced (kept here as
 * the reference): strict base64url decoding of a token's three segments, and the credential-list
 * check of an `Authorization: Bearer <jwt>` header (that rule is module-private in src/scheme.ts, so both
 * forms are written out here). Usage: npx tsx bench/codec-micro.ts
 */
import { generateKeyPairSync } from 'node:crypto';
import { ApiJwtIssuer } from '../src/schemes/apijwt/issuer.js';
import { decodeBase64UrlStrict } from '../src/jwt/compact.js';

const B64URL = /^[A-Za-z0-9_-]*$/;
/** The previous rule: decode, then re-encode and compare. */
function decodeByRoundTrip(segment: string): Buffer | undefined {
  if (!B64URL.test(segment) || segment.length % 4 === 1) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : undefined;
}
const CREDENTIAL_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [A-Za-z0-9\-._~+/]+=* *,/;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const issuer = new ApiJwtIssuer({ privateKey, keyNames: { user: 'https://auth.bench.example' }, lifetimeSeconds: 3600 });
const token = issuer.issue({ subject: 'user-1', audience: 'bench-api', extras: { scopes: ['user:all'], level: 1 } }).token;
const segments = token.split('.');
const req = { headers: { authorization: `Bearer ${token}` } };

function nsPerCall(name: string, fn: () => unknown, n = 400_000): void {
  for (let i = 0; i < 20_000; i++) fn();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  console.log(`${name.padEnd(52)} ${(Number(process.hrtime.bigint() - started) / n).toFixed(0).padStart(6)} ns`);
}

console.log(`token: ${token.length} characters`);
nsPerCall('3 segments, decode + re-encode (previous)', () => segments.map(decodeByRoundTrip));
nsPerCall('3 segments, decodeBase64UrlStrict (tail check)', () => segments.map(decodeBase64UrlStrict));
const header = req.headers.authorization;
nsPerCall('credential-list regex on the header (previous)', () => CREDENTIAL_LIST.test(header));
// The rule of src/scheme.ts isCredentialList (module-private): a list needs a comma.
nsPerCall('comma scan, then the regex only on a comma', () => header.includes(',') && CREDENTIAL_LIST.test(header));
