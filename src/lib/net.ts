/**
 * Transport rules shared by every outbound call the library makes (OAuth client, RemoteJwks,
 * authnzerver client): https only except on loopback, and answers read with a byte cap so that a
 * hostile or broken server cannot make us buffer megabytes per request.
 */
import { AuthnzError } from '../errors.js';
import { brandedGuard } from './brand.js';

/** True for `localhost`, `127.0.0.0/8` and `::1` (as URL hostnames: `[::1]`). */
export function isLoopbackHost(hostname: string): boolean {
  return /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i.test(hostname);
}

/** True when `url` is `https:`, or `http:` to a loopback host. Unparsable URLs are not secure. */
export function isSecureUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
}

/** The parts of a fetch `Response` that the library reads besides `status`: the body, up to a size cap, and the `Content-Length` header. */
export interface CappedReadable {
  readonly headers?: { get(name: string): string | null } | undefined;
  readonly body?: ReadableStream<Uint8Array> | null | undefined;
  text(): Promise<string>;
}

/** Thrown by {@link readCappedText} when the answer is larger than allowed. */
export class ResponseTooLargeError extends AuthnzError<'response_too_large'> {
  constructor(maxBytes: number) {
    super('response_too_large', `the answer is larger than ${maxBytes} bytes`);
  }
}

/** True for a {@link ResponseTooLargeError} from any copy of the library (brand, not `instanceof`). */
export const isResponseTooLargeError = brandedGuard(ResponseTooLargeError, 'ResponseTooLargeError');

/**
 * Reads a response body as UTF-8, refusing it (and cancelling the rest of the stream) as soon as it
 * passes `maxBytes`: a declared `Content-Length` over the cap is refused before reading anything.
 * @throws ResponseTooLargeError
 */
export async function readCappedText(response: CappedReadable, maxBytes: number): Promise<string> {
  const declared = Number(response.headers?.get('content-length') ?? Number.NaN);
  const body = response.body;
  if (declared > maxBytes) {
    await body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(maxBytes);
  }
  if (!body) {
    // An injected fetch without a stream: the whole text is already in memory; still refuse it.
    const text = await response.text();
    if (Buffer.byteLength(text) > maxBytes) throw new ResponseTooLargeError(maxBytes);
    return text;
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
