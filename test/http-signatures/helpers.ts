/**
 * Shared pieces of the HTTP signature suites: test keys, a signer for requests to the test origin,
 * and an Express app with one signed route that answers with the principal.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import {
  authenticate,
  httpMessage,
  httpSignatureScheme,
  signMessage,
  type HttpSignatureSchemeOptions,
  type SignParameters,
} from '../../src/index.js';
import type { HttpSignatureAlgorithm } from '../../src/protocols/http-signatures/structured.js';

/** The origin the test apps serve (requests carry `Host: api.example.com`). */
export const HOST = 'api.example.com';
export const ORIGIN = `http://${HOST}`;

export const ed = generateKeyPairSync('ed25519');
export const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
export const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const secret = randomBytes(32);

/** The static keys of the test apps. */
export const PUBLIC_KEYS: NonNullable<HttpSignatureSchemeOptions['publicKeys']> = {
  'ed-1': { key: ed.publicKey, subject: 'billing-service', scopes: ['orders:read'] },
  'p256-1': { key: p256.publicKey, subject: 'p256-service' },
  'p384-1': { key: p384.publicKey, subject: 'p384-service' },
  'rsa-pss-1': { key: rsa.publicKey, algorithm: 'rsa-pss-sha512', subject: 'rsa-service' },
};

/** A request to sign. */
export interface Outgoing {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** How to sign it. */
export interface Signing {
  readonly components?: readonly string[];
  readonly key?: KeyObject | Uint8Array;
  readonly keyId?: string;
  readonly algorithm?: HttpSignatureAlgorithm;
  readonly params?: SignParameters;
  readonly label?: string;
}

/** The headers of a request signed for the test origin (Host included). */
export function signedHeaders(outgoing: Outgoing = {}, signing: Signing = {}): Record<string, string> {
  const headers = { host: HOST, ...(outgoing.headers ?? {}) };
  const { signatureInput, signature } = signMessage({
    message: httpMessage({ method: outgoing.method ?? 'GET', url: `${ORIGIN}${outgoing.path ?? '/r'}`, headers }),
    components: signing.components ?? ['@method', '@authority', '@target-uri'],
    key: {
      key: signing.key ?? ed.privateKey,
      // An explicit `keyId: undefined` leaves the parameter out.
      ...('keyId' in signing ? (signing.keyId === undefined ? {} : { keyId: signing.keyId }) : { keyId: 'ed-1' }),
      ...(signing.algorithm === undefined ? {} : { algorithm: signing.algorithm }),
    },
    params: signing.params ?? {},
    ...(signing.label === undefined ? {} : { label: signing.label }),
  });
  return { ...headers, 'signature-input': signatureInput, signature };
}

/** The handler of the signed routes: the principal as JSON, and the parsed body when there is one. */
export const echo: RequestHandler = (req, res) => {
  res.json({ principal: req.principal, body: (req as { body?: unknown }).body ?? null });
};

/** An Express app with `GET /r` and `POST /r` behind the scheme (and `before`/`after` middleware around it). */
export function signedApp(
  options: Partial<HttpSignatureSchemeOptions> = {},
  around: { before?: RequestHandler[]; after?: RequestHandler[] } = {},
): Express {
  const app = express();
  const auth = authenticate([httpSignatureScheme({ origins: [ORIGIN], publicKeys: PUBLIC_KEYS, ...options })]);
  app.all('/r', ...(around.before ?? []), auth, ...(around.after ?? []), echo);
  return app;
}
