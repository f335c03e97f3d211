/**
 * Property-based checks: arbitrary bytes in the Authorization header never produce a 500 or a
 * principal (sent over a raw socket, so the bytes reach the server as they are), and every token
 * our issuer makes verifies back to the same claims.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import express from 'express';
import fc from 'fast-check';
import '../helpers/fast-check-seed.js';
import { ApiJwtIssuer, ApiJwtVerifier, apiJwtScheme, authenticate } from '../../src/index.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/apijwt/${name}`, import.meta.url), 'utf8');
const PRIVATE = fixture('rsa_private.pem');
const PUBLIC = fixture('rsa_public.pem');

let server: Server;
let port: number;

beforeAll(async () => {
  const app = express();
  app.get('/who', authenticate([apiJwtScheme({ publicKeys: [PUBLIC] })]), (req, res) => {
    res.json({ subject: req.principal?.subject });
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function rawRequest(headerValue: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
      resolve(m ? Number(m[1]) : 0);
    });
    socket.end(
      Buffer.concat([
        Buffer.from('GET /who HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: '),
        headerValue,
        Buffer.from('\r\nConnection: close\r\n\r\n'),
      ]),
    );
  });
}

const noLineBreaks = (bytes: Uint8Array): Buffer => Buffer.from(bytes.filter((b) => b !== 0x0d && b !== 0x0a));

describe('properties', () => {
  it('random bytes in Authorization never yield a 500 or a principal', async () => {
    const bytes = fc.uint8Array({ minLength: 0, maxLength: 300 }).map(noLineBreaks);
    const bearerish = fc
      .tuple(fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', 'Bearer\t', ''), fc.uint8Array({ maxLength: 400 }).map(noLineBreaks))
      .map(([p, b]) => Buffer.concat([Buffer.from(p), b]));
    const jwtish = fc
      .tuple(fc.base64String(), fc.base64String(), fc.base64String())
      .map(([a, b, c]) => Buffer.from(`Bearer ${a}.${b}.${c}`.replace(/=/g, '')));
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytes, bearerish, jwtish), async (value) => {
        const status = await rawRequest(value);
        return status >= 400 && status < 500;
      }),
      { numRuns: 150 },
    );
  });

  it('every token the issuer makes verifies back to its claims', () => {
    // Issuer and verifier share the model (here: no allow-lists), as the verifier enforces it.
    const model = { allowed: { level: null, dnt: null, scopes: null } };
    const issuer = new ApiJwtIssuer({ ...model, privateKey: PRIVATE });
    const verifier = new ApiJwtVerifier({ ...model, publicKeys: [PUBLIC] });
    const scope = fc.stringMatching(/^[a-z][a-z:._-]{0,15}$/);
    return fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(scope, { maxLength: 5 }),
        fc.string({ maxLength: 20 }),
        async (subject, level, dnt, scopes, factor) => {
          const { token } = issuer.issue({ subject, extras: { level, dnt, scopes, factor } });
          const result = await verifier.verify(token);
          if (!result.valid) return false;
          const c = result.claims;
          return (
            c.id === subject &&
            c.level === level &&
            (c.dnt ?? 0) === dnt &&
            JSON.stringify(c.scopes ?? []) === JSON.stringify(scopes.length === 0 ? [] : scopes) &&
            c.factor === factor
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
