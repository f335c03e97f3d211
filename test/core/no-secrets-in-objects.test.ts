/**
 * Library objects that hold secrets keep them in `#private` fields: console.log, util.inspect (even
 * with hidden members and unlimited depth) and JSON.stringify of the object never show them.
 */
import { jest } from '@jest/globals';
import { inspect } from 'node:util';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  ApiJwtIssuer,
  ApiKeyManager,
  AuthnzerverClient,
  Introspector,
  KmsTokenGenerator,
  KmsTokenValidator,
  MemoryApiKeyStore,
  TokenClient,
  type KmsClientLike,
} from '../../src/index.js';

/** Every rendering of `value` a log line or an error report might produce. */
function renderings(value: object): string[] {
  const logged: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logged.push(args.map((a) => inspect(a)).join(' '));
  });
  try {
    console.log(value);
  } finally {
    spy.mockRestore();
  }
  return [
    ...logged,
    inspect(value),
    inspect(value, { showHidden: true, depth: Infinity, getters: true }),
    JSON.stringify(value) ?? '',
    String(value),
  ];
}

function expectHidden(value: object, secrets: readonly string[]): void {
  for (const text of renderings(value)) for (const secret of secrets) expect(text.includes(secret)).toBe(false);
}

// A KMS double that answers Encrypt with a fixed blob: the generator's token is that blob, base64.
const BLOB = randomBytes(48);
const kms: KmsClientLike = {
  encrypt: async () => ({ CiphertextBlob: BLOB, KeyId: 'arn:aws:kms:us-east-1:111122223333:key/k' }),
  decrypt: async () => {
    throw new Error('unused');
  },
  describeKey: async () => ({ KeyMetadata: { Arn: 'arn:aws:kms:us-east-1:111122223333:key/k' } }),
};

describe('secrets are not visible on library objects', () => {
  it('ApiKeyManager: the pepper', () => {
    const pepper = `pepper-${randomBytes(24).toString('hex')}`;
    expectHidden(new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper }), [pepper, Buffer.from(pepper).toString('hex').slice(0, 40)]);
  });

  it('AuthnzerverClient: the shared secret', () => {
    const secret = randomBytes(32).toString('base64url') + '=';
    expectHidden(new AuthnzerverClient({ url: 'http://127.0.0.1:13431', secret }), [secret, secret.slice(0, 20)]);
  });

  it('ApiJwtIssuer: the private key (given as PEM)', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const d = String(privateKey.export({ format: 'jwk' }).d);
    const line = pem.split('\n')[5] as string;
    expectHidden(new ApiJwtIssuer({ privateKey: pem }), [line, d.slice(0, 30)]);
  });

  it('TokenClient and Introspector: the client secret', () => {
    const clientSecret = `cs-${randomBytes(16).toString('hex')}`;
    const clientAuth = { method: 'client_secret_post' as const, clientId: 'svc', clientSecret };
    expectHidden(new TokenClient({ tokenEndpoint: 'https://as.example.org/token', clientAuth }), [clientSecret]);
    expectHidden(new Introspector({ endpoint: 'https://as.example.org/introspect', clientAuth }), [clientSecret]);
  });

  it('KmsTokenGenerator: the cached token; KmsTokenValidator: nothing from a validated token', async () => {
    const generator = new KmsTokenGenerator({
      authKey: 'alias/svc',
      authContext: { from: 'billing', to: 'api', user_type: 'service' },
      kms,
    });
    const token = await generator.getToken();
    expect(token).toBe(BLOB.toString('base64'));
    expectHidden(generator, [token, token.slice(0, 24)]);
    const validator = new KmsTokenValidator({ authKey: 'alias/svc', userAuthKey: null, toAuthContext: 'api', kms });
    expectHidden(validator, [token.slice(0, 24)]);
  });
});
