/** API keys: format, hashing, IP binding and the key manager. */
export { parseApiKey, generateApiKey, hashApiKey, digestsEqual, isValidPrefix, SECRET_BYTES } from './format.js';
export type { ParsedApiKey } from './format.js';
export { cidrMatcher, validateCidrs } from './cidr.js';
export { ApiKeyManager } from './manager.js';
export type { ApiKeyManagerOptions, IssueApiKeyOptions, IssuedApiKey, VerifiedApiKey, VerifyContext } from './manager.js';
