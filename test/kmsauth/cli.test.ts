/** `authnz kms token` against the local KMS, validated by the core. */
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { runCli } from '../../src/cli/main.js';
import { KmsTokenValidator } from '../../src/index.js';
import { createKmsClient, startLocalKms } from '../../src/kms.js';

it('authnz kms token prints headers that the validator accepts; usage errors exit 2', async () => {
  const local = await startLocalKms();
  const client = createKmsClient({ endpoint: local.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  try {
    const keyId = (await client.sdk.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await client.sdk.send(new CreateAliasCommand({ AliasName: 'alias/cli', TargetKeyId: keyId }));
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const code = await runCli(
      [
        'kms',
        'token',
        '--endpoint',
        local.url,
        '--kms-key',
        'alias/cli',
        '--subject',
        'svc',
        '--audience',
        'api',
        '--context',
        'action=read',
        '--json',
      ],
      io,
    );
    expect([code, err.join('')]).toEqual([0, '']);
    const headers = JSON.parse(out.join('')) as Record<string, string>;
    expect(headers['X-Auth-From']).toBe('2/service/svc');
    const validator = new KmsTokenValidator({
      authKey: 'alias/cli',
      userAuthKey: null,
      toAuthContext: 'api',
      extraContext: { action: 'read' },
      kms: client,
    });
    expect((await validator.decryptToken(headers['X-Auth-From']!, headers['X-Auth-Token']!)).keyAlias).toBe('alias/cli');
    expect(local.calls.Encrypt).toBe(1);
    expect(await runCli(['kms', 'token', '--kms-key', 'alias/cli', '--subject', 'svc'], io)).toBe(2);
    expect(err.join('')).toContain('--audience is required');
  } finally {
    client.destroy();
    await local.close();
  }
});
