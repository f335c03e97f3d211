/**
 * `authnz kms token` (a kmsauth token, as python-kmsauth's generator makes it) and `authnz kms local`
 * (the local KMS endpoint). The AWS SDK is loaded only when one of them runs.
 */
import { CliUsageError, parseArgs, type CliCommand, type CliIo } from '../types.js';

function one(options: Map<string, string[]>, name: string): string | undefined {
  const values = options.get(name);
  if (values !== undefined && values.length > 1) throw new CliUsageError(`--${name} given more than once`);
  return values?.[0];
}

function required(options: Map<string, string[]>, name: string): string {
  const value = one(options, name);
  if (value === undefined || value === '') throw new CliUsageError(`--${name} is required`);
  return value;
}

function integer(options: Map<string, string[]>, name: string, fallback: number): number {
  const value = one(options, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new CliUsageError(`--${name} must be a whole number`);
  return Number(value);
}

const isLoopback = (url: string): boolean => /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/** `authnz kms token`. */
export const kmsTokenCommand: CliCommand = {
  path: ['kms', 'token'],
  summary: 'make a kmsauth token (python-kmsauth compatible)',
  usage: [
    'usage: authnz kms token --key <alias/x|key id|ARN> --from <name> --to <service> [options]',
    '  --user-type <service|user>   v2 user type (default service)',
    '  --token-version <1|2>        default 2 (v1 sends no user_type)',
    '  --lifetime <minutes>         default 10',
    '  --context <k=v>              extra encryption context (repeatable)',
    '  --region <region>            default $AWS_REGION or us-east-1',
    '  --endpoint <url>             e.g. the local KMS, http://127.0.0.1:<port> (dummy credentials on loopback)',
    '  --cache-file <path>          reuse the token until 3 minutes before expiry (written 0600)',
    '  --format <token|headers|basic|json>  default token',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { options, positionals } = parseArgs(args);
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument ${positionals[0]}`);
    const version = integer(options, 'token-version', 2);
    const authContext: Record<string, string> = { from: required(options, 'from'), to: required(options, 'to') };
    if (version !== 1) authContext.user_type = one(options, 'user-type') ?? 'service';
    for (const pair of options.get('context') ?? []) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new CliUsageError('--context takes key=value');
      authContext[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const format = one(options, 'format') ?? 'token';
    if (!['token', 'headers', 'basic', 'json'].includes(format)) throw new CliUsageError('--format must be token, headers, basic or json');
    const endpoint = one(options, 'endpoint');
    const region = one(options, 'region') ?? process.env.AWS_REGION ?? 'us-east-1';
    const { createKmsClient } = await import('../../kms.js');
    const { KmsTokenGenerator } = await import('../../schemes/kmsauth/generator.js');
    // The local KMS ignores signatures; the SDK still wants credentials, so supply dummy ones on loopback.
    const dummy = endpoint !== undefined && isLoopback(endpoint) && !process.env.AWS_ACCESS_KEY_ID;
    const kms = createKmsClient({ region, ...(endpoint ? { endpoint } : {}), ...(dummy ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}) });
    try {
      const cacheFile = one(options, 'cache-file');
      const generator = new KmsTokenGenerator({
        authKey: required(options, 'key'),
        authContext,
        kms,
        tokenVersion: version,
        tokenLifetime: integer(options, 'lifetime', 10),
        region,
        ...(endpoint ? { endpoint } : {}),
        ...(cacheFile ? { tokenCacheFile: cacheFile } : {}),
      });
      if (format === 'token') io.out(`${await generator.getToken()}\n`);
      else if (format === 'basic') io.out(`Authorization: ${await generator.getBasicAuthorization()}\n`);
      else {
        const headers = await generator.getHeaders();
        io.out(format === 'json' ? `${JSON.stringify(headers)}\n` : `X-Auth-From: ${headers['X-Auth-From']}\nX-Auth-Token: ${headers['X-Auth-Token']}\n`);
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
  usage: [
    'usage: authnz kms local [--port <n>] [--host 127.0.0.1] [--state <file>] [--alias alias/x ...]',
    '  --port <n>        default 4599 (0: any free port)',
    '  --state <file>    keep keys and aliases across restarts (0600)',
    '  --alias <name>    make sure this alias exists, creating a key for it (repeatable)',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { options, positionals } = parseArgs(args);
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument ${positionals[0]}`);
    const { startLocalKms, createKmsClient } = await import('../../kms.js');
    const state = one(options, 'state');
    const local = await startLocalKms({ port: integer(options, 'port', 4599), host: one(options, 'host') ?? '127.0.0.1', ...(state ? { stateFile: state } : {}) });
    const { CreateAliasCommand, CreateKeyCommand, ListAliasesCommand } = await import('@aws-sdk/client-kms');
    const client = createKmsClient({ endpoint: local.url, region: local.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const existing = new Set(((await client.sdk.send(new ListAliasesCommand({}))).Aliases ?? []).map((a) => a.AliasName));
      for (const alias of options.get('alias') ?? []) {
        if (existing.has(alias)) continue;
        const key = (await client.sdk.send(new CreateKeyCommand({ Description: alias }))).KeyMetadata?.KeyId;
        await client.sdk.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key }));
      }
      const aliases = (await client.sdk.send(new ListAliasesCommand({}))).Aliases ?? [];
      io.out(`local KMS listening on ${local.url} (region ${local.region}, account ${local.account})\n`);
      for (const a of aliases) io.out(`  ${a.AliasName} -> ${a.TargetKeyId}\n`);
      io.out(`try: authnz kms token --endpoint ${local.url} --key <alias> --from my-service --to my-api\n`);
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
