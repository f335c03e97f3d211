/**
 * Malformed and hostile `Authorization` headers against an APIJwt-protected route: every one gets a
 * 4xx with a problem+json body and a challenge, never a 500 and never a 200.
 */
import { createHmac, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express from 'express';
import request from 'supertest';
import { ApiJwtIssuer, apiJwtScheme, authenticate, requireScopes } from '../../src/index.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/apijwt/${name}`, import.meta.url), 'utf8');
const PRIVATE = fixture('rsa_private.pem');
const PUBLIC = fixture('rsa_public.pem');
const NOW = 1_700_000_000;
const clock = (): number => NOW * 1000;

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function rs(header: object, payload: unknown, key = PRIVATE, digest = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(digest, Buffer.from(input), createPrivateKey(key)).toString('base64url')}`;
}
const good = { iss: 'auth_user', sub: 'alice', exp: NOW + 600, level: '1.0', scopes: 'orders:read' };
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerPem = attacker.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
// Issuer and verifiers share the model: the verifier enforces its allowed values.
const MODEL = { allowed: { scopes: { PER_KEY: { user: ['orders:read'], admin: ['admin:all'] } } } };
const valid = new ApiJwtIssuer({ ...MODEL, privateKey: PRIVATE, clock }).issue({
  subject: 'alice',
  extras: { scopes: ['orders:read'] },
}).token;
const [vh, vp, vs] = valid.split('.') as [string, string, string];
const hs256 = (() => {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(good)}`;
  return `${input}.${createHmac('sha256', PUBLIC).update(input).digest('base64url')}`;
})();

const app = express();
app.get(
  '/orders',
  authenticate([apiJwtScheme({ ...MODEL, publicKeys: [PUBLIC], clock })], { realm: 'api' }),
  requireScopes('orders:read'),
  (_q, r) => {
    r.json({ ok: true });
  },
);
app.get('/admin', authenticate([apiJwtScheme({ ...MODEL, publicKeys: [PUBLIC], clock })]), requireScopes('admin:all'), (_q, r) => {
  r.json({ ok: true });
});

