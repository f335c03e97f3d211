/**
 * Static configuration is refused when a scheme or middleware is built, with one message shape:
 * `<factory>(): "<option>" must be … (got …)`. One row per case: the class and the exact message.
 * Secrets and keys never appear in a message (checked on every row).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ApiJwtVerifier,
  ApiKeyManager,
  AuthnzerverClient,
  KmsTokenValidator,
  MemoryApiKeyStore,
  RemoteJwks,
  apiJwtScheme,
  apiKeyScheme,
  asymmetricJwtScheme,
  authenticate,
  authnzerverScheme,
  bruteForce,
  introspectionScheme,
  kmsauthScheme,
  rateLimit,
  requireKind,
  requireLevel,
  requireScopes,
  requireSubject,
  authorize,
} from '../../src/index.js';
import type { KmsClientLike } from '../../src/index.js';

const keyText = (name: string): string => readFileSync(new URL(`../fixtures/asymmetric-jwt/keys/${name}`, import.meta.url), 'utf8');
const RSA_PUBLIC = keyText('rsa_public.pem');
const RSA_PRIVATE = keyText('rsa_private.pem');
const WEAK = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
// A PEM whose body was cut short in copy-paste: the armour is right, the DER inside is not.
const GARBLED = `${RSA_PUBLIC.split('\n').slice(0, 3).join('\n')}\n-----END PUBLIC KEY-----\n`;
const PEPPER = randomBytes(32);
const FERNET = randomBytes(32).toString('base64url') + '=';
const kms: KmsClientLike = {
  encrypt: async () => ({}),
  decrypt: async () => ({}),
  describeKey: async () => ({}),
};
const kmsOptions = { authKey: 'alias/a', userAuthKey: null, toAuthContext: 'svc', kms };
const manager = new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: PEPPER });
const validator = new KmsTokenValidator(kmsOptions);
const client = new AuthnzerverClient({ url: 'http://127.0.0.1:1', secret: FERNET });
const basic = { method: 'client_secret_basic', clientId: 'rs', clientSecret: 'rs-secret-value' } as const;
const intro = { endpoint: 'https://as.example/introspect', clientAuth: basic };
const cast = <T>(value: unknown): T => value as T;

/** Numbers that must never be accepted where a finite number is required, with how they print. */
const NON_FINITE: Array<[unknown, string]> = [
  [NaN, 'NaN'],
  [Infinity, 'Infinity'],
  [-Infinity, '-Infinity'],
  ['5', 'a string'],
];

type Row = [string, () => unknown, string];

