/**
 * The request body for the Content-Digest check, in either order with a body parser:
 *
 * - after one: `express.json({ verify: captureRawBody })` keeps the exact bytes it read;
 * - before one: the body is read here as it streams (hashed chunk by chunk, at most
 *   `maxBodyBytes`), and the bytes are put back in front of the stream before its `end`, so a
 *   body parser after the scheme reads them as if nothing had.
 */
import { malformedRequest, misconfigured } from '../../errors.js';
import type { ContentDigestCheck } from './digest.js';

const captured = new WeakMap<object, Buffer>();

/**
 * A body parser `verify` hook that keeps the raw bytes for the Content-Digest check, for a
 * signature scheme that runs after the body parser.
 * @example app.use(express.json({ verify: captureRawBody }));
 */
export function captureRawBody(req: object, _res: unknown, buf: Buffer): void {
  captured.set(req, buf);
}

/** The bytes {@link captureRawBody} kept for `req`, if any. */
export function capturedRawBody(req: object): Buffer | undefined {
  return captured.get(req);
}

/** The parts of a Node request read here. */
export interface BodyStream {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly complete?: boolean;
  readonly readableEnded?: boolean;
  read?(): unknown;
  unshift?(chunk: Buffer): void;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Feeds the request body to `check`: the bytes a body parser captured, or the stream itself,
 * which is then left readable with the same bytes. Resolves when the whole body was hashed (the
 * caller then calls `check.finish()`).
 * @throws AuthError 400 `body_too_large` past the cap (announced or counted); 500 `body_unavailable`
 *   when a body parser already read the body without {@link captureRawBody}; 400 `body_unavailable`
 *   when the client went away before the end of the body.
 */
export async function feedRequestBody(req: BodyStream, check: ContentDigestCheck, maxBodyBytes: number): Promise<void> {
  const raw = captured.get(req);
  if (raw !== undefined) {
    check.update(raw);
    return;
  }
  const length = req.headers['content-length'];
  if (typeof length === 'string' && /^\d+$/.test(length) && Number(length) > maxBodyBytes)
    throw malformedRequest('body_too_large', 'The request body is larger than this service checks.');
  const { read, unshift, on, removeListener } = req;
  if (read === undefined || unshift === undefined || on === undefined || removeListener === undefined || req.readableEnded === true)
    throw misconfigured(
      'body_unavailable',
      new Error(
        'the request body was read before the signature scheme: give the body parser { verify: captureRawBody } or run the scheme first',
      ),
    );
  await new Promise<void>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const done = (error?: unknown): void => {
      removeListener.call(req, 'readable', onReadable);
      removeListener.call(req, 'close', onClose);
      removeListener.call(req, 'error', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onClose = (): void => done(malformedRequest('body_unavailable', 'The request body ended early.'));
    function onReadable(): void {
      let chunk: unknown;
      while ((chunk = read?.call(req)) !== null && chunk !== undefined) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
        try {
          check.update(bytes);
        } catch (thrown) {
          done(thrown);
          return;
        }
        chunks.push(bytes);
      }
      // `complete` is set once the last byte was pushed; the buffer is empty here, so this was all
      // of it. Putting it back before `end` is emitted keeps the stream readable for a body parser.
      if (req.complete === true) {
        if (chunks.length > 0) unshift?.call(req, Buffer.concat(chunks));
        done();
      }
    }
    on.call(req, 'readable', onReadable);
    on.call(req, 'close', onClose);
    on.call(req, 'error', onClose);
  });
}
