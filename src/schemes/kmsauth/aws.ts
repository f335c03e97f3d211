/**
 * Adapter from `@aws-sdk/client-kms`'s `KMSClient` to {@link KmsClientLike}, with a per-call
 * deadline. Exported from `authnz-express/kms` only, so the main entry never loads the AWS SDK.
 */
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { startDeadline, type Deadline } from '../../lib/deadline.js';
import { KmsUnavailableError, isKmsUnavailableError } from './errors.js';
import type { KmsClientLike } from './kms-client.js';

/** Options of {@link kmsClientFromSdk}. */
export interface SdkKmsAdapterOptions {
  /** Deadline per KMS call, retries included (default 1500 ms); past it the call fails as unavailable (503). */
  readonly timeoutMs?: number;
}

// Service errors carry `$fault`; throttling and 5xx mean "could not answer now", as do transport
// errors, which carry no `$fault` at all (decision D12).
const UNAVAILABLE_NAMES = new Set([
  'ThrottlingException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'TimeoutError',
  'AbortError',
  'RequestTimeout',
]);

function classify(error: unknown): unknown {
  const e = error as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } } | null;
  if (e === null || typeof e !== 'object') return new KmsUnavailableError('KMS call failed', { cause: error });
  const status = e.$metadata?.httpStatusCode;
  if (
    e.$fault === undefined ||
    e.$fault === 'server' ||
    (status !== undefined && status >= 500) ||
    (e.name !== undefined && UNAVAILABLE_NAMES.has(e.name))
  ) {
    return new KmsUnavailableError(`KMS unavailable: ${e.name ?? 'error'}`, { cause: error });
  }
  return error;
}

/** Wraps a `KMSClient`; each call is aborted after `timeoutMs` and reported as {@link KmsUnavailableError}. */
export function kmsClientFromSdk(client: KMSClient, options: SdkKmsAdapterOptions = {}): KmsClientLike {
  const timeoutMs = options.timeoutMs ?? 1500;
  const call = async <T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    let timer: Deadline | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = startDeadline(
        timeoutMs,
        () => {
          controller.abort();
          reject(new KmsUnavailableError(`KMS did not answer within ${timeoutMs} ms`));
        },
        { unref: true },
      );
    });
    try {
      return await Promise.race([run(controller.signal), deadline]);
    } catch (error) {
      throw isKmsUnavailableError(error) ? error : classify(error);
    } finally {
      timer?.clear();
    }
  };
  return {
    encrypt: (input) =>
      call((abortSignal) =>
        client.send(new EncryptCommand({ ...input, EncryptionContext: { ...input.EncryptionContext } }), { abortSignal }),
      ),
    decrypt: (input) =>
      call((abortSignal) =>
        client.send(new DecryptCommand({ ...input, EncryptionContext: { ...input.EncryptionContext } }), { abortSignal }),
      ),
    describeKey: (input) => call((abortSignal) => client.send(new DescribeKeyCommand(input), { abortSignal })),
  };
}

/** Options of {@link createKmsClient}. */
export interface CreateKmsClientOptions extends SdkKmsAdapterOptions {
  /** AWS region (default `AWS_REGION`, else `us-east-1`). */
  readonly region?: string;
  /** Endpoint URL, e.g. the local KMS's `http://127.0.0.1:<port>`. */
  readonly endpoint?: string;
  /** Static credentials; default: the SDK's provider chain. `sessionToken` is optional (D16). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Further `KMSClient` configuration. */
  readonly sdkConfig?: KMSClientConfig;
}

/** Builds a `KMSClient` and adapts it; `destroy()` releases its sockets. */
export function createKmsClient(options: CreateKmsClientOptions = {}): KmsClientLike & { readonly sdk: KMSClient; destroy(): void } {
  const sdk = new KMSClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 2,
    ...options.sdkConfig,
  });
  return { ...kmsClientFromSdk(sdk, options), sdk, destroy: () => sdk.destroy() };
}
