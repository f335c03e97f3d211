/**
 * The checks of the `Authorization` header that `authenticate()` makes before any scheme runs: what
 * no single scheme can check on its own.
 */
import type { IncomingMessage } from 'node:http';
import { malformedRequest, type AuthError } from '../errors.js';
import { authorizationSyntaxError } from '../scheme.js';

function countAuthorizationHeaders(raw: readonly string[] | undefined): number {
  if (!raw) return 1;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name !== undefined && name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

/**
 * Checks what no single scheme can: one `Authorization` header, of bounded size, in valid syntax.
 * Node keeps only the first of repeated `Authorization` headers, so the raw list is consulted.
 */
export function checkAuthorizationHeader(req: IncomingMessage, maxBytes: number): AuthError | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  if (countAuthorizationHeaders(req.rawHeaders) > 1) {
    return malformedRequest('duplicate_authorization', 'Send exactly one Authorization header.');
  }
  if (header.length > maxBytes) {
    return malformedRequest('authorization_too_large', 'The Authorization header is too large.');
  }
  // The one rule of src/scheme.ts; each scheme then reads its own credential with readToken68().
  return authorizationSyntaxError(header);
}
