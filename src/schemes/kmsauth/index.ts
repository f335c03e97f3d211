/** The kmsauth scheme's framework-free, SDK-free core. */
export { KmsTokenValidator } from './validator.js';
export type { KmsTokenValidatorOptions, KmsTokenValidation, KmsauthStats, DecryptTokenContext } from './validator.js';
export { KmsTokenGenerator } from './generator.js';
export type { KmsTokenGeneratorOptions } from './generator.js';
export {
  KmsauthValidationError,
  KmsauthContextError,
  KmsauthGenerationError,
  KmsauthConnectionError,
  KmsUnavailableError,
  isKmsauthValidationError,
  isKmsauthContextError,
  isKmsauthGenerationError,
  isKmsauthConnectionError,
  isKmsUnavailableError,
  MESSAGES as KMSAUTH_MESSAGES,
} from './errors.js';
export type { KmsauthValidationCode } from './errors.js';
export type { KmsClientLike, EncryptionContext } from './kms-client.js';
export { parseUsername, formatUsername, formatTime, parseTime, formatPlaintext, TOKEN_SKEW_MINUTES } from './token.js';
export type { KmsauthUsername } from './token.js';
