/**
 * Options of users migrating from express-oauth2-jwt-bearer or passport-jwt: unknown names warn and
 * name our equivalent, a logger at the wrong level warns, HMAC shared secrets are refused with a
 * message that says so (never "could not read the public key"), and an http issuer is refused as an
 * http jwksUri is.
 */
import { generateKeyPairSync } from 'node:crypto';
import { jwtBearerScheme, type JwtBearerSchemeOptions, type Logger } from '../../src/index.js';

const ISS = 'https://issuer.example.test/';
const AUD = 'https://api.example.test';
const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const SECRET_MESSAGE = "shared secrets (HS256/384/512) are not supported: verify with the issuer's public key (jwksUri or publicKeys)";

function recorder(): { logger: Logger; warnings: Array<{ code: string; option: unknown; message: string }> } {
  const warnings: Array<{ code: string; option: unknown; message: string }> = [];
  const none = (): void => undefined;
  return {
    warnings,
    logger: {
      debug: none,
      info: none,
      error: none,
      warn: (fields, message) => void warnings.push({ code: String(fields['code']), option: fields['option'], message: message ?? '' }),
    },
  };
}

const base = { issuer: ISS, audience: AUD, publicKeys: [publicKey], dpop: { mode: 'disabled' as const } };
const build = (extra: Record<string, unknown>, logger?: Logger) =>
  jwtBearerScheme({ ...base, ...(logger === undefined ? {} : { logger }), ...extra } as JwtBearerSchemeOptions);

describe('jwtBearerScheme: options of other libraries', () => {
  it.each([
    ['issuerBaseURL', 'https://issuer.example.test/', /"issuer"/],
    ['tokenSigningAlg', 'RS256', /"algorithms"/],
    ['clockTolerance', 5, /"clockToleranceSeconds", in seconds/],
    ['maxTokenAge', 600, /"maxTokenAgeSeconds", in seconds/],
    ['jwtFromRequest', () => 'x', /Authorization: Bearer/],
    ['ignoreExpiration', true, /not supported: expired tokens are always refused/],
    ['jsonWebTokenOptions', { clockTolerance: 5 }, /at the top level/],
    ['authRequired', false, /optional: true/],
    ['keys', [publicKey], /"publicKeys"/],
    ['cacheMaxAge', 600_000, /jwks: \{ cacheSeconds \}/],
  ])('%s warns unknown_option and names our equivalent', (name, value, hint) => {
    const seen = recorder();
    build({ [name]: value }, seen.logger);
    expect(seen.warnings).toHaveLength(1);
    expect(seen.warnings[0]).toMatchObject({ code: 'unknown_option', option: name });
    expect(seen.warnings[0]?.message).toMatch(hint);
    expect(seen.warnings[0]?.message).toMatch(/it is ignored$/);
  });

  it('a typo still gets a "did you mean"', () => {
    const seen = recorder();
    build({ clockToleranceSecond: 5 }, seen.logger);
    expect(seen.warnings.map((w) => w.message)).toEqual([
      'jwtBearerScheme(): unknown option "clockToleranceSecond" (did you mean "clockToleranceSeconds"?); it is ignored',
    ]);
  });

  it('a logger or validate inside dpop or an issuer warns, and the top-level one receives it', () => {
    const seen = recorder();
    const inner = recorder();
    build({ dpop: { mode: 'disabled', logger: inner.logger } }, seen.logger);
    expect(seen.warnings).toEqual([
      {
        code: 'unknown_option',
        option: 'dpop.logger',
        message: expect.stringMatching(/"dpop.logger" \(give "logger" and "validate" at the top level/) as unknown as string,
      },
    ]);
    expect(inner.warnings).toEqual([]);
    const several = recorder();
    jwtBearerScheme({
      issuers: [{ issuer: ISS, audience: AUD, publicKeys: [publicKey], validate: false } as never],
      logger: several.logger,
      dpop: { mode: 'disabled' },
    });
    expect(several.warnings.map((w) => w.option)).toEqual(['issuers[0].validate']);
  });

  it('validate: { unknown_option: false } silences them', () => {
    const seen = recorder();
    build({ clockTolerance: 5, validate: { unknown_option: false } }, seen.logger);
    expect(seen.warnings).toEqual([]);
  });
});

describe('jwtBearerScheme: shared secrets are refused at construction, saying so', () => {
  it.each([
    ['secret', { secret: 'a-shared-secret-of-32-characters!!' }, '"secret"'],
    ['secretOrKey', { secretOrKey: 'a-shared-secret-of-32-characters!!' }, '"secretOrKey"'],
    [
      'secret inside an issuer',
      { issuer: undefined, issuers: [{ issuer: ISS, audience: AUD, publicKeys: [publicKey], secret: 'x' }] },
      '"issuers[0].secret"',
    ],
    ['a string key that is no public key', { publicKeys: ['a-shared-secret-of-32-characters!!'] }, '"publicKeys[0]"'],
    ['a Buffer key that is no public key', { publicKeys: [Buffer.from('a-shared-secret-of-32-characters!!')] }, '"publicKeys[0]"'],
    ['algorithms with HS256', { algorithms: ['HS256'] }, '"algorithms"'],
    ['algorithms with HS512 among others', { algorithms: ['RS256', 'HS512'] }, '"algorithms"'],
  ])('%s', (_name, extra, option) => {
    let thrown: unknown;
    try {
      build(extra);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toBe(`jwtBearerScheme(): ${option}: ${SECRET_MESSAGE}`);
    expect((thrown as Error).message).not.toMatch(/could not read/);
    expect((thrown as Error).message).not.toContain('a-shared-secret');
  });

  it('an unreadable PEM is still an unreadable key, not a shared secret', () => {
    expect(() => build({ publicKeys: ['-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----'] })).toThrow(
      'jwtBearerScheme(): "publicKeys[0]" must be a readable public key',
    );
  });
});

describe('jwtBearerScheme: an http issuer is refused as an http jwksUri is', () => {
  const message = (option: string) =>
    `jwtBearerScheme(): "${option}" must be an absolute https URL (http only for loopback) (got a http URL)`;
  it('issuer (discovery) and jwksUri give the same TypeError shape', () => {
    expect(() => jwtBearerScheme({ issuer: 'http://issuer.example.test/', audience: AUD })).toThrow(new TypeError(message('issuer')));
    expect(() => jwtBearerScheme({ issuer: ISS, audience: AUD, jwksUri: 'http://issuer.example.test/jwks' })).toThrow(
      new TypeError(message('jwksUri')),
    );
    expect(() => jwtBearerScheme({ issuer: 'http://issuer.example.test/', audience: AUD, publicKeys: [publicKey] })).toThrow(
      new TypeError(message('issuer')),
    );
    expect(() =>
      jwtBearerScheme({
        issuers: [
          { issuer: ISS, audience: AUD, publicKeys: [publicKey] },
          { issuer: 'http://b.example.test/', audience: AUD },
        ],
      }),
    ).toThrow(new TypeError(message('issuers[1].issuer')));
  });

  it('http on loopback and a non-URL issuer with static keys are accepted', () => {
    expect(() => jwtBearerScheme({ issuer: 'http://127.0.0.1:8080/', audience: AUD, dpop: { mode: 'disabled' } })).not.toThrow();
    expect(() =>
      jwtBearerScheme({ issuer: 'auth_user', audience: AUD, publicKeys: [publicKey], dpop: { mode: 'disabled' } }),
    ).not.toThrow();
  });
});
