/**
 * `authnz-express/kms`: the kmsauth scheme's AWS KMS parts (client adapter, local KMS endpoint).
 * Separate so that `authnz-express` never loads the AWS SDK.
 */
export {};
export { kmsClientFromSdk, createKmsClient } from './schemes/kmsauth/aws.js';
export type { SdkKmsAdapterOptions, CreateKmsClientOptions } from './schemes/kmsauth/aws.js';
export { startLocalKms, canonicalContext } from './schemes/kmsauth/local-kms/server.js';
export type { LocalKms, LocalKmsOptions, LocalKmsOperation } from './schemes/kmsauth/local-kms/server.js';