type Case = [name: string, header: string | string[] | undefined, status: number, path?: string];
const cases: Case[] = [
  ['no header at all', undefined, 401],
  ['empty header', '', 400],
  ['scheme only', 'Bearer', 400],
  ['token with a space inside', `Bearer ${vh}.${vp} ${vs}`, 400],
  ['two tokens', `Bearer ${valid} ${valid}`, 400],
  ['two Authorization headers', [`Bearer ${valid}`, `Bearer ${valid}`], 400],
  ['oversized header', `Bearer ${'a'.repeat(9000)}`, 400],
  ['tab instead of space', `Bearer\t${valid}`, 400],
  ['comma in scheme', `Bearer,x ${valid}`, 400],
  ['non-ASCII bytes', `Bearer ${valid}\u00e9`, 400],
  ['unknown scheme', 'Digest username="x", realm="y"', 401],
  ['Basic credentials', 'Basic dXNlcjpwYXNz', 401],
  ['one segment', 'Bearer abc', 401],
  ['two segments', `Bearer ${vh}.${vp}`, 401],
  ['four segments', `Bearer ${valid}.x`, 401],
  ['empty segments', 'Bearer ..', 401],
  // '=' only ends a token68 (RFC 7235): with one inside, the header itself is malformed.
  ['padded base64url', `Bearer ${vh}=.${vp}.${vs}`, 400],
  ['standard base64 alphabet', `Bearer ${vh}.${vp}.${vs.replace(/-/g, '+').replace(/_/g, '/')}x+/`, 401],
  ['header not JSON', `Bearer ${b64('nope')}.${vp}.${vs}`, 401],
  ['payload not JSON', `Bearer ${vh}.${b64('nope')}.${vs}`, 401],
  ['payload a JSON array', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, [1, 2])}`, 401],
  ['tampered payload', `Bearer ${vh}.${b64({ ...good, sub: 'mallory' })}.${vs}`, 401],
  ['alg none', `Bearer ${b64({ alg: 'none' })}.${b64(good)}.`, 401],
  ['alg NONE with a signature', `Bearer ${b64({ alg: 'NONE' })}.${b64(good)}.${vs}`, 401],
  ['alg nOnE', `Bearer ${b64({ alg: 'nOnE' })}.${b64(good)}.${vs}`, 401],
  ['HS256 signed with the RSA public key', `Bearer ${hs256}`, 401],
  ['RS512 with the right key (not allowed)', `Bearer ${rs({ alg: 'RS512', typ: 'JWT' }, good, PRIVATE, 'sha512')}`, 401],
  ['signed by an unknown key', `Bearer ${rs({ alg: 'RS256' }, good, attackerPem)}`, 401],
  [
    'embedded jwk of the attacker',
    `Bearer ${rs({ alg: 'RS256', jwk: attacker.publicKey.export({ format: 'jwk' }) }, good, attackerPem)}`,
    401,
  ],
  ['jku pointing elsewhere', `Bearer ${rs({ alg: 'RS256', jku: 'http://127.0.0.1:1/jwks' }, good, attackerPem)}`, 401],
  ['kid path traversal', `Bearer ${rs({ alg: 'RS256', kid: '../../../../etc/passwd' }, good, attackerPem)}`, 401],
  ['kid SQL injection', `Bearer ${rs({ alg: 'RS256', kid: "' OR 1=1 --" }, good, attackerPem)}`, 401],
  ['crit with an unknown name', `Bearer ${rs({ alg: 'RS256', crit: ['x-unknown'], 'x-unknown': 1 }, good)}`, 401],
  ['b64 false', `Bearer ${rs({ alg: 'RS256', b64: false, crit: ['b64'] }, good)}`, 401],
  ['expired', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, exp: NOW - 1 })}`, 401],
  ['exp equal to now', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, exp: NOW })}`, 401],
  ['exp as a string', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, exp: String(NOW + 600) })}`, 401],
  ['exp missing', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { sub: 'alice', scopes: 'orders:read' })}`, 401],
  ['nbf in the future', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, nbf: NOW + 60 })}`, 401],
  ['iat in the future', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, iat: NOW + 60 })}`, 401],
  ['sub missing', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { exp: NOW + 600 })}`, 401],
  ['sub a number', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, sub: 42 })}`, 401],
  ['aud present (api_jwt rejects any aud)', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, aud: 'https://api' })}`, 401],
  ['level not a number', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, level: 'high' })}`, 401],
  ['nested JWT as payload', `Bearer ${vh}.${b64(valid)}.${vs}`, 401],
  [
    'duplicate sub in the payload',
    `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, `{"sub":"alice","exp":${NOW + 600},"scopes":"orders:read","sub":"admin"}`)}`,
    401,
  ],
  [
    'escaped duplicate name in the payload',
    `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, `{"sub":"alice","exp":${NOW + 600},"scopes":"orders:read","\\u0073ub":"admin"}`)}`,
    401,
  ],
  [
    'duplicate alg in the header',
    `Bearer ${rs(JSON.parse('{"alg":"RS256"}'), good).replace(/^[^.]+/, b64('{"alg":"RS256","alg":"none"}'))}`,
    401,
  ],
  ['valid token without the needed scope', `Bearer ${valid}`, 403, '/admin'],
  [
    'a scope the key name may not carry (model enforced on verification)',
    `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, scopes: 'orders:read,admin:all' })}`,
    401,
    '/admin',
  ],
  [
    'scopes as a JSON array',
    `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, scopes: ['orders:read', 'admin:all'] })}`,
    401,
    '/admin',
  ],
  ['exp 1e308 (beyond the lifetime horizon)', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, exp: 1e308 })}`, 401],
  ['fractional exp', `Bearer ${rs({ alg: 'RS256', typ: 'JWT' }, { ...good, exp: NOW + 600.5 })}`, 401],
];

describe('hostile Authorization headers on an APIJwt route', () => {
  it('has at least 30 hostile cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it('accepts the valid token (control case)', async () => {
    const res = await request(app).get('/orders').set('Authorization', `Bearer ${valid}`);
    expect(res.status).toBe(200);
  });

  it.each(cases.map(([name, header, status, path]) => [name, status, header, path] as const))(
    '%s → %i',
    async (_name, status, header, path = '/orders') => {
      let req = request(app).get(path);
      if (header !== undefined) req = req.set('Authorization', header as string);
      const res = await req;
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status, type: expect.stringMatching(/^urn:authnz-express:problem:/), code: expect.any(String) });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      // Nothing of the token is echoed back.
      expect(res.text).not.toContain(vs.slice(0, 20));
    },
  );
});
