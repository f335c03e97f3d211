/**
 * A local, KMS-compatible HTTP endpoint for development and tests. It speaks the AWS JSON 1.1
 * protocol (`POST /`, `X-Amz-Target: TrentService.<Op>`) that `@aws-sdk/client-kms` uses, so the real
 * SDK talks to it through `endpoint`. Request signatures are NOT checked: this is not a security
 * boundary, and it listens on 127.0.0.1 only by default.
 *
 * Ciphertext blob: key id (36 ASCII bytes) | IV (12) | GCM tag (16) | AES-256-GCM ciphertext, with the
 * encryption context as additional authenticated data in a canonical, collision-free encoding
 * (JSON of the entries sorted by key), so `{from:'a',to:'tob'}` and `{from:'ato',to:'b'}` differ.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';

/** Options of {@link startLocalKms}. */
export interface LocalKmsOptions {
  /** Port (default 0: a free port). */
  readonly port?: number;
  /** Interface (default `127.0.0.1`). */
  readonly host?: string;
  /** Region used in ARNs (default `us-east-1`). */
  readonly region?: string;
  /** Account used in ARNs (default `111122223333`). */
  readonly account?: string;
  /** JSON file holding keys and aliases across restarts (written 0600, atomically). */
  readonly stateFile?: string;
}

/** The operations the local KMS implements. */
export type LocalKmsOperation = 'CreateKey' | 'CreateAlias' | 'ListAliases' | 'DescribeKey' | 'Encrypt' | 'Decrypt';

/** A running local KMS. */
export interface LocalKms {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint`. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly account: string;
  /** Calls received per operation (for tests: single-flight, caching). */
  readonly calls: Record<LocalKmsOperation, number>;
  /** Delay added before every answer, ms (for tests: a slow KMS). */
  delayMs: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

interface KeyRecord {
  keyId: string;
  material: string; // hex, 32 bytes
  description: string;
  created: number; // epoch seconds
}

interface State {
  keys: KeyRecord[];
  aliases: Array<{ name: string; target: string; created: number }>;
}

class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const OPERATIONS: readonly LocalKmsOperation[] = ['CreateKey', 'CreateAlias', 'ListAliases', 'DescribeKey', 'Encrypt', 'Decrypt'];
const KEY_ID_LENGTH = 36;

/** Canonical AAD: JSON of `[key, value]` pairs sorted by key; injective, unlike moto's plain concatenation. */
export function canonicalContext(context: Readonly<Record<string, string>> | undefined): Buffer {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

function stringField(body: Record<string, unknown>, name: string, required = true): string | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw new KmsFault(
      'ValidationException',
      `1 validation error detected: Value at '${name[0]?.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function contextField(body: Record<string, unknown>): Record<string, string> {
  const value = body.EncryptionContext;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new KmsFault('ValidationException', 'EncryptionContext must map strings to strings.');
  }
  return value as Record<string, string>;
}

function base64Field(body: Record<string, unknown>, name: string): Buffer {
  const value = stringField(body, name) as string;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0)
    throw new KmsFault('SerializationException', `${name} is not valid base64.`);
  return Buffer.from(value, 'base64');
}

