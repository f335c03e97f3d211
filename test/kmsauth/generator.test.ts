/** The generator: Python-identical plaintext, reuse until 3 minutes before expiry, the 0600 cache file. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsauthContextError, KmsTokenGenerator, KmsTokenValidator } from '../../src/index.js';
import { motoDouble, T0, vectors } from './moto-double.js';

const ctx = { from: 'my-service', to: 'confidant-test', user_type: 'service' };

describe('KmsTokenGenerator', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kmsauth-gen-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('produces the exact plaintext python-kmsauth produces, and a token our validator accepts', async () => {
    const kms = motoDouble();
    let now = T0 + 999; // milliseconds are dropped, as Python's formatting drops microseconds
    const gen = new KmsTokenGenerator({ authKey: 'alias/authnz-test', authContext: ctx, kms, clock: () => now });
    const token = await gen.getToken();
    const blob = Buffer.from(token, 'base64');
    const plain = await kms.decrypt({ CiphertextBlob: blob, EncryptionContext: ctx });
    expect(Buffer.from(plain.Plaintext!).toString()).toBe(vectors.vectors[1]!.plaintext);
    expect(token.startsWith('YmRkNjQwZmIt')).toBe(true);
    expect(gen.getUsername()).toBe('2/service/my-service');
    const val = new KmsTokenValidator({
      authKey: 'alias/authnz-test',
      userAuthKey: null,
      toAuthContext: 'confidant-test',
      kms,
      clock: () => now,
    });
    expect((await val.decryptToken(gen.getUsername(), token)).from).toBe('my-service');
    // Reuse until not_after − 3 min (T0 + 4 min), then a new token.
    now = T0 + 240_000;
    expect(await gen.getToken()).toBe(token);
    now = T0 + 241_000;
    expect(await gen.getToken()).not.toBe(token);
    expect(kms.calls.encrypt).toBe(2);
    const v1 = new KmsTokenGenerator({ authKey: 'alias/authnz-test', authContext: { from: 'a', to: 'b' }, tokenVersion: 1, kms });
    expect(v1.getUsername()).toBe('a');
    expect(await v1.getHeaders()).toEqual({ 'X-Auth-From': 'a', 'X-Auth-Token': expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) });
    expect(Buffer.from((await v1.getBasicAuthorization()).slice(6), 'base64').toString()).toMatch(/^a:[A-Za-z0-9+/]+=*$/);
  });

  it('cache file: 0600 in a 0700 directory, Python layout, shared across instances, invalidated by key or context', async () => {
    const file = join(dir, 'sub', 'confidant_token');
    const kms = motoDouble();
    const make = (over: Partial<ConstructorParameters<typeof KmsTokenGenerator>[0]> = {}) =>
      new KmsTokenGenerator({ authKey: 'alias/authnz-test', authContext: ctx, kms, clock: () => T0, tokenCacheFile: file, ...over });
    const token = await make().getToken();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toMatchObject({ token, not_after: '20240101T000700Z', auth_context: ctx });
    expect(await make().getToken()).toBe(token);
    expect(kms.calls.encrypt).toBe(1);
    expect(await make({ authKey: 'alias/authnz-user-test' }).getToken()).not.toBe(token); // D8
    expect(await make({ authContext: { ...ctx, from: 'other' } }).getToken()).not.toBe(token);
    expect(kms.calls.encrypt).toBe(3);
  });

  it('configuration errors (python-kmsauth messages, plus D9 and D10)', () => {
    const kms = motoDouble();
    const make = (authContext: Record<string, string>, tokenVersion?: number) => () =>
      new KmsTokenGenerator({ authKey: 'k', authContext, kms, ...(tokenVersion ? { tokenVersion } : {}) });
    expect(make({ to: 'x', user_type: 'service' })).toThrow(new KmsauthContextError('from missing from auth_context.'));
    expect(make({ from: 'x', user_type: 'service' })).toThrow('to missing from auth_context.');
    expect(make({ from: 'x', to: 'y' })).toThrow('user_type missing from auth_context.');
    expect(make(ctx, 3)).toThrow('Invalid token_version provided.');
    expect(make(ctx, -1)).toThrow('Invalid token_version provided.');
    expect(make(ctx, 1)).toThrow(/user_type must not be in auth_context for token_version 1/);
  });

  it('KMS refusal is KmsauthGenerationError', async () => {
    const gen = new KmsTokenGenerator({ authKey: 'alias/nope', authContext: ctx, kms: motoDouble() });
    await expect(gen.getToken()).rejects.toMatchObject({ name: 'KmsauthGenerationError' });
  });
});

describe('KmsTokenGenerator: a cache file written by python-kmsauth is not reused', () => {
  it("a file with only Python's fields (token, not_after, auth_context) gets a new token, written over it in the same layout plus ours", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsauth-pyfile-'));
    try {
      const file = join(dir, 'confidant_token');
      // What python-kmsauth 0.6.3 writes: no key, version, lifetime, region or endpoint.
      writeFileSync(file, JSON.stringify({ token: 'cHl0aG9uLXRva2Vu', not_after: '20240101T005700Z', auth_context: ctx }));
      const kms = motoDouble();
      const token = await new KmsTokenGenerator({
        authKey: 'alias/authnz-test',
        authContext: ctx,
        kms,
        clock: () => T0,
        tokenCacheFile: file,
      }).getToken();
      expect(token).not.toBe('cHl0aG9uLXRva2Vu');
      expect(kms.calls.encrypt).toBe(1);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
        token,
        not_after: '20240101T000700Z',
        auth_context: ctx,
        key: 'alias/authnz-test',
        version: 2,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
