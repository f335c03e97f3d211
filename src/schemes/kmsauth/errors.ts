/**
 * python-kmsauth's four exception classes, with the original messages (named with a `Kmsauth`
 * prefix: a configuration mistake is a `TypeError` elsewhere in this library), plus the one signal a
 * {@link KmsClientLike} uses to say "KMS could not answer" (so the core never imports the AWS SDK).
 */
import { AuthnzError } from '../../errors.js';
import { brandedGuard } from '../../lib/brand.js';

/** Why a kmsauth token was refused: the failed check, stable. */
export type KmsauthValidationCode =
  | 'username_format'
  | 'version'
  | 'token_not_string'
  | 'user_type'
  | 'token_encoding'
  | 'wrong_key'
  | 'decrypt'
  | 'kms_unavailable'
  | 'validity'
  | 'lifetime_too_long'
  | 'expired'
  | 'not_yet_valid';

/** A token failed validation (python-kmsauth's `TokenValidationError`). `message` is python-kmsauth's message verbatim. */
export class KmsauthValidationError extends AuthnzError<KmsauthValidationCode> {
  constructor(message: string, code: KmsauthValidationCode, options?: { readonly cause?: unknown }) {
    super(code, message, options);
  }
}

/** A generator or validator was given parameters python-kmsauth refuses (its `ConfigurationError`, its messages). */
export class KmsauthContextError extends AuthnzError<'context_invalid'> {
  constructor(message: string) {
    super('context_invalid', message);
  }
}

/** The generator could not get a token from KMS for a reason other than connectivity (python-kmsauth's `TokenGenerationError`). */
export class KmsauthGenerationError extends AuthnzError<'generation_failed'> {
  constructor(message = 'KMS refused to generate the token.', options?: { readonly cause?: unknown }) {
    super('generation_failed', message, options);
  }
}

/** The generator could not reach KMS: transport failure, timeout, throttling, 5xx (python-kmsauth's `ServiceConnectionError`). */
export class KmsauthConnectionError extends AuthnzError<'kms_unreachable'> {
  constructor(message = 'KMS could not be reached.', options?: { readonly cause?: unknown }) {
    super('kms_unreachable', message, options);
  }
}

/**
 * Thrown by {@link KmsClientLike} implementations when KMS could not answer: transport failure,
 * timeout, throttling or a server-side (5xx) error. Every other error means "KMS answered no".
 */
export class KmsUnavailableError extends AuthnzError<'kms_unavailable'> {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('kms_unavailable', message, options);
  }
}

/** True for a {@link KmsauthValidationError} from any copy of the library (brand, not `instanceof`). */
export const isKmsauthValidationError = brandedGuard(KmsauthValidationError, 'KmsauthValidationError');
/** True for a {@link KmsauthContextError} from any copy of the library. */
export const isKmsauthContextError = brandedGuard(KmsauthContextError, 'KmsauthContextError');
/** True for a {@link KmsauthGenerationError} from any copy of the library. */
export const isKmsauthGenerationError = brandedGuard(KmsauthGenerationError, 'KmsauthGenerationError');
/** True for a {@link KmsauthConnectionError} from any copy of the library. */
export const isKmsauthConnectionError = brandedGuard(KmsauthConnectionError, 'KmsauthConnectionError');
/**
 * True for a {@link KmsUnavailableError} from any copy of the library (brand, not `instanceof`): a
 * {@link KmsClientLike} built against one copy and a validator from another still agree that KMS
 * could not answer.
 */
export const isKmsUnavailableError = brandedGuard(KmsUnavailableError, 'KmsUnavailableError');

/** The verbatim messages of python-kmsauth 0.6.3's `TokenValidationError`s. */
export const MESSAGES = Object.freeze({
  usernameFormat: 'Unsupported username format.',
  version: 'Unacceptable token version.',
  generic: 'Authentication error.',
  wrongKey: 'Authentication error (wrong KMS key).',
  userType: 'Authentication error. Unsupported user_type.',
  connection: 'Authentication error. Failure connecting to AWS endpoint.',
  general: 'Authentication error. General error.',
  validity: 'Authentication error. Missing validity.',
  lifetime: 'Authentication error. Token lifetime exceeded.',
  window: 'Authentication error. Invalid time validity for token.',
});
