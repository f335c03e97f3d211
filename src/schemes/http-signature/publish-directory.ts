/**
 * Publishes this service's own HTTP Message Signatures key directory
 * (`/.well-known/http-message-signatures-directory`), as a Web Bot Auth agent or any signer whose
 * verifiers look keys up by `Signature-Agent`: the public JWKs with `kid` = RFC 7638 thumbprint,
 * served as `application/http-message-signatures-directory+json` with `Cache-Control`, a
 * `Content-Digest`, and one signature per key over `"@authority";req` and `content-digest` with
 * `tag="http-message-signatures-directory"`, which proves that the holders of the keys serve
 * them under this authority.
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from '../../http.js';
import { jwkThumbprint } from '../../keys/thumbprint.js';
import { functionOption, listOption, numberOption, optionError, optionsObject } from '../../lib/options.js';
import { contentDigest } from '../../protocols/http-signatures/digest.js';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, DIRECTORY_TAG, directoryOrigin } from '../../protocols/http-signatures/directory.js';
import { httpMessage } from '../../protocols/http-signatures/message.js';
import { signMessage } from '../../protocols/http-signatures/sign.js';
import type { HttpSignatureAlgorithm } from '../../protocols/http-signatures/structured.js';

/** One key of the directory: a private key (it signs the directory's answer) and, for RSA, its algorithm. */
export interface DirectorySigningKey {
  readonly key: KeyObject;
  /** Needed for RSA keys (`rsa-pss-sha512` or `rsa-v1_5-sha256`); written as the JWK's `alg` when given. */
  readonly algorithm?: HttpSignatureAlgorithm;
}

/** Options of {@link publishKeyDirectory}. */
export interface PublishKeyDirectoryOptions {
  /** The private keys whose public halves are published; each signs the answer. */
  readonly keys: ReadonlyArray<KeyObject | DirectorySigningKey>;
  /**
   * The origins this directory is served under (`https://bot.example`): the signatures cover the
   * authority, so a request naming another `Host` is answered 421 instead of signing for any name it sends.
   */
  readonly origins: readonly string[];
  /** `Cache-Control: max-age`, and how long each signature of the answer stays valid, in seconds (default 3600). */
  readonly cacheSeconds?: number;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

const WHERE = 'publishKeyDirectory()';

/**
 * Connect/Express middleware serving the key directory (GET and HEAD); every other request goes to `next()`.
 * @throws TypeError for no keys, a key that cannot sign, or an origin that is not an https origin.
 * @example app.use(publishKeyDirectory({ keys: [privateKey], origins: ['https://bot.example'] }));
 */
export function publishKeyDirectory(input: PublishKeyDirectoryOptions): Middleware {
  const options = optionsObject(input, WHERE, false);
  const keys = listOption(
    options.keys,
    (v): v is KeyObject | DirectorySigningKey =>
      v instanceof KeyObject
        ? v.type === 'private'
        : typeof v === 'object' &&
          v !== null &&
          (v as { key?: unknown }).key instanceof KeyObject &&
          (v as DirectorySigningKey).key.type === 'private',
    WHERE,
    'keys',
    'a non-empty list of private keys',
  ).map((entry): DirectorySigningKey => (entry instanceof KeyObject ? { key: entry } : entry));
  const origins = new Set(
    listOption(
      options.origins,
      (v): v is string => typeof v === 'string' && directoryOrigin(v) !== undefined,
      WHERE,
      'origins',
      'a list of https origins',
    ).map((o) => directoryOrigin(o) as string),
  );
  const maxAge = numberOption(options.cacheSeconds, 3600, WHERE, 'cacheSeconds', { integer: true, min: 1 });
  const clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
  const signers = keys.map(({ key, algorithm }) => {
    const publicKey = createPublicKey(key);
    const thumbprint = jwkThumbprint(publicKey);
    const jwk = publicKey.export({ format: 'jwk' });
    if (key.asymmetricKeyType === 'rsa' && algorithm === undefined) throw optionError(WHERE, 'keys[].algorithm', 'given for an RSA key');
    return {
      key,
      algorithm,
      thumbprint,
      jwk: { ...jwk, kid: thumbprint, use: 'sig', ...(algorithm === undefined ? {} : { alg: algorithm }) },
    };
  });
  const body = JSON.stringify({ keys: signers.map((s) => s.jwk) });
  const digest = contentDigest(body);

  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if ((q === -1 ? url : url.slice(0, q)) !== DIRECTORY_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      next();
      return;
    }
    const origin = `https://${(req.headers.host ?? '').toLowerCase()}`;
    if (!origins.has(directoryOrigin(origin) ?? '')) {
      res.statusCode = 421;
      res.end();
      return;
    }
    const request = httpMessage({ method: 'GET', url: `${origin}${DIRECTORY_PATH}`, headers: { host: req.headers.host ?? '' } });
    const response = httpMessage({ status: 200, headers: { 'content-digest': digest }, request });
    const created = Math.floor(clock() / 1000);
    const inputs: string[] = [];
    const signatures: string[] = [];
    signers.forEach((signer, i) => {
      const signed = signMessage({
        message: response,
        components: ['"@authority";req', 'content-digest'],
        key: { key: signer.key, keyId: signer.thumbprint, ...(signer.algorithm === undefined ? {} : { algorithm: signer.algorithm }) },
        label: `binding${i}`,
        params: { created, expires: created + maxAge, tag: DIRECTORY_TAG },
        clock,
      });
      inputs.push(signed.signatureInput);
      signatures.push(signed.signature);
    });
    res.statusCode = 200;
    res.setHeader('Content-Type', DIRECTORY_MEDIA_TYPE);
    res.setHeader('Cache-Control', `public, max-age=${maxAge}`);
    res.setHeader('Content-Digest', digest);
    res.setHeader('Signature-Input', inputs.join(', '));
    res.setHeader('Signature', signatures.join(', '));
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
