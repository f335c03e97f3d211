/**
 * python-kmsauth's four exception classes, with the original messages, plus the one signal a
 * {@link KmsClientLike} uses to say "KMS could not answer" (so the core never imports the AWS SDK).
 */

import { brand, brandKey, hasBrand } from '../../lib/brand.js';

/** A token failed validation. `message` is python-kmsauth's message verbatim; `reason` is a stable sub-code. */
export class TokenValidationError extends Error {
  /** Stable sub-code naming the failed check (e.g. `wrong_key`, `expired`, `lifetime`). */
  readonly reason: string;
  constructor(message: string, reason: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenValidationError';
    this.reason = reason;
  }
}

/** A generator or validator was constructed with invalid parameters (python-kmsauth's messages). */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** The generator could not get a token from KMS for a reason other than connectivity. */
export class TokenGenerationError extends Error {
  constructor(message = 'KMS refused to generate the token.', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenGenerationError';
  }
}

/** The generator could not reach KMS (transport failure, timeout, throttling, 5xx). */
export class ServiceConnectionError extends Error {
  constructor(message = 'KMS could not be reached.', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceConnectionError';
  }
}

/**
 * Thrown by {@link KmsClientLike} implementations when KMS could not answer: transport failure,
 * timeout, throttling or a server-side (5xx) error. Every other error means "KMS answered no".
 */
export class KmsUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KmsUnavailableError';
  }
}

const TOKEN_VALIDATION_ERROR = brandKey('TokenValidationError');
const KMS_UNAVAILABLE_ERROR = brandKey('KmsUnavailableError');
brand(TokenValidationError, TOKEN_VALIDATION_ERROR);
brand(KmsUnavailableError, KMS_UNAVAILABLE_ERROR);

/** True for a {@link TokenValidationError} from any copy of the library (brand, not `instanceof`). */
export function isTokenValidationError(value: unknown): value is TokenValidationError {
  return hasBrand(value, TOKEN_VALIDATION_ERROR);
}

/**
 * True for a {@link KmsUnavailableError} from any copy of the library (brand, not `instanceof`): a
 * {@link KmsClientLike} built against one copy and a validator from another still agree that KMS
 * could not answer.
 */
export function isKmsUnavailableError(value: unknown): value is KmsUnavailableError {
  return hasBrand(value, KMS_UNAVAILABLE_ERROR);
}

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
