/**
 * kmsauth: `GET /kmsauth/whoami`, for services presenting a KMS-encrypted token. Without AWS
 * configuration (`KMSAUTH_KEY` unset) a local KMS starts on 127.0.0.1 on a free port; its keys are
 * kept under `<devDir>/kmsauth-local-kms.json`, so they survive restarts.
 */
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, ListAliasesCommand } from '@aws-sdk/client-kms';
import { authenticate, kmsauthScheme, KmsTokenGenerator, KmsTokenValidator } from '../../../src/index.js';
import { createKmsClient, startLocalKms } from '../../../src/kms.js';
import type { RouteModule } from '../context.js';

const TO = 'authnz-example';
const LOCAL_ALIAS = 'alias/authnz-example';

export const mountKmsauth: RouteModule = async (app, ctx) => {
  let key = process.env.KMSAUTH_KEY;
  let endpoint = process.env.KMSAUTH_ENDPOINT;
  let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  if (key === undefined) {
    const local = await startLocalKms({ stateFile: join(ctx.devDir, 'kmsauth-local-kms.json') });
    ctx.onClose(() => local.close());
    endpoint = local.url;
    credentials = { accessKeyId: 'local', secretAccessKey: 'local' }; // the local KMS does not check signatures
    key = LOCAL_ALIAS;
  }
  const kms = createKmsClient({ ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}), timeoutMs: 1500 });
  ctx.onClose(() => kms.destroy());
  if (credentials) {
    const aliases = (await kms.sdk.send(new ListAliasesCommand({}))).Aliases ?? [];
    if (!aliases.some((a) => a.AliasName === LOCAL_ALIAS)) {
      const keyId = (await kms.sdk.send(new CreateKeyCommand({ Description: 'authnz-express example' }))).KeyMetadata?.KeyId;
      await kms.sdk.send(new CreateAliasCommand({ AliasName: LOCAL_ALIAS, TargetKeyId: keyId }));
    }
  }

  const validator = new KmsTokenValidator({ authKey: [key], userAuthKey: null, toAuthContext: TO, kms });
  app.get('/kmsauth/whoami', authenticate([kmsauthScheme({ validator })]), (req, res) => {
    res.json({ principal: req.principal });
  });

  // A caller's token, valid for the maximum lifetime the validator accepts (60 minutes).
  const generator = new KmsTokenGenerator({
    authKey: key,
    authContext: { from: 'example-service', to: TO, user_type: 'service' },
    kms,
    tokenLifetimeSeconds: 3600,
  });
  const { 'X-Auth-From': from, 'X-Auth-Token': token } = await generator.getHeaders();
  return [
    `curl -s ${ctx.baseUrl}/kmsauth/whoami -H 'X-Auth-From: ${from}' -H 'X-Auth-Token: ${token}'`,
    `curl -s ${ctx.baseUrl}/kmsauth/whoami -u '${from}:${token}'`,
    `# token valid ~57 minutes; a fresh one: npx tsx src/cli/main.ts kms token ${endpoint ? `--endpoint ${endpoint} ` : ''}--kms-key ${key} --subject example-service --audience ${TO} --format headers`,
  ];
};
