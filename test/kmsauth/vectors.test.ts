/** The real python-kmsauth 0.6.3 tokens, replayed through the moto-format double with a frozen clock. */
import express from 'express';
import request from 'supertest';
import { authenticate, kmsauthScheme, KmsTokenValidator, KmsauthValidationError, type KmsauthStats } from '../../src/index.js';
import { instant, motoDouble, T0, vectors } from './moto-double.js';

function validator(now: () => number, extra?: Record<string, string>, kms = motoDouble(), stats?: KmsauthStats) {
  return new KmsTokenValidator({
    authKey: ['alias/authnz-test'],
    userAuthKey: ['alias/authnz-user-test'],
    toAuthContext: vectors.to_auth_context,
    kms,
    clock: now,
    ...(extra ? { extraContext: extra } : {}),
    ...(stats ? { stats } : {}),
  });
}

async function outcome(v: KmsTokenValidator, username: string, token: string): Promise<{ ok: true; key_alias: string | null } | { ok: false; error: string }> {
  try {
    const r = await v.decryptToken(username, token);
    return { ok: true, key_alias: r.keyAlias };
  } catch (e) {
    if (e instanceof KmsauthValidationError) return { ok: false, error: e.message };
    throw e;
  }
}

const extraFor = (ctx: Record<string, string>) => {
  const extra = Object.fromEntries(Object.entries(ctx).filter(([k]) => !['from', 'to', 'user_type'].includes(k)));
  return Object.keys(extra).length ? extra : undefined;
};

describe('python-kmsauth 0.6.3 vectors', () => {
  const cases = vectors.vectors.flatMap((v) => Object.entries(v.validation_by_real_kmsauth_with_frozen_now).map(([label, expected]) => [v.label, label, v, expected] as const));
  expect(cases.length).toBe(36);

  it.each(cases)('%s @ %s (fresh validator, cache miss)', async (_l, label, v, expected) => {
    const now = instant(label, v.not_after);
    const r = await outcome(validator(() => now, extraFor(v.validator_decrypt_encryption_context)), v.username, v.token);
    expect(r).toEqual(expected);
  });

  it.each(vectors.vectors)('$label: every instant on one validator (cache hits re-check the window)', async (v) => {
    let now = T0;
    const kms = motoDouble();
    const val = validator(() => now, extraFor(v.validator_decrypt_encryption_context), kms);
    for (const [label, expected] of Object.entries(v.validation_by_real_kmsauth_with_frozen_now)) {
      now = instant(label, v.not_after);
      expect(await outcome(val, v.username, v.token)).toEqual(expected);
    }
    // The lifetime-61 token never passes, so it is never cached; the others decrypt once.
    expect(kms.calls.decrypt).toBe(v.label.includes('61') ? 6 : 1);
  });

  it('the extra-context vector fails without the extra context, and others fail with it', async () => {
    const extra = vectors.vectors.find((v) => v.label.includes('action=create'))!;
    expect(await outcome(validator(() => T0), extra.username, extra.token)).toEqual({ ok: false, error: 'Authentication error. General error.' });
    const plain = vectors.vectors.find((v) => v.label === 'v2 service')!;
    expect(await outcome(validator(() => T0, { action: 'create' }), plain.username, plain.token)).toEqual({ ok: false, error: 'Authentication error. General error.' });
  });

  it('a service token presented as a user (and vice versa) fails: wrong context or wrong key', async () => {
    const svc = vectors.vectors.find((v) => v.label === 'v2 service')!;
    expect(await outcome(validator(() => T0), '2/user/my-service', svc.token)).toEqual({ ok: false, error: 'Authentication error. General error.' });
    const user = vectors.vectors.find((v) => v.label === 'v2 user')!;
    const onlyServiceKeys = new KmsTokenValidator({ authKey: 'alias/authnz-test', userAuthKey: 'alias/authnz-test', toAuthContext: 'confidant-test', kms: motoDouble(), clock: () => T0 });
    expect(await outcome(onlyServiceKeys, user.username, user.token)).toEqual({ ok: false, error: 'Authentication error (wrong KMS key).' });
  });

  it('stats: token_version on miss and hit, kms_decrypt_token timed on the miss only', async () => {
    const events: string[] = [];
    const stats: KmsauthStats = { incr: (n) => events.push(`incr ${n}`), timing: (n, ms) => { expect(ms).toBeGreaterThanOrEqual(0); events.push(`timer ${n}`); } };
    const v = vectors.vectors[1]!;
    const val = validator(() => T0, undefined, motoDouble(), stats);
    await val.decryptToken(v.username, v.token);
    await val.decryptToken(v.username, v.token);
    expect(events).toEqual(['incr token_version_2', 'timer kms_decrypt_token', 'incr token_version_2']);
  });

  describe('over HTTP: X-Auth-From/X-Auth-Token and Basic give the same result', () => {
    for (const v of vectors.vectors) {
      it(v.label, async () => {
        let now = T0;
        const val = validator(() => now, extraFor(v.validator_decrypt_encryption_context));
        const app = express();
        app.get('/p', authenticate([kmsauthScheme({ validator: val, userTypes: ['service', 'user'] })]), (req, res) => {
          res.json(req.principal);
        });
        for (const [label, expected] of Object.entries(v.validation_by_real_kmsauth_with_frozen_now)) {
          now = instant(label, v.not_after);
          const a = await request(app).get('/p').set('X-Auth-From', v.http_headers['X-Auth-From']!).set('X-Auth-Token', v.http_headers['X-Auth-Token']!);
          const b = await request(app).get('/p').set('Authorization', v.http_basic_authorization);
          for (const res of [a, b]) {
            if (expected.ok) {
              expect(res.status).toBe(200);
              expect(res.body).toMatchObject({ subject: v.generator_auth_context.from, kind: v.generator_auth_context.user_type ?? 'service', scheme: 'kmsauth', details: { keyAlias: expected.key_alias, version: v.token_version } });
            } else {
              expect(res.status).toBe(401);
              expect(res.body.detail).toBe(expected.error);
              expect(JSON.stringify(res.body)).not.toContain(v.token.slice(0, 40));
            }
          }
          expect(a.body).toEqual(b.body);
        }
      });
    }
  });
});
