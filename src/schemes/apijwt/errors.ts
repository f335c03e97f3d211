/** Typed errors of the APIJwt issuer (the original returned None or raised KeyError/TypeError). */
import { AuthnzError } from '../../errors.js';
import { brandedGuard } from '../../lib/brand.js';

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
export class ApiJwtIssueError extends AuthnzError<ApiJwtIssueErrorCode> {
  /** The extra (or `keyName`, `subject`, `lifetimeSeconds`) the error is about. */
  readonly field: string;
  constructor(code: ApiJwtIssueErrorCode, field: string, message: string) {
    super(code, message);
    this.field = field;
  }
}

/** True for an {@link ApiJwtIssueError} from any copy of the library (brand, not `instanceof`). */
export const isApiJwtIssueError = brandedGuard(ApiJwtIssueError, 'ApiJwtIssueError');
