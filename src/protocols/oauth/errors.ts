/** Typed errors of the outbound OAuth client (token requests, discovery). */
import { AuthnzError } from '../../errors.js';
import { brandedGuard } from '../../lib/brand.js';

/** Stable codes of {@link OAuthClientError}. */
export type OAuthClientErrorCode =
  /**
   * The configuration contradicts what the server says (a discovery document naming another
   * issuer), or a call lacks what it needs (a jwt-bearer grant without `assertionKey` or `sub`).
   */
  | 'configuration'
  /** The server did not answer, timed out, answered 5xx or with something that is not JSON. */
  | 'unavailable'
  /** The server answered with an RFC 6749 §5.2 error (`error`, `error_description`). */
  | 'oauth_error'
  /** The server answered 2xx but the body lacks required members. */
  | 'invalid_response';

/** An outbound OAuth request failed. Never carries secrets, assertions or tokens. */
export class OAuthClientError extends AuthnzError<OAuthClientErrorCode> {
  /** HTTP status of the server's answer, when there was one. */
  readonly status: number | undefined;
  /** RFC 6749 `error`, when the server sent one (e.g. `invalid_client`, `invalid_grant`). */
  readonly error: string | undefined;
  /** RFC 6749 `error_description`, when the server sent one. */
  readonly errorDescription: string | undefined;

  constructor(
    code: OAuthClientErrorCode,
    message: string,
    extra: { status?: number; error?: string; errorDescription?: string; cause?: unknown } = {},
  ) {
    super(code, message, extra);
    this.status = extra.status;
    this.error = extra.error;
    this.errorDescription = extra.errorDescription;
  }
}

/** True for an {@link OAuthClientError} from any copy of the library (brand, not `instanceof`). */
export const isOAuthClientError = brandedGuard(OAuthClientError, 'OAuthClientError');
