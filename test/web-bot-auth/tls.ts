/**
 * Helpers of the Web Bot Auth suites: a test CA and a server certificate made with openssl (real
 * https servers on loopback that the directory fetcher trusts only through its `extraCa` option), a
 * directory served as cloudflare's `web-bot-auth` serves it, and the refusal a lookup rejects with.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonWebKey } from 'node:crypto';
import { directoryResponseHeaders } from 'web-bot-auth';
import { signerFromJWK } from 'web-bot-auth/crypto';
import { isAuthError, type AuthError } from '../../src/errors.js';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH } from '../../src/protocols/http-signatures/directory.js';

/** PEM material of the test CA and of a server certificate for the names below. */
export interface TestPki {
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
}

/** Names the server certificate is valid for. */
export const SERVER_NAMES = ['dir.test', 'agent.test', 'other.test', 'private.test', 'crawler.example', 'localhost'] as const;

let made: TestPki | undefined;

/** Makes (once per process) a CA and a server certificate for {@link SERVER_NAMES}, 127.0.0.1 and ::1. */
export function testPki(): TestPki {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), 'wba-pki-'));
  try {
    const run = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    };
    run(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=authnz-express test CA',
    );
    run(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=dir.test',
    );
    const names = [...SERVER_NAMES.map((n) => `DNS:${n}`), 'IP:127.0.0.1', 'IP:::1'].join(',');
    writeFileSync(
      join(dir, 'ext.cnf'),
      `subjectAltName=${names}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    );
    made = {
      caCert: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      serverKey: readFileSync(join(dir, 'server.key'), 'utf8'),
      serverCert: readFileSync(join(dir, 'server.pem'), 'utf8'),
    };
    return made;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A listening https server on 127.0.0.1 with the test certificate. */
export interface TlsServer {
  readonly server: Server;
  readonly port: number;
  /** Requests seen, in order (method and path). */
  readonly seen: string[];
  close(): Promise<void>;
}

/** Starts an https server on 127.0.0.1 (a free port) answering with `handler`. */
export async function listenTls(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TlsServer> {
  const pki = testPki();
  const seen: string[] = [];
  const server = createServer({ key: pki.serverKey, cert: pki.serverCert }, (req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A request handler serving an Ed25519 agent's key directory as cloudflare's `web-bot-auth` builds
 * it: their JWKS format (with `purpose`), signed with their `directoryResponseHeaders` for the Host asked.
 */
export async function cloudflareDirectory(privateJwk: JsonWebKey): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
  const signer = await signerFromJWK(privateJwk);
  const body = JSON.stringify({ keys: [{ kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x }], purpose: 'test crawler' });
  return (req, res) => {
    const now = new Date();
    void directoryResponseHeaders(
      {
        request: { method: 'GET', url: `https://${req.headers.host ?? ''}${DIRECTORY_PATH}`, headers: {} },
        response: { status: 200, headers: {} },
      },
      [signer],
      { created: now, expires: new Date(now.getTime() + 300_000) },
    ).then((headers) => {
      res.writeHead(200, { 'content-type': DIRECTORY_MEDIA_TYPE, 'cache-control': 'max-age=60', ...headers });
      res.end(body);
    });
  };
}

/** The AuthError a promise rejects with (fails the test when it resolves or rejects with something else). */
export async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAuthError(error)) throw new Error(`expected an AuthError, got ${String(error)}`);
  return error;
}
