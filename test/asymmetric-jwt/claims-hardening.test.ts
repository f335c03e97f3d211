/**
 * Asymmetric JWT hardening (security review round 2): invalid UTF-8 is refused before any lookup,
 * `exp` (optional) is a whole number within the maximum token lifetime, and `typ` can be required.
 * Every token here is correctly signed by the caller's registered key.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { AsymmetricJwtVerifier, type AsymmetricJwtVerifierOptions } from '../../src/index.js';
import { keyText } from './helpers.js';

const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;
const PRIVATE = createPrivateKey(keyText('ed25519_private.pem'));
const PUBLIC = keyText('ed25519_public.pem');
let counter = 0;

const b64 = (v: string | Buffer): string => (typeof v === 'string' ? Buffer.from(v) : v).toString('base64url');
function token(payload: Buffer | Record<string, unknown>, header: Record<string, unknown> = { alg: 'EdDSA', typ: 'JWT' }): string {
  const body = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(JSON.stringify({ username: 'svc-client', time: NOW, nonce: `n-${++counter}`, ...payload }));
  const input = `${b64(JSON.stringify(header))}.${b64(body)}`;
  return `${input}.${sign(null, Buffer.from(input), PRIVATE).toString('base64url')}`;
}
// A user whose name holds U+FFFD: what a lenient decoder makes of invalid bytes.
const users = { 'svc-client': { publicKeys: [PUBLIC] }, 'svc-\ufffd': { publicKeys: [PUBLIC] } };
const verifier = (options: Partial<AsymmetricJwtVerifierOptions> = {}): AsymmetricJwtVerifier =>
  new AsymmetricJwtVerifier({ users, clock, ...options });

describe('asymmetric JWT: invalid UTF-8', () => {
  it('C0 AF in the username is refused as malformed, not read as "svc-\\uFFFD" (which Python never sees)', async () => {
    const payload = Buffer.concat([
      Buffer.from('{"username":"svc-'),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from(`","time":${NOW},"nonce":"utf8-1"}`),
    ]);
    await expect(verifier().verify(token(payload))).rejects.toMatchObject({ code: 'token_invalid', reason: 'malformed' });
  });

  it('the same user with a well-formed name still authenticates (control)', async () => {
    await expect(verifier().verify(token({ username: 'svc-\ufffd' }))).resolves.toMatchObject({ username: 'svc-\ufffd' });
  });
});

describe('asymmetric JWT: exp when present', () => {
  it.each([
    ['exp 1e308', 1e308, 'lifetime_too_long'],
    ['exp a day and a second ahead', NOW + 86_401, 'lifetime_too_long'],
    ['a fractional future exp', NOW + 60.5, 'claim_invalid'],
  ])('refuses %s', async (_name, exp, reason) => {
    await expect(verifier().verify(token({ exp }))).rejects.toMatchObject({ code: 'token_invalid', reason });
  });

  it('accepts exp within the horizon; maxTokenLifetimeSeconds moves it and is validated', async () => {
    await expect(verifier().verify(token({ exp: NOW + 60 }))).resolves.toMatchObject({ username: 'svc-client' });
    await expect(verifier({ maxTokenLifetimeSeconds: 30 }).verify(token({ exp: NOW + 60 }))).rejects.toMatchObject({
      reason: 'lifetime_too_long',
    });
    expect(() => verifier({ maxTokenLifetimeSeconds: 0 })).toThrow(
      'new AsymmetricJwtVerifier(): "maxTokenLifetimeSeconds" must be an integer > 0 (got 0)',
    );
  });
});

describe('asymmetric JWT: optional typ check (RFC 8725 §3.11)', () => {
  it('off by default: no typ is accepted', async () => {
    await expect(verifier().verify(token({}, { alg: 'EdDSA' }))).resolves.toMatchObject({ username: 'svc-client' });
  });

  it.each([
    ['typ JWT', { alg: 'EdDSA', typ: 'JWT' }, true],
    ['typ jwt', { alg: 'EdDSA', typ: 'jwt' }, true],
    ['no typ', { alg: 'EdDSA' }, false],
    ['typ at+jwt', { alg: 'EdDSA', typ: 'at+jwt' }, false],
  ])('typ: "JWT" required: %s → accepted %s', async (_name, header, ok) => {
    const outcome = verifier({ typ: 'JWT' }).verify(token({}, header));
    if (ok) await expect(outcome).resolves.toMatchObject({ username: 'svc-client' });
    else await expect(outcome).rejects.toMatchObject({ code: 'token_invalid', reason: 'type_invalid' });
  });
});
