/**
 * The soak's dependencies in a process of their own (`node --import tsx`): the local KMS with a key
 * `alias/svc`, and a stub introspection endpoint. Kept out of the server under test so that the load
 * on its event loop cannot starve them: the soak then measures the library, not a dependency that
 * waits behind the requests it serves. Prints one JSON line `{ kmsUrl, introspectionUrl }`.
 */
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { createKmsClient, startLocalKms } from '../../src/kms.js';
import { listen } from '../helpers/http.js';

const kms = await startLocalKms();
const setup = createKmsClient({
  endpoint: kms.url,
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
  region: 'us-east-1',
  timeoutMs: 30_000,
});
const arn = (await setup.sdk.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
await setup.sdk.send(new CreateAliasCommand({ AliasName: 'alias/svc', TargetKeyId: arn }));
setup.destroy();

const introspection = await listen((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const token = new URLSearchParams(body).get('token');
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify(
        token === 'soak-token'
          ? { active: true, sub: 'soak', scope: 'soak:read', exp: Math.floor(Date.now() / 1000) + 3600 }
          : { active: false },
      ),
    );
  });
});
// Longer than undici's pooled-socket idle time, so the stub never closes a socket fetch is about to reuse.
introspection.server.keepAliveTimeout = 65_000;

process.stdout.write(`${JSON.stringify({ kmsUrl: kms.url, introspectionUrl: introspection.url })}\n`);

const stop = (): void => {
  void Promise.all([introspection.close(), kms.close()]).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
