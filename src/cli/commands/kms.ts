/**
 * `authnz kms token` (a kmsauth token, as python-kmsauth's generator makes it) and `authnz kms local`
 * (the local KMS endpoint). The AWS SDK is loaded only when one of them runs.
 */
import { createRequire } from 'node:module';
import { isLoopbackHost } from '../../lib/net.js';
import { CliUsageError, JSON_OPTION, type CliCommand, type CliIo } from '../types.js';

const requireHere = createRequire(import.meta.url);

/** Refuses before anything starts when the AWS SDK's KMS client (an optional peer) is not installed. */
function requireKmsSdk(): void {
  try {
    requireHere.resolve('@aws-sdk/client-kms');
  } catch {
    throw new Error("this command needs the AWS SDK's KMS client, which is not installed: npm install @aws-sdk/client-kms");
  }
}

const isLoopback = (url: string): boolean => /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/** `authnz kms token`. */
export const kmsTokenCommand: CliCommand = {
  path: ['kms', 'token'],
  summary: 'make a kmsauth token (python-kmsauth compatible)',
  description: [
    'The encryption context is { from: SUBJECT, to: AUDIENCE, user_type: KIND } plus any --context pairs,',
    "as python-kmsauth's KMSTokenGenerator makes it. Prints the token; --format headers prints the",
    'X-Auth-From / X-Auth-Token lines, --format basic an Authorization: Basic line, --json the headers.',
  ].join('\n'),
  options: [
    { name: 'kms-key', value: 'KEY', required: true, help: 'KMS key: alias/x, key id or ARN' },
    { name: 'subject', value: 'NAME', required: true, help: 'who the token is for (kmsauth "from")' },
    { name: 'audience', value: 'SERVICE', required: true, help: 'the service it is for (kmsauth "to")' },
    { name: 'kind', value: 'service|user', help: 'kmsauth v2 user_type (default service)' },
    { name: 'token-version', value: '1|2', help: 'default 2 (v1 sends no user_type)' },
    { name: 'lifetime-seconds', value: 'N', help: 'lifetime in whole minutes: 10m, 1h, 600 (default 10m)' },
    { name: 'context', value: 'K=V', repeat: true, help: 'extra encryption context' },
    { name: 'region', value: 'REGION', help: 'default $AWS_REGION or us-east-1' },
    { name: 'endpoint', value: 'URL', help: 'e.g. the local KMS, http://127.0.0.1:PORT (dummy credentials on loopback)' },
    { name: 'cache-file', value: 'FILE', help: 'reuse the token until 3 minutes before expiry (written 0600)' },
    { name: 'format', value: 'token|headers|basic', help: 'default token' },
    JSON_OPTION,
  ],
  examples: ['authnz kms token --endpoint http://127.0.0.1:4599 --kms-key alias/dev --subject billing --audience my-api --format headers'],
  async run(args, io: CliIo): Promise<number> {
    const version = args.integer('token-version', 2, { min: 1, max: 2 });
    const authContext: Record<string, string> = { from: args.required('subject'), to: args.required('audience') };
    if (version !== 1) authContext.user_type = args.choice('kind', ['service', 'user'] as const, 'service');
    else if (args.string('kind') !== undefined) throw new CliUsageError('--kind needs --token-version 2');
    for (const pair of args.list('context')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new CliUsageError('--context takes key=value');
      authContext[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const format = args.choice('format', ['token', 'headers', 'basic'] as const, 'token');
    const ttl = args.seconds('lifetime-seconds') ?? 600;
    if (ttl % 60 !== 0) throw new CliUsageError('--lifetime-seconds must be whole minutes (kmsauth counts lifetimes in minutes)');
    const endpoint = args.string('endpoint');
    const region = args.string('region') ?? process.env.AWS_REGION ?? 'us-east-1';
    const cacheFile = args.string('cache-file');
    const kmsKey = args.required('kms-key');
    requireKmsSdk();
    const { createKmsClient } = await import('../../kms.js');
    const { KmsTokenGenerator } = await import('../../schemes/kmsauth/generator.js');
    // The local KMS ignores signatures; the SDK still wants credentials, so supply dummy ones on loopback.
    const dummy = endpoint !== undefined && isLoopback(endpoint) && !process.env.AWS_ACCESS_KEY_ID;
    const kms = createKmsClient({
      region,
      ...(endpoint ? { endpoint } : {}),
      ...(dummy ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    });
    try {
      const generator = new KmsTokenGenerator({
        authKey: kmsKey,
        authContext,
        kms,
        tokenVersion: version,
        tokenLifetimeSeconds: ttl,
        region,
        ...(endpoint ? { endpoint } : {}),
        ...(cacheFile ? { tokenCacheFile: cacheFile } : {}),
      });
      if (args.flag('json')) io.out(`${JSON.stringify(await generator.getHeaders())}\n`);
      else if (format === 'token') io.out(`${await generator.getToken()}\n`);
      else if (format === 'basic') io.out(`Authorization: ${await generator.getBasicAuthorization()}\n`);
      else {
        const headers = await generator.getHeaders();
        io.out(`X-Auth-From: ${headers['X-Auth-From']}\nX-Auth-Token: ${headers['X-Auth-Token']}\n`);
      }
      return 0;
    } finally {
      kms.destroy();
    }
  },
};

/** `authnz kms local`: runs the local KMS until interrupted. */
export const kmsLocalCommand: CliCommand = {
  path: ['kms', 'local'],
  summary: 'run the local KMS endpoint for development (127.0.0.1)',
  description: 'Prints its URL and aliases on stdout (--json: one JSON line), then serves until SIGINT or SIGTERM.',
  options: [
    { name: 'port', value: 'N', help: 'default 4599 (0: any free port)' },
    { name: 'host', value: 'ADDRESS', help: 'listen address (default 127.0.0.1; not loopback: needs --allow-remote)' },
    { name: 'allow-remote', help: 'allow a --host that is not loopback: anyone who can reach it can mint tokens' },
    { name: 'state', value: 'FILE', help: 'keep keys and aliases across restarts (0600)' },
    { name: 'kms-key', value: 'alias/NAME', list: true, help: 'make sure this alias exists, creating a key for it' },
    JSON_OPTION,
  ],
  examples: ['authnz kms local --port 4599 --state .dev/kms.json --kms-key alias/dev'],
  async run(args, io: CliIo): Promise<number> {
    const port = args.integer('port', 4599, { min: 0, max: 65535 });
    const host = args.string('host') ?? '127.0.0.1';
    // The local KMS has no authentication: whoever reaches it can encrypt, i.e. mint kmsauth tokens.
    const remote = !isLoopbackHost(host);
    if (remote && !args.flag('allow-remote')) {
      throw new CliUsageError(
        `--host ${host} is not a loopback address: the local KMS mints tokens for anyone who can reach it; add --allow-remote to listen there anyway`,
      );
    }
    if (remote)
      io.err(
        `WARNING: the local KMS listens on ${host}, not loopback: anyone who can reach it can mint kmsauth tokens for any service. Use it on a trusted network only.\n`,
      );
    const state = args.string('state');
    const wanted = args.list('kms-key');
    for (const alias of wanted)
      if (!alias.startsWith('alias/')) throw new CliUsageError(`--kms-key takes alias/NAME here (got ${JSON.stringify(alias)})`);
    requireKmsSdk();
    const { startLocalKms, createKmsClient } = await import('../../kms.js');
    const local = await startLocalKms({ port, host, ...(state ? { stateFile: state } : {}) });
    const { CreateAliasCommand, CreateKeyCommand, ListAliasesCommand } = await import('@aws-sdk/client-kms');
    const client = createKmsClient({
      endpoint: local.url,
      region: local.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const existing = new Set(((await client.sdk.send(new ListAliasesCommand({}))).Aliases ?? []).map((a) => a.AliasName));
      for (const alias of wanted) {
        if (existing.has(alias)) continue;
        const key = (await client.sdk.send(new CreateKeyCommand({ Description: alias }))).KeyMetadata?.KeyId;
        await client.sdk.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key }));
      }
      const aliases = ((await client.sdk.send(new ListAliasesCommand({}))).Aliases ?? []).map((a) => ({
        alias: a.AliasName,
        keyId: a.TargetKeyId,
      }));
      if (args.flag('json')) io.out(`${JSON.stringify({ url: local.url, region: local.region, account: local.account, aliases })}\n`);
      else {
        io.out(`local KMS listening on ${local.url} (region ${local.region}, account ${local.account})\n`);
        for (const a of aliases) io.out(`  ${a.alias} -> ${a.keyId}\n`);
        io.err(`try: authnz kms token --endpoint ${local.url} --kms-key <alias> --subject my-service --audience my-api\n`);
      }
    } catch (error) {
      await local.close();
      throw error;
    } finally {
      client.destroy();
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await local.close();
    return 0;
  },
};
