/**
 * Outgoing HTTPS with a client certificate (mutual TLS): a `fetch`-compatible function over one
 * `https.Agent` that presents the certificate on every connection, for token requests with
 * `tls_client_auth` / `self_signed_tls_client_auth` (RFC 8705 §2) and for calls to APIs that accept
 * certificate-bound tokens (RFC 8705 §3).
 */
import { X509Certificate } from 'node:crypto';
import { certificateThumbprint } from '../../lib/client-certificate.js';
import { Agent, request } from 'node:https';
import { Readable } from 'node:stream';
import { createSecureContext } from 'node:tls';
import { describeValue, optionError, optionErrorWithCause, optionNames, optionsObject } from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';

/** The client certificate an outgoing connection presents, in Node's TLS option names. */
export interface ClientTlsOptions {
  /** The client certificate, PEM (optionally followed by its intermediates). */
  readonly cert: string | Buffer;
  /** Its private key, PEM. */
  readonly key: string | Buffer;
  /** The CA certificates that sign the server's certificate, PEM (default: Node's root store). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Passphrase of an encrypted `key`. */
  readonly passphrase?: string;
}

/** A `fetch` that presents a client certificate; see {@link createMtlsFetch}. */
export interface MtlsFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** The `https.Agent` holding the certificate, for clients that take an agent (`https.request`, axios). */
  readonly agent: Agent;
  /** RFC 8705 §3.1 `x5t#S256` of the certificate: base64url SHA-256 of its DER, as in a bound token's `cnf`. */
  readonly thumbprint: string;
}

const KNOWN = optionNames<ClientTlsOptions>()({ cert: 1, key: 1, ca: 1, passphrase: 1 });

const isPem = (value: unknown): value is string | Buffer => (typeof value === 'string' && value !== '') || Buffer.isBuffer(value);

/**
 * Checks a {@link ClientTlsOptions} (the certificate parses and matches its key) and returns the
 * certificate's `x5t#S256` thumbprint.
 * @throws TypeError `<where>: "<prefix>cert" must be …` and so on.
 */
export function checkClientTls(value: unknown, where: string, prefix = '', observable: ObservableOptions = {}): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw optionError(where, prefix === '' ? 'options' : prefix.slice(0, -1), 'an object { cert, key, ca? }', describeValue(value));
  const tls = value as Partial<ClientTlsOptions>;
  new Warnings(where, observable).unknownOptions(tls, KNOWN, {}, prefix);
  if (!isPem(tls.cert)) throw optionError(where, `${prefix}cert`, 'a PEM certificate (string or Buffer)', describeValue(tls.cert));
  if (!isPem(tls.key)) throw optionError(where, `${prefix}key`, 'a PEM private key (string or Buffer)');
  const ca = tls.ca;
  if (ca !== undefined && !isPem(ca) && !(Array.isArray(ca) && ca.length > 0 && ca.every(isPem)))
    throw optionError(where, `${prefix}ca`, 'PEM CA certificates (a string, a Buffer or a non-empty array of them)', describeValue(ca));
  if (tls.passphrase !== undefined && typeof tls.passphrase !== 'string') throw optionError(where, `${prefix}passphrase`, 'a string');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(tls.cert);
  } catch (cause) {
    throw optionErrorWithCause(where, `${prefix}cert`, 'a PEM certificate (string or Buffer)', cause);
  }
  try {
    // Throws for a key that does not parse or does not belong to the certificate.
    createSecureContext({ cert: tls.cert, key: tls.key, ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }) });
  } catch (cause) {
    throw optionErrorWithCause(where, `${prefix}key`, 'the private key of "cert" (the pair does not load)', cause);
  }
  return certificateThumbprint(certificate);
}

/** Request bodies this fetch sends: the ones a token or API request carries. */
function bodyOf(body: RequestInit['body'], where: string): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return body;
  throw new TypeError(`${where}: a request body must be a string, URLSearchParams or Uint8Array`);
}

/**
 * A `fetch`-compatible function whose connections present `tls.cert`. Only https URLs; redirects are
 * returned as they are, never followed (a redirect would carry the request and the certificate's
 * authority elsewhere).
 * @example
 * const mtls = createMtlsFetch({ cert: readFileSync('client.pem'), key: readFileSync('client-key.pem') });
 * const res = await mtls('https://api.example.com/orders', { headers: { authorization: `Bearer ${token}` } });
 * @throws TypeError `createMtlsFetch(): "<option>" must be …` for a missing or unusable certificate or key.
 */
export function createMtlsFetch(tls: ClientTlsOptions): MtlsFetch {
  const where = 'createMtlsFetch()';
  optionsObject(tls, where, false);
  const thumbprint = checkClientTls(tls, where);
  const agent = new Agent({
    keepAlive: true,
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca === undefined ? {} : { ca: tls.ca as string | Buffer | (string | Buffer)[] }),
    ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }),
  });
  const mtlsFetch = (input: string | URL | Request, given: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      if (input instanceof Request && input.body !== null) {
        reject(new TypeError(`${where}: give a request body in init, not in a Request`));
        return;
      }
      const init: RequestInit =
        input instanceof Request ? { method: input.method, headers: input.headers, signal: input.signal, ...given } : given;
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.protocol !== 'https:') {
        reject(new TypeError(`${where}: only https URLs (got ${url.protocol})`));
        return;
      }
      const body = bodyOf(init.body, where);
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => {
        headers[name] = value;
      });
      // A known length rather than chunked encoding, which some token endpoints and proxies refuse.
      if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const method = (init.method ?? 'GET').toUpperCase();
      const req = request(url, { method, headers, agent, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) answer.append(name, v);
        }
        const status = res.statusCode ?? 502;
        const empty = method === 'HEAD' || status === 204 || status === 304;
        if (empty) res.resume();
        resolve(
          new Response(empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), {
            status,
            statusText: res.statusMessage ?? '',
            headers: answer,
          }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  return Object.assign(mtlsFetch, { agent, thumbprint });
}
