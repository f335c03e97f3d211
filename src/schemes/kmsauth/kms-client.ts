/**
 * The three KMS operations kmsauth needs, as a structural interface. `@aws-sdk/client-kms`'s
 * `KMSClient` is adapted to it in `aws.ts` (exported from `authnz-express/kms` only), tests use
 * in-memory doubles, and the core never imports the SDK.
 */

/** An encryption context: string keys to string values, bound to the ciphertext by KMS. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** The subset of AWS KMS that kmsauth uses. Throw {@link KmsUnavailableError} when KMS could not answer. */
export interface KmsClientLike {
  /** KMS `Encrypt`. */
  encrypt(input: {
    KeyId: string;
    Plaintext: Uint8Array;
    EncryptionContext: EncryptionContext;
  }): Promise<{ CiphertextBlob?: Uint8Array | undefined }>;
  /** KMS `Decrypt` without `KeyId`, as python-kmsauth calls it; `KeyId` of the answer is the key ARN. */
  decrypt(input: {
    CiphertextBlob: Uint8Array;
    EncryptionContext: EncryptionContext;
  }): Promise<{ KeyId?: string | undefined; Plaintext?: Uint8Array | undefined }>;
  /** KMS `DescribeKey`; used to resolve configured aliases and key ids to key ARNs. */
  describeKey(input: { KeyId: string }): Promise<{ KeyMetadata?: { Arn?: string | undefined } | undefined }>;
}