const rows: Row[] = [
  // asymmetric JWT: users
  [
    'asymmetricJwtScheme with no users',
    () => asymmetricJwtScheme(cast({})),
    'asymmetricJwtScheme(): "users" must be a map of username → { publicKeys, jwks } (an object or a Map) or a lookup function (got undefined)',
  ],
  [
    'asymmetricJwtScheme with users: {}',
    () => asymmetricJwtScheme({ users: {} }),
    'asymmetricJwtScheme(): "users" must be a map naming at least one user (got an empty object)',
  ],
  [
    'asymmetricJwtScheme with an empty Map',
    () => asymmetricJwtScheme({ users: new Map() }),
    'asymmetricJwtScheme(): "users" must be a map naming at least one user (got an empty Map)',
  ],
  [
    'asymmetricJwtScheme with publicKeys: []',
    () => asymmetricJwtScheme({ users: { svc: { publicKeys: [] } } }),
    'asymmetricJwtScheme(): "users.svc" must be a user with at least one key in "publicKeys" or a URL in "jwks" (got publicKeys: [])',
  ],
  [
    'asymmetricJwtScheme with a garbled PEM',
    () => asymmetricJwtScheme({ users: { svc: { publicKeys: [RSA_PUBLIC, GARBLED] } } }),
    'asymmetricJwtScheme(): "users.svc.publicKeys[1]" must be a readable public key: PEM, DER, JWK or an OpenSSH line',
  ],
  [
    'asymmetricJwtScheme with an RSA-1024 key',
    () => asymmetricJwtScheme({ users: { svc: { publicKeys: [WEAK] } } }),
    'asymmetricJwtScheme(): "users.svc.publicKeys[0]" must be a key of at least 2048 bits (got a weaker RSA key)',
  ],
  [
    'asymmetricJwtScheme with a file path for key text',
    () => asymmetricJwtScheme({ users: { svc: { publicKeys: ['./keys/svc_public.pem'] } } }),
    'asymmetricJwtScheme(): "users.svc.publicKeys[0]" must be the key text, not a file path (read it first, e.g. readFileSync(path, \'utf8\'))',
  ],
  [
    'asymmetricJwtScheme with a private key',
    () => asymmetricJwtScheme({ users: { svc: { publicKeys: [RSA_PRIVATE] } } }),
    'asymmetricJwtScheme(): "users.svc.publicKeys[0]" must be a public key (got a private key: give the public half only, e.g. createPublicKey(privateKey))',
  ],
  [
    'asymmetricJwtScheme with a plain-http JWKS URL',
    () => asymmetricJwtScheme({ users: { svc: { jwks: ['http://peer.example/jwks'] } } }),
    'asymmetricJwtScheme(): "users.svc.jwks[0]" must be an absolute https URL (http only for loopback) (got a http URL)',
  ],
  [
    'asymmetricJwtScheme with a bad compat',
    () => asymmetricJwtScheme({ users: { svc: { publicKeys: [RSA_PUBLIC] } }, compat: cast('2.x') }),
    'asymmetricJwtScheme(): "compat" must be one of "1.x", "0.x" (got "2.x")',
  ],
  [
    'asymmetricJwtScheme with a bad level',
    () => asymmetricJwtScheme({ users: { svc: { publicKeys: [RSA_PUBLIC], level: NaN } } }),
    'asymmetricJwtScheme(): "users.svc.level" must be a finite number (got NaN)',
  ],
  // APIJwt
  ['apiJwtScheme with no key source', () => apiJwtScheme({}), 'apiJwtScheme(): one of "publicKeys", "jwksUri", "keySource" is required'],
  [
    'apiJwtScheme with algorithms [RS999]',
    () => apiJwtScheme({ publicKeys: RSA_PUBLIC, algorithms: cast(['RS999']) }),
    'apiJwtScheme(): "algorithms[0]" must be one of "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA", "ES256", "ES384" (got "RS999")',
  ],
  [
    'apiJwtScheme with algorithms []',
    () => apiJwtScheme({ publicKeys: RSA_PUBLIC, algorithms: [] }),
    'apiJwtScheme(): "algorithms" must be a non-empty array of RS256, RS384, RS512, PS256, PS384, PS512, EdDSA, ES256, ES384 (got an empty array)',
  ],
  [
    'apiJwtScheme with a key for none of the algorithms',
    () => apiJwtScheme({ publicKeys: RSA_PUBLIC, algorithms: ['EdDSA'] }),
    'apiJwtScheme(): "publicKeys[0]" must be a key for one of "algorithms" (EdDSA) (got an RSA key, which verifies RS256, RS384, RS512, PS256, PS384, PS512)',
  ],
  [
    'apiJwtScheme with a private key',
    () => apiJwtScheme({ publicKeys: [RSA_PRIVATE] }),
    'apiJwtScheme(): "publicKeys[0]" must be a public key (got a private key: give the public half only, e.g. createPublicKey(privateKey))',
  ],
  [
    'apiJwtScheme with keySource and jwksUri',
    () => apiJwtScheme({ jwksUri: 'https://as.example/jwks', keySource: { getKey: async () => undefined } }),
    'apiJwtScheme(): give "keySource" or "jwksUri", not both',
  ],
  [
    'apiJwtScheme with a bad kind',
    () => apiJwtScheme({ publicKeys: RSA_PUBLIC, kind: cast('robot') }),
    'apiJwtScheme(): "kind" must be one of "user", "service" (got "robot")',
  ],
  [
    'new ApiJwtVerifier with NaN tolerance',
    () => new ApiJwtVerifier({ publicKeys: RSA_PUBLIC, clockToleranceSeconds: NaN }),
    'new ApiJwtVerifier(): "clockToleranceSeconds" must be a finite number >= 0 (got NaN)',
  ],
  [
    'RemoteJwks with cacheSeconds NaN',
    () => new RemoteJwks('https://as.example/jwks', { cacheSeconds: NaN }),
    'new RemoteJwks(): "cacheSeconds" must be a finite number >= 0 (got NaN)',
  ],
  // kmsauth
  ['kmsauthScheme({})', () => kmsauthScheme(cast({})), 'kmsauthScheme(): "validator" must be a KmsTokenValidator (got undefined)'],
  [
    'kmsauthScheme with userTypes [admin]',
    () => kmsauthScheme({ validator, userTypes: cast(['admin']) }),
    'kmsauthScheme(): "userTypes[0]" must be one of "service", "user" (got "admin")',
  ],
  [
    'KmsTokenValidator without kms',
    () => new KmsTokenValidator(cast({ ...kmsOptions, kms: undefined })),
    'new KmsTokenValidator(): "kms" must be a KMS client with decrypt() and describeKey() (kmsClientFromSdk() or createKmsClient() from authnz-express/kms) (got undefined)',
  ],
  // API keys
  ['apiKeyScheme({})', () => apiKeyScheme(cast({})), 'apiKeyScheme(): "manager" must be an ApiKeyManager (got undefined)'],
  [
    'new ApiKeyManager({})',
    () => new ApiKeyManager(cast({})),
    'new ApiKeyManager(): "store" must be an ApiKeyStore (get, save, list) (got undefined)',
  ],
  [
    'new ApiKeyManager with a short pepper',
    () => new ApiKeyManager({ store: new MemoryApiKeyStore(), pepper: 'short-secret-pepper' }),
    'new ApiKeyManager(): "pepper" must be a string or Uint8Array of at least 32 bytes (got fewer than 32 bytes)',
  ],
  [
    'new ApiKeyManager without a pepper',
    () => new ApiKeyManager(cast({ store: new MemoryApiKeyStore() })),
    'new ApiKeyManager(): "pepper" must be a string or Uint8Array of at least 32 bytes (got undefined)',
  ],
  // introspection
  [
    'introspection with client_secret_jwt',
    () =>
      introspectionScheme({ ...intro, clientAuth: cast({ method: 'client_secret_jwt', clientId: 'rs', clientSecret: 's3cret-value' }) }),
    'introspectionScheme(): "clientAuth.method" must be one of "client_secret_basic", "client_secret_post", "private_key_jwt" (got "client_secret_jwt")',
  ],
  [
    'introspection without endpoint or issuer',
    () => introspectionScheme({ clientAuth: basic }),
    'introspectionScheme(): "endpoint" or "issuer" is required (the endpoint, or the issuer to discover it from)',
  ],
  [
    'introspection without a client secret',
    () => introspectionScheme({ ...intro, clientAuth: cast({ method: 'client_secret_post', clientId: 'rs' }) }),
    'introspectionScheme(): "clientAuth.clientSecret" must be a non-empty string',
  ],
  // authnzerver
  [
    'authnzerverScheme({})',
    () => authnzerverScheme(cast({})),
    'authnzerverScheme(): "client" must be an AuthnzerverClient (got undefined)',
  ],
  [
    'authnzerverScheme with a bad apiKeySecret',
    () => authnzerverScheme({ client, apiKeySecret: 'not-a-fernet-key' }),
    'authnzerverScheme(): "apiKeySecret" must be a Fernet key: URL-safe base64 of 32 bytes',
  ],
  [
    'AuthnzerverClient with a bad secret',
    () => new AuthnzerverClient({ url: 'http://127.0.0.1:1', secret: 'not-a-fernet-key' }),
    'new AuthnzerverClient(): "secret" must be a Fernet key: URL-safe base64 of 32 bytes (AUTHNZERVER_SECRET)',
  ],
  // middleware
  ['rateLimit()', () => rateLimit(cast(undefined)), 'rateLimit(): options must be an object (got undefined)'],
  ['rateLimit without limit', () => rateLimit(cast({ windowSeconds: 60 })), 'rateLimit(): "limit" must be an integer >= 1 (got undefined)'],
  [
    'rateLimit with an unknown kind',
    () => rateLimit({ limit: 1, windowSeconds: 1, byKind: cast({ robot: { limit: 1, windowSeconds: 1 } }) }),
    'rateLimit(): "byKind key" must be one of "service", "user", "anonymous" (got "robot")',
  ],
  [
    'requireScopes()',
    () => requireScopes(cast(undefined)),
    'requireScopes(): "scopes" must be a scope string or a non-empty array of them (got undefined)',
  ],
  [
    'requireScopes([])',
    () => requireScopes([]),
    'requireScopes(): "scopes" must be a scope string or a non-empty array of them (got an empty array)',
  ],
  [
    'requireScopes with match: some',
    () => requireScopes('a', { match: cast('some') }),
    'requireScopes(): "match" must be one of "all", "any" (got "some")',
  ],
  ['requireLevel(NaN)', () => requireLevel(NaN), 'requireLevel(): "min" must be a finite number (got NaN)'],
  ['requireKind(robot)', () => requireKind(cast('robot')), 'requireKind(): "kinds[0]" must be one of "service", "user" (got "robot")'],
  [
    'requireSubject()',
    () => requireSubject(),
    'requireSubject(): "subjects" must be a subject or a non-empty array of them (got an empty array)',
  ],
  [
    'authorize(undefined)',
    () => authorize(cast(undefined)),
    'authorize(): "predicate" must be a function (principal, req) => boolean (got undefined)',
  ],
  ['authenticate([])', () => authenticate([]), 'authenticate(): "schemes" must be a non-empty array of schemes'],
  [
    'authenticate with a non-scheme',
    () => authenticate([cast({ name: 'x' })]),
    'authenticate(): "schemes[0]" must be a scheme (e.g. apiJwtScheme({...}))',
  ],
];

