/** Typed errors of the outbound OAuth client (token requests, discovery). */
import { brand, brandKey, hasBrand } from '../../lib/brand.js';

/** Stable codes of {@link OAuthClientError}. */
export type OAuthClientErrorCode =
  /** Options are missing or contradictory. */
  | 'configuration'
  /** The server did not answer, timed out, answered 5xx or with something that is not JSON. */
  | 'unavailable'
  /** The server answered with an RFC 6749 §5.2 error (`error`, `error_description`). */
  | 'oauth_error'
  /** The server answered 2xx but the body lacks required members. */
  | 'invalid_response';

/** An outbound OAuth request failed. Never carries secrets, assertions or tokens. */
export class OAuthClientError extends Error {
  /** Stable code. */
  readonly code: OAuthClientErrorCode;
  /** HTTP status of the server's answer, when there was one. */
  readonly status: number | undefined;
  /** RFC 6749 `error`, when the server sent one (e.g. `invalid_client`, `invalid_grant`). */
  readonly error: string | undefined;
  /** RFC 6749 `error_description`, when the server sent one. */
  readonly errorDescription: string | undefined;

  constructor(code: OAuthClientErrorCode, message: string, extra: { status?: number; error?: string; errorDescription?: string; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'OAuthClientError';
    this.code = code;
    this.status = extra.status;
    this.error = extra.error;
    this.errorDescription = extra.errorDescription;
  }
}

const OAUTH_CLIENT_ERROR = brandKey('OAuthClientError');
brand(OAuthClientError, OAUTH_CLIENT_ERROR);

/** True for an {@link OAuthClientError} from any copy of the library (brand, not `instanceof`). */
export function isOAuthClientError(value: unknown): value is OAuthClientError {
  return hasBrand(value, OAUTH_CLIENT_ERROR);
}
