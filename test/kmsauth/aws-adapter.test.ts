/** Decision D12: which SDK failures count as "KMS unavailable" (503), and the local KMS's raw error answers. */
import type { KMSClient } from '@aws-sdk/client-kms';
import { KmsUnavailableError } from '../../src/index.js';
import { kmsClientFromSdk, startLocalKms } from '../../src/kms.js';

function failing(error: unknown, delayMs = 0): KMSClient {
  // Honours the abort signal as the SDK does, so no timer outlives the test.
  const send = (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
    new Promise((_, reject) => {
      const timer = setTimeout(() => reject(error), delayMs);
      options?.abortSignal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      });
    });
  return { send } as unknown as KMSClient;
}

describe('kmsClientFromSdk error classification', () => {
  const cases: Array<[string, unknown, boolean]> = [
    ['throttling', Object.assign(new Error('slow down'), { name: 'ThrottlingException', $fault: 'client' }), true],
    ['5xx', Object.assign(new Error('x'), { name: 'KMSInternalException', $fault: 'server', $metadata: { httpStatusCode: 500 } }), true],
    ['connection refused (no $fault)', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    [
      'not found',
      Object.assign(new Error('x'), { name: 'NotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      false,
    ],
    [
      'invalid ciphertext',
      Object.assign(new Error('x'), { name: 'InvalidCiphertextException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      false,
    ],
  ];
  it.each(cases)('%s', async (_label, error, unavailable) => {
    const rejection = kmsClientFromSdk(failing(error)).describeKey({ KeyId: 'alias/x' });
    if (unavailable) await expect(rejection).rejects.toBeInstanceOf(KmsUnavailableError);
    else await expect(rejection).rejects.toBe(error);
  });

  it('a call slower than timeoutMs is unavailable', async () => {
    const started = Date.now();
    await expect(kmsClientFromSdk(failing(new Error('late'), 1500), { timeoutMs: 100 }).describeKey({ KeyId: 'k' })).rejects.toBeInstanceOf(
      KmsUnavailableError,
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

it('local KMS answers protocol errors with KMS error names', async () => {
  const kms = await startLocalKms();
  const call = async (target: string | undefined, body: string) => {
    const res = await fetch(kms.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', ...(target ? { 'x-amz-target': target } : {}) },
      body,
    });
    return [res.status, ((await res.json()) as { __type: string }).__type];
  };
  try {
    expect(await call('TrentService.ScheduleKeyDeletion', '{}')).toEqual([400, 'UnknownOperationException']);
    expect(await call(undefined, '{}')).toEqual([400, 'UnknownOperationException']);
    expect(await call('TrentService.DescribeKey', '{not json')).toEqual([400, 'SerializationException']);
    expect(await call('TrentService.DescribeKey', '{}')).toEqual([400, 'ValidationException']);
    expect(await call('TrentService.CreateAlias', '{"AliasName":"alias/aws/x","TargetKeyId":"k"}')).toEqual([400, 'ValidationException']);
    expect(await call('TrentService.Decrypt', '{"CiphertextBlob":"AAAA"}')).toEqual([400, 'InvalidCiphertextException']);
    expect(await call('TrentService.Encrypt', '{"KeyId":"alias/none","Plaintext":"aGk="}')).toEqual([400, 'NotFoundException']);
  } finally {
    await kms.close();
  }
});