/** Every numeric option of every factory, with its rule as the message states it. */
const numeric: Array<[string, (value: unknown) => unknown, string]> = [
  [
    'apiJwtScheme()',
    (v) => apiJwtScheme({ publicKeys: RSA_PUBLIC, clockToleranceSeconds: cast(v) }),
    '"clockToleranceSeconds" must be a finite number >= 0',
  ],
  ['apiJwtScheme()', (v) => apiJwtScheme({ publicKeys: RSA_PUBLIC, maxTokenLength: cast(v) }), '"maxTokenLength" must be an integer >= 1'],
  [
    'apiJwtScheme()',
    (v) => apiJwtScheme({ publicKeys: RSA_PUBLIC, cache: { maxBytes: cast(v) } }),
    '"cache.maxBytes" must be an integer >= 1',
  ],
  [
    'apiJwtScheme()',
    (v) => apiJwtScheme({ jwksUri: 'https://as.example/jwks', jwks: { timeoutMs: cast(v) } }),
    '"jwks.timeoutMs" must be a finite number > 0',
  ],
  [
    'apiJwtScheme()',
    (v) => apiJwtScheme({ jwksUri: 'https://as.example/jwks', jwks: { cacheSeconds: cast(v) } }),
    '"jwks.cacheSeconds" must be a finite number >= 0',
  ],
  [
    'apiJwtScheme()',
    (v) => apiJwtScheme({ jwksUri: 'https://as.example/jwks', jwks: { cooldownMs: cast(v) } }),
    '"jwks.cooldownMs" must be a finite number >= 0',
  ],
  [
    'apiJwtScheme()',
    (v) => apiJwtScheme({ jwksUri: 'https://as.example/jwks', jwks: { maxBytes: cast(v) } }),
    '"jwks.maxBytes" must be an integer >= 1',
  ],
  [
    'asymmetricJwtScheme()',
    (v) => asymmetricJwtScheme({ users: { s: { publicKeys: [RSA_PUBLIC] } }, maxTokenAgeSeconds: cast(v) }),
    '"maxTokenAgeSeconds" must be a finite number >= 0',
  ],
  [
    'asymmetricJwtScheme()',
    (v) => asymmetricJwtScheme({ users: { s: { publicKeys: [RSA_PUBLIC] } }, maxTokenLength: cast(v) }),
    '"maxTokenLength" must be an integer >= 1',
  ],
  [
    'asymmetricJwtScheme()',
    (v) => asymmetricJwtScheme({ users: { s: { publicKeys: [RSA_PUBLIC] } }, defaultLevel: cast(v) }),
    '"defaultLevel" must be a finite number',
  ],
  [
    'asymmetricJwtScheme()',
    (v) => asymmetricJwtScheme({ users: { s: { publicKeys: [RSA_PUBLIC] } }, maxNonceLength: cast(v) }),
    '"maxNonceLength" must be an integer >= 1',
  ],
  [
    'asymmetricJwtScheme()',
    (v) => asymmetricJwtScheme({ users: { s: { publicKeys: [RSA_PUBLIC] } }, clockToleranceSeconds: cast(v) }),
    '"clockToleranceSeconds" must be a finite number >= 0',
  ],
  [
    'asymmetricJwtScheme()',
    (v) => asymmetricJwtScheme({ users: { s: { publicKeys: [RSA_PUBLIC] } }, maxTokenLifetimeSeconds: cast(v) }),
    '"maxTokenLifetimeSeconds" must be an integer > 0',
  ],
  [
    'apiJwtScheme()',
    (v) => apiJwtScheme({ publicKeys: RSA_PUBLIC, maxTokenLifetimeSeconds: cast(v) }),
    '"maxTokenLifetimeSeconds" must be an integer > 0',
  ],
  ['kmsauthScheme()', (v) => kmsauthScheme({ validator, level: cast(v) }), '"level" must be a finite number'],
  [
    'new KmsTokenValidator()',
    (v) => new KmsTokenValidator({ ...kmsOptions, maxTokenLifetimeSeconds: cast(v) }),
    '"maxTokenLifetimeSeconds" must be a finite number >= 0',
  ],
  [
    'new KmsTokenValidator()',
    (v) => new KmsTokenValidator({ ...kmsOptions, tokenCacheSize: cast(v) }),
    '"tokenCacheSize" must be an integer >= 1',
  ],
  [
    'new KmsTokenValidator()',
    (v) => new KmsTokenValidator({ ...kmsOptions, negativeCacheSeconds: cast(v) }),
    '"negativeCacheSeconds" must be a finite number >= 0',
  ],
  [
    'new KmsTokenValidator()',
    (v) => new KmsTokenValidator({ ...kmsOptions, negativeCacheSize: cast(v) }),
    '"negativeCacheSize" must be an integer >= 1',
  ],
  ['introspectionScheme()', (v) => introspectionScheme({ ...intro, timeoutMs: cast(v) }), '"timeoutMs" must be a finite number > 0'],
  ['introspectionScheme()', (v) => introspectionScheme({ ...intro, cacheSeconds: cast(v) }), '"cacheSeconds" must be a finite number >= 0'],
  [
    'introspectionScheme()',
    (v) => introspectionScheme({ ...intro, negativeCacheSeconds: cast(v) }),
    '"negativeCacheSeconds" must be a finite number >= 0',
  ],
  [
    'introspectionScheme()',
    (v) => introspectionScheme({ ...intro, clockToleranceSeconds: cast(v) }),
    '"clockToleranceSeconds" must be a finite number >= 0',
  ],
  ['introspectionScheme()', (v) => introspectionScheme({ ...intro, maxTokenLength: cast(v) }), '"maxTokenLength" must be an integer >= 1'],
  ['introspectionScheme()', (v) => introspectionScheme({ ...intro, level: cast(v) }), '"level" must be a finite number'],
  [
    'introspectionScheme()',
    (v) =>
      introspectionScheme({
        ...intro,
        clientAuth: { method: 'private_key_jwt', clientId: 'rs', privateKey: RSA_PRIVATE, lifetimeSeconds: cast(v) },
      }),
    '"clientAuth.lifetimeSeconds" must be a finite number > 0',
  ],
  ['authnzerverScheme()', (v) => authnzerverScheme({ client, cacheSeconds: cast(v) }), '"cacheSeconds" must be a finite number >= 0'],
  [
    'new AuthnzerverClient()',
    (v) => new AuthnzerverClient({ url: 'http://127.0.0.1:1', secret: FERNET, timeoutMs: cast(v) }),
    '"timeoutMs" must be a finite number > 0',
  ],
  ['rateLimit()', (v) => rateLimit({ limit: cast(v), windowSeconds: 1 }), '"limit" must be an integer >= 1'],
  ['rateLimit()', (v) => rateLimit({ limit: 1, windowSeconds: cast(v) }), '"windowSeconds" must be a finite number > 0'],
  ['rateLimit()', (v) => rateLimit({ limit: 1, windowSeconds: 1, timeoutMs: cast(v) }), '"timeoutMs" must be a finite number > 0'],
  [
    'rateLimit()',
    (v) => rateLimit({ limit: 1, windowSeconds: 1, byKind: { user: { limit: 1, windowSeconds: cast(v) } } }),
    '"byKind.user.windowSeconds" must be a finite number > 0',
  ],
  ['bruteForce()', (v) => bruteForce({ maxFailures: cast(v) }), '"maxFailures" must be an integer >= 1'],
  ['bruteForce()', (v) => bruteForce({ windowSeconds: cast(v) }), '"windowSeconds" must be a finite number > 0'],
  ['bruteForce()', (v) => bruteForce({ lockSeconds: cast(v) }), '"lockSeconds" must be a finite number > 0'],
  ['bruteForce()', (v) => bruteForce({ freeRetries: cast(v) }), '"freeRetries" must be an integer >= 0'],
  ['bruteForce()', (v) => bruteForce({ baseDelayMs: cast(v) }), '"baseDelayMs" must be a finite number >= 0'],
  ['bruteForce()', (v) => bruteForce({ maxDelayMs: cast(v) }), '"maxDelayMs" must be a finite number >= 0'],
  ['bruteForce()', (v) => bruteForce({ timeoutMs: cast(v) }), '"timeoutMs" must be a finite number > 0'],
  [
    'authenticate()',
    (v) => authenticate([apiKeyScheme({ manager })], { maxAuthorizationBytes: cast(v) }),
    '"maxAuthorizationBytes" must be an integer >= 1',
  ],
];

