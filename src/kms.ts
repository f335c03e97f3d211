/**
 * `authnz-express/kms`: the kmsauth scheme's AWS KMS parts (client adapter, local KMS endpoint).
 * Separate so that `authnz-express` never loads the AWS SDK.
 */
export {};
