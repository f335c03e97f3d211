/** Each fixed weakness of python-kmsauth 0.6.3 (docs/kmsauth.md, "Decisions") pinned by a test. */
import { KmsauthContextError, KmsTokenValidator, KmsauthValidationError } from '../../src/index.js';
import { formatPlaintext } from '../../src/schemes/kmsauth/token.js';
import { motoDouble, T0, vectors } from './moto-double.js';

const svcKey = vectors.keys['alias/authnz-test']!;
const v1 = vectors.vectors.find((v) => v.label === 'v1 service')!;
const v2 = vectors.vectors.find((v) => v.label === 'v2 service')!;

function validator(overrides: Partial<ConstructorParameters<typeof KmsTokenValidator>[0]> = {}, kms = motoDouble()) {
  return new KmsTokenValidator({
    authKey: ['alias/authnz-test'],
    userAuthKey: ['alias/authnz-user-test'],
    toAuthContext: 'confidant-test',
    kms,
    clock: () => T0,
    ...overrides,
  });
}

async function mint(
  plaintext: string,
  context: Record<string, string> = { from: 'my-service', to: 'confidant-test', user_type: 'service' },
): Promise<string> {
  const out = await motoDouble().encrypt({ KeyId: 'alias/authnz-test', Plaintext: Buffer.from(plaintext), EncryptionContext: context });
  return Buffer.from(out.CiphertextBlob!).toString('base64');
}

async function error(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KmsauthValidationError) return e.message;
    throw e;
  }
  return 'accepted';
}

