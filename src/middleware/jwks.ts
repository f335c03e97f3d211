/**
 * Publishes the service's own public keys as a JWK Set (RFC 7517), e.g. for `private_key_jwt`
 * clients or for peers verifying tokens this service signs. Only public members are ever written.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { importPublicKey, isKeyEntry, keyFamily, type PublicKeyInput } from '../keys/import.js';
import type { JwsAlgorithm } from '../jwt/compact.js';
import { ALGORITHMS_BY_FAMILY } from '../jwt/compact.js';
import { jwkThumbprint } from '../keys/thumbprint.js';
import type { Middleware } from '../http.js';
import { describeValue, numberOption, optionError, optionNames, optionsObject, patternOption } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';

/** One published key: the key, and optionally its `kid` and `alg`. */
export interface JwksKeyEntry {
  readonly key: PublicKeyInput;
  /** Defaults to the RFC 7638 thumbprint. */
  readonly kid?: string;
  /** Defaults to RS256 (RSA), ES256 (P-256) or EdDSA (Ed25519). */
  readonly alg?: JwsAlgorithm;
}

/** A public JWK as published. */
export interface PublishedJwk {
  readonly kty: string;
  readonly kid: string;
  readonly use: 'sig';
  readonly alg: JwsAlgorithm;
  readonly [member: string]: string;
}

/** Options for {@link publishJwks}. */
export interface PublishJwksOptions extends ObservableOptions {
  /** Keys to publish, current and next/retired ones alike (rotation publishes several at once). */
  readonly keys: ReadonlyArray<PublicKeyInput | JwksKeyEntry>;
  /** Path served (default `/.well-known/jwks.json`). */
  readonly path?: string;
  /** How long clients may cache the set: `Cache-Control: public, max-age=<N>` (default 300 seconds; an integer >= 0). */
  readonly cacheSeconds?: number;
}

const WHERE = 'publishJwks()';
const KNOWN = optionNames<PublishJwksOptions>()({ keys: 1, path: 1, cacheSeconds: 1, logger: 1, validate: 1 });

// The public members of each key type (the RFC 7638 §3.2 required members).
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
};

function publicMembers(key: KeyObject): Record<string, string> {
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
  const members = REQUIRED_MEMBERS[String(jwk['kty'])];
  if (!members) throw new Error(`cannot publish a ${String(jwk['kty'])} key`);
  const out: Record<string, string> = {};
  for (const m of members) out[m] = String(jwk[m]);
  return out;
}

/**
 * Builds `{ keys: [...] }` with public members only, `kid`, `use: "sig"` and `alg` on each key.
 * Private keys given here are reduced to their public half.
 * @throws KeyImportError for unreadable or unsupported keys; Error for an `alg` the key cannot use.
 */
export function buildJwks(keys: ReadonlyArray<PublicKeyInput | JwksKeyEntry>): { keys: PublishedJwk[] } {
  return {
    keys: keys.map((input) => {
      const entry: JwksKeyEntry = isKeyEntry<JwksKeyEntry>(input) ? input : { key: input };
      const key = importPublicKey(entry.key);
      const allowed = ALGORITHMS_BY_FAMILY[keyFamily(key)];
      const alg = entry.alg ?? (allowed[0] as JwsAlgorithm);
      if (!allowed.includes(alg)) throw new Error(`algorithm ${alg} does not fit a ${keyFamily(key)} key`);
      return { ...publicMembers(key), kid: entry.kid ?? jwkThumbprint(key), use: 'sig', alg } as PublishedJwk;
    }),
  };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * Connect/Express middleware serving the JWK Set at `path` (GET and HEAD) with `Cache-Control` and a
 * strong `ETag` (answering `If-None-Match` with 304); every other request goes to `next()`.
 * The body is computed once, so a bad key fails at start-up, not on the first request.
 *
 * @throws TypeError `publishJwks(): "<option>" must be …` for no keys, a path that does not start with `/` or a bad `cacheSeconds`.
 * @example app.use(publishJwks({ keys: [currentPublicPem, nextPublicPem], cacheSeconds: 600 }));
 */
export function publishJwks(input: PublishJwksOptions): Middleware {
  const options = optionsObject(input, WHERE, false);
  new Warnings(WHERE, options).unknownOptions(options, KNOWN);
  if (!Array.isArray(options.keys) || options.keys.length === 0)
    throw optionError(WHERE, 'keys', 'a non-empty array of keys', describeValue(options.keys));
  const path = patternOption(options.path, '/.well-known/jwks.json', /^\//, WHERE, 'path', 'a path starting with "/"');
  const maxAge = numberOption(options.cacheSeconds, 300, WHERE, 'cacheSeconds', { integer: true, min: 0 });
  const body = JSON.stringify(buildJwks(options.keys));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const reqPath = q === -1 ? url : url.slice(0, q);
    if (reqPath !== path || (req.method !== 'GET' && req.method !== 'HEAD')) {
      next();
      return;
    }
    res.setHeader('Cache-Control', `public, max-age=${maxAge}`);
    res.setHeader('ETag', etag);
    if (etagMatches(req.headers['if-none-match'], etag)) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