/** Negative values, for rules with a lower bound. */
const hasMin = (rule: string): boolean => /(>=|>) \d/.test(rule);

function thrown(build: () => unknown): Error {
  try {
    build();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the factory to throw');
}

const SECRETS = [PEPPER.toString('utf8'), 'rs-secret-value', 's3cret-value', 'short-secret-pepper', 'not-a-fernet-key', FERNET, 'BEGIN'];

describe('configuration is refused at construction, in one message shape', () => {
  it.each(rows)('%s', (_label, build, message) => {
    const error = thrown(build);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message);
    for (const secret of SECRETS) expect(error.message).not.toContain(secret);
  });

  const cases = numeric.flatMap(([where, build, rule]) => [
    ...NON_FINITE.map(
      ([value, shown]) => [`${where} ${rule.split(' ')[0]} = ${shown}`, () => build(value), `${where}: ${rule} (got ${shown})`] as Row,
    ),
    ...(hasMin(rule) ? [[`${where} ${rule.split(' ')[0]} = -1`, () => build(-1), `${where}: ${rule} (got -1)`] as Row] : []),
    ...(rule.includes('integer') ? [[`${where} ${rule.split(' ')[0]} = 1.5`, () => build(1.5), `${where}: ${rule} (got 1.5)`] as Row] : []),
  ]);
  it.each(cases)('%s', (_label, build, message) => {
    const error = thrown(build);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message);
  });

  it('the defaults and valid values of every numeric option are accepted', () => {
    for (const [, build, rule] of numeric) expect(() => build(rule.includes('integer') ? 2 : 0.5)).not.toThrow();
  });

  it('clockToleranceSeconds: NaN cannot let an expired token through: the scheme is never built', () => {
    // What Number(process.env.UNSET) gives; before, `exp <= now - NaN` was always false.
    expect(() =>
      apiJwtScheme({ publicKeys: RSA_PUBLIC, clockToleranceSeconds: Number(process.env['AUTHNZ_TEST_UNSET_VARIABLE']) }),
    ).toThrow('apiJwtScheme(): "clockToleranceSeconds" must be a finite number >= 0 (got NaN)');
  });
});