describe('kmsauth decisions', () => {
  it('D1: the lifetime is the full signed span (Python wraps it at one day)', async () => {
    const day = 86_400_000;
    const long = await mint(formatPlaintext(T0 - 180_000, T0 - 180_000 + day + 300_000)); // Python: delta 5 min, accepted
    expect(await error(validator().decryptToken(v2.username, long))).toBe('Authentication error. Token lifetime exceeded.');
    const inverted = await mint(formatPlaintext(T0 + 60_000, T0));
    expect(await error(validator().decryptToken(v2.username, inverted))).toBe('Authentication error. Token lifetime exceeded.');
    const exact = await mint(formatPlaintext(T0 - 180_000, T0 - 180_000 + 3_600_000));
    expect(await error(validator().decryptToken(v2.username, exact))).toBe('accepted');
  });

  it('D2: the cache key includes the version (Python accepted a cached v1 token as v2)', async () => {
    const kms = motoDouble();
    const val = validator({}, kms);
    expect(await error(val.decryptToken(v1.username, v1.token))).toBe('accepted');
    expect(await error(val.decryptToken(`2/service/${v1.username}`, v1.token))).toBe('Authentication error. General error.');
    expect(kms.calls.decrypt).toBe(2);
  });

  it('D2: the cache key includes the user type: a cached 2/service/x token is not accepted as 2/user/x', async () => {
    const kms = motoDouble();
    const val = validator({}, kms);
    expect(v2.username.startsWith('2/service/')).toBe(true);
    expect(await error(val.decryptToken(v2.username, v2.token))).toBe('accepted');
    // As a user token it must be checked again (user key, user_type context), not served from the cache.
    const asUser = v2.username.replace('2/service/', '2/user/');
    expect(await error(val.decryptToken(asUser, v2.token))).not.toBe('accepted');
    expect(kms.calls.decrypt).toBe(2);
  });

  it('D3: alias ARNs, key ids and key ARNs all match; key ARNs need no DescribeKey', async () => {
    const aliasArn = svcKey.Arn.replace(/key\/.*$/, 'alias/authnz-test');
    for (const key of [aliasArn, svcKey.KeyId, svcKey.Arn, svcKey.Arn.replace('arn:aws:', 'arn:aws-us-gov:')]) {
      const kms = motoDouble();
      const r = validator({ authKey: [key] }, kms).decryptToken(v2.username, v2.token);
      if (key.includes('aws-us-gov')) {
        // A key ARN of another partition is taken as an ARN (no DescribeKey) and simply does not match.
        expect(await error(r)).toBe('Authentication error (wrong KMS key).');
        expect(kms.calls.describeKey).toBe(0);
        continue;
      }
      expect((await r).keyAlias).toBe(key);
      expect(kms.calls.describeKey).toBe(key === svcKey.Arn ? 0 : 1);
    }
  });

  it('D4: a key that cannot be resolved is skipped, not fatal, and retried later', async () => {
    const kms = motoDouble();
    const val = validator({ authKey: ['alias/missing', 'alias/authnz-test'] }, kms);
    expect((await val.decryptToken(v2.username, v2.token)).keyAlias).toBe('alias/authnz-test');
    expect(await error(val.decryptToken(v1.username, v1.token))).toBe('accepted');
    expect(kms.calls.describeKey).toBe(3); // missing twice (not memoised), the real alias once
  });

  it('D5: strict base64 (Python discarded stray characters)', async () => {
    const variants = [
      v2.token.slice(0, 40) + '\n' + v2.token.slice(40),
      v2.token.replace(/\+/g, '-').replace(/\//g, '_'),
      v2.token.replace(/=+$/, ''),
      'abc',
      '',
    ];
    expect(variants[1]).not.toBe(v2.token);
    const kms = motoDouble();
    for (const t of variants)
      expect(await error(validator({}, kms).decryptToken(v2.username, t))).toBe('Authentication error. General error.');
    expect(kms.calls.decrypt).toBe(0);
  });

  it('D6: a non-numeric version is "Unsupported username format." (Python raised ValueError → 500)', async () => {
    for (const name of ['x/service/a', '２/service/a', '-1/service/a', 'a/b']) {
      expect(await error(validator().decryptToken(name, v2.token))).toBe('Unsupported username format.');
    }
    expect(await error(validator().decryptToken('3/service/a', v2.token))).toBe('Unacceptable token version.');
    expect(await error(validator({ minimumTokenVersion: 2 }).decryptToken(v1.username, v1.token))).toBe('Unacceptable token version.');
  });

  it('D11: strict time format (Python strptime took unpadded fields)', async () => {
    const lenient = await mint('{"not_before": "2023123T235700Z", "not_after": "20240101T000700Z"}');
    expect(await error(validator().decryptToken(v2.username, lenient))).toBe('Authentication error. Missing validity.');
    const missing = await mint('{"not_before": "20231231T235700Z"}');
    expect(await error(validator().decryptToken(v2.username, missing))).toBe('Authentication error. Missing validity.');
    const notObject = await mint('[1, 2]');
    expect(await error(validator().decryptToken(v2.username, notObject))).toBe('Authentication error. Missing validity.');
  });

  it('D13: an unsupported user_type is refused before any KMS call', async () => {
    const kms = motoDouble();
    expect(await error(validator({}, kms).decryptToken('2/admin/x', v2.token))).toBe('Authentication error. Unsupported user_type.');
    expect(kms.calls.decrypt).toBe(0);
  });

  it('scoped keys: accepted for services, with their account', async () => {
    const r = await validator({ authKey: null, scopedAuthKeys: { 'alias/authnz-test': '999988887777' } }).decryptToken(
      v2.username,
      v2.token,
    );
    expect([r.keyAlias, r.account]).toEqual(['alias/authnz-test', '999988887777']);
    expect(await error(validator({ authKey: null }).decryptToken(v2.username, v2.token))).toBe('Authentication error (wrong KMS key).');
  });

  it('configuration errors carry python-kmsauth messages', () => {
    const make = (o: Partial<ConstructorParameters<typeof KmsTokenValidator>[0]>) => () => validator(o);
    expect(make({ minimumTokenVersion: 0 })).toThrow(new KmsauthContextError('Invalid minimum_token_version provided.'));
    expect(make({ maximumTokenVersion: 3 })).toThrow(new KmsauthContextError('Invalid maximum_token_version provided.'));
    expect(make({ minimumTokenVersion: 2, maximumTokenVersion: 1 })).toThrow(
      'minimum_token_version can not be greater than self.minimum_token_version',
    );
    expect(make({ authKey: 5 as unknown as string })).toThrow('auth_key and user_auth_key must be a string, list, or None');
    const logs: string[] = [];
    const quiet = () => undefined;
    validator({
      extraContext: { from: 'x', action: 'create' },
      logger: { debug: quiet, info: quiet, error: quiet, warn: (_fields, m) => logs.push(m ?? '') },
    });
    expect(logs).toEqual(['new KmsTokenValidator(): from in extra_context will be ignored.']);
  });
});

describe('kmsauth answer cache (a hit is a lookup and a clock comparison)', () => {
  it('a cached token is refused on a hit once the clock passes not_after or is before not_before, with no Decrypt', async () => {
    const kms = motoDouble();
    let now = T0;
    const val = validator({ clock: () => now }, kms);
    const token = await mint(formatPlaintext(T0 - 60_000, T0 + 60_000));
    const first = await val.decryptToken(v2.username, token);
    expect(await val.decryptToken(v2.username, token)).toBe(first); // the same answer, served from the cache
    expect(Object.isFrozen(first)).toBe(true);
    now = T0 + 60_000; // inclusive bound
    expect(await error(val.decryptToken(v2.username, token))).toBe('accepted');
    now = T0 + 60_001;
    await expect(val.decryptToken(v2.username, token)).rejects.toMatchObject({ code: 'expired' });
    now = T0 - 60_001;
    await expect(val.decryptToken(v2.username, token)).rejects.toMatchObject({ code: 'not_yet_valid' });
    expect(kms.calls.decrypt).toBe(1);
  });

  it('the key separates username from token: moving characters across the boundary is a new credential', async () => {
    const kms = motoDouble();
    const val = validator({}, kms);
    expect(await error(val.decryptToken(v2.username, v2.token))).toBe('accepted');
    // Four characters, so the shifted token is still valid base64 and reaches KMS.
    expect(v2.username.slice(-4)).toMatch(/^[A-Za-z0-9+/]{4}$/);
    const shifted = val.decryptToken(v2.username.slice(0, -4), `${v2.username.slice(-4)}${v2.token}`);
    expect(await error(shifted)).not.toBe('accepted');
    expect(kms.calls.decrypt).toBe(2);
  });

  it('counts token_version_<v> on hits as on misses (python-kmsauth counts every call)', async () => {
    const names: string[] = [];
    const val = validator({ stats: { incr: (n) => names.push(n), timing: () => undefined } });
    await val.decryptToken(v2.username, v2.token);
    await val.decryptToken(v2.username, v2.token);
    await val.decryptToken(v1.username, v1.token);
    expect(names).toEqual(['token_version_2', 'token_version_2', 'token_version_1']);
  });

  it('a token cached for one validator does not answer for another with a different "to" context', async () => {
    const kms = motoDouble();
    expect(await error(validator({}, kms).decryptToken(v2.username, v2.token))).toBe('accepted');
    expect(await error(validator({ toAuthContext: 'another-service' }, kms).decryptToken(v2.username, v2.token))).not.toBe('accepted');
  });
});

describe('kmsauth: a signed version ("+2/service/x") is refused (python-kmsauth\'s int() accepts it)', () => {
  it('"+2" and "2_0" are 400 username_format over HTTP; the same token as "2/…" is accepted', async () => {
    const { default: express } = await import('express');
    const { default: request } = await import('supertest');
    const { authenticate, kmsauthScheme } = await import('../../src/index.js');
    const app = express();
    app.get('/r', authenticate([kmsauthScheme({ validator: validator() })]), (req, res) => {
      res.send(req.principal?.subject);
    });
    for (const version of ['+2', '2_0']) {
      const res = await request(app)
        .get('/r')
        .set({ 'X-Auth-From': `${version}/service/my-service`, 'X-Auth-Token': v2.token });
      expect([version, res.status, res.body.reason]).toEqual([version, 400, 'username_format']);
    }
    const ok = await request(app).get('/r').set({ 'X-Auth-From': v2.username, 'X-Auth-Token': v2.token });
    expect([ok.status, ok.text]).toEqual([200, 'my-service']);
  });
});
