/** Typed errors of the APIJwt issuer (the original returned None or raised KeyError/TypeError). */

/** Stable codes for issuing failures. */
export type ApiJwtIssueErrorCode =
  | 'unknown_key'
  | 'subject_missing'
  | 'extra_not_registered'
  | 'value_not_allowed'
  | 'key_not_in_per_key'
  | 'type_mismatch'
  | 'invalid_lifetime';

/** Thrown by {@link ApiJwtIssuer.issue} for a value that is not allowed. */
export class ApiJwtIssueError extends Error {
  readonly code: ApiJwtIssueErrorCode;
  /** The extra (or `key`, `subject`, `exp`) the error is about. */
  readonly field: string;
  constructor(code: ApiJwtIssueErrorCode, field: string, message: string) {
    super(message);
    this.name = 'ApiJwtIssueError';
    this.code = code;
    this.field = field;
  }
}