/** Starts a local KMS. Resolves once it listens. */
export async function startLocalKms(options: LocalKmsOptions = {}): Promise<LocalKms> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '111122223333';
  const stateFile = options.stateFile;
  let state: State = { keys: [], aliases: [] };
  if (stateFile) {
    try {
      state = JSON.parse(await readFile(stateFile, 'utf8')) as State;
    } catch {
      // No state yet: start empty.
    }
  }
  const keyArn = (id: string): string => `arn:aws:kms:${region}:${account}:key/${id}`;
  const aliasArn = (name: string): string => `arn:aws:kms:${region}:${account}:${name}`;

  const save = async (): Promise<void> => {
    if (!stateFile) return;
    await mkdir(dirname(stateFile), { recursive: true, mode: 0o700 });
    const tmp = `${stateFile}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(state), { mode: 0o600, flag: 'wx' });
    await rename(tmp, stateFile);
  };

  const findKey = (ref: string): KeyRecord => {
    let id = ref;
    const aliasPrefix = `arn:aws:kms:${region}:${account}:`;
    const name = ref.startsWith('alias/') ? ref : ref.startsWith(`${aliasPrefix}alias/`) ? ref.slice(aliasPrefix.length) : undefined;
    if (name !== undefined) {
      const alias = state.aliases.find((a) => a.name === name);
      if (!alias) throw new KmsFault('NotFoundException', `Alias ${aliasArn(name)} is not found.`);
      id = alias.target;
    } else if (ref.startsWith(`${aliasPrefix}key/`)) id = ref.slice(`${aliasPrefix}key/`.length);
    const key = state.keys.find((k) => k.keyId === id);
    if (!key) throw new KmsFault('NotFoundException', `Key '${ref.startsWith('arn:') ? ref : keyArn(ref)}' does not exist`);
    return key;
  };

  const metadata = (key: KeyRecord): Record<string, unknown> => ({
    AWSAccountId: account,
    KeyId: key.keyId,
    Arn: keyArn(key.keyId),
    CreationDate: key.created,
    Enabled: true,
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: 'Enabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  });

  const handlers: Record<LocalKmsOperation, (body: Record<string, unknown>) => Promise<unknown>> = {
    async CreateKey(body) {
      const key: KeyRecord = {
        keyId: randomUUID(),
        material: randomBytes(32).toString('hex'),
        description: typeof body.Description === 'string' ? body.Description : '',
        created: Math.floor(Date.now() / 1000),
      };
      state.keys.push(key);
      await save();
      return { KeyMetadata: metadata(key) };
    },
    async CreateAlias(body) {
      const name = stringField(body, 'AliasName') as string;
      if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name) || name.startsWith('alias/aws/'))
        throw new KmsFault(
          'ValidationException',
          `Alias must start with the prefix "alias/" and may not use the reserved "alias/aws/": ${name}`,
        );
      if (state.aliases.some((a) => a.name === name))
        throw new KmsFault('AlreadyExistsException', `An alias with the name ${aliasArn(name)} already exists`);
      const key = findKey(stringField(body, 'TargetKeyId') as string);
      state.aliases.push({ name, target: key.keyId, created: Math.floor(Date.now() / 1000) });
      await save();
      return {};
    },
    async ListAliases(body) {
      const filter = stringField(body, 'KeyId', false);
      const target = filter === undefined ? undefined : findKey(filter).keyId;
      const aliases = state.aliases.filter((a) => target === undefined || a.target === target);
      return {
        Aliases: aliases.map((a) => ({ AliasName: a.name, AliasArn: aliasArn(a.name), TargetKeyId: a.target, CreationDate: a.created })),
        Truncated: false,
      };
    },
    async DescribeKey(body) {
      return { KeyMetadata: metadata(findKey(stringField(body, 'KeyId') as string)) };
    },
    async Encrypt(body) {
      const key = findKey(stringField(body, 'KeyId') as string);
      const plaintext = base64Field(body, 'Plaintext');
      if (plaintext.length === 0 || plaintext.length > 4096)
        throw new KmsFault('ValidationException', 'Plaintext must be 1 to 4096 bytes.');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', Buffer.from(key.material, 'hex'), iv);
      cipher.setAAD(canonicalContext(contextField(body)));
      const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const blob = Buffer.concat([Buffer.from(key.keyId, 'ascii'), iv, cipher.getAuthTag(), ct]);
      return { CiphertextBlob: blob.toString('base64'), KeyId: keyArn(key.keyId), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },
    async Decrypt(body) {
      const blob = base64Field(body, 'CiphertextBlob');
      const context = contextField(body);
      if (blob.length < KEY_ID_LENGTH + 28) throw new KmsFault('InvalidCiphertextException', '');
      const key = state.keys.find((k) => k.keyId === blob.subarray(0, KEY_ID_LENGTH).toString('ascii'));
      if (!key) throw new KmsFault('InvalidCiphertextException', '');
      const requested = stringField(body, 'KeyId', false);
      if (requested !== undefined && findKey(requested).keyId !== key.keyId) {
        throw new KmsFault('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
      }
      try {
        const decipher = createDecipheriv(
          'aes-256-gcm',
          Buffer.from(key.material, 'hex'),
          blob.subarray(KEY_ID_LENGTH, KEY_ID_LENGTH + 12),
        );
        decipher.setAuthTag(blob.subarray(KEY_ID_LENGTH + 12, KEY_ID_LENGTH + 28));
        decipher.setAAD(canonicalContext(context));
        const plaintext = Buffer.concat([decipher.update(blob.subarray(KEY_ID_LENGTH + 28)), decipher.final()]);
        return { KeyId: keyArn(key.keyId), Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } catch {
        // Real KMS says nothing about why: wrong context, wrong key and tampering look the same.
        throw new KmsFault('InvalidCiphertextException', '');
      }
    },
  };

  const calls = Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<LocalKmsOperation, number>;
  const send = (res: ServerResponse, status: number, body: unknown, errorType?: string): void => {
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers).end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 1 << 20) throw new KmsFault('ValidationException', 'Request too large.', 413);
      chunks.push(chunk as Buffer);
    }
    if (kms.delayMs > 0) await new Promise((r) => setTimeout(r, kms.delayMs).unref());
    if (res.destroyed) return;
    const target = req.headers['x-amz-target'];
    const op = typeof target === 'string' && target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : undefined;
    if (req.method !== 'POST' || op === undefined || !(OPERATIONS as readonly string[]).includes(op)) {
      throw new KmsFault('UnknownOperationException', '');
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      throw new KmsFault('SerializationException', 'Could not parse the request body.');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new KmsFault('SerializationException', 'The request body must be a JSON object.');
    calls[op as LocalKmsOperation]++;
    send(res, 200, await handlers[op as LocalKmsOperation](body as Record<string, unknown>));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      if (error instanceof KmsFault) send(res, error.status, { __type: error.type, message: error.message }, error.type);
      else send(res, 500, { __type: 'KMSInternalException', message: 'Internal error.' }, 'KMSInternalException');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const kms: LocalKms = {
    url: `http://${host}:${address.port}`,
    port: address.port,
    region,
    account,
    calls,
    delayMs: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return kms;
}
