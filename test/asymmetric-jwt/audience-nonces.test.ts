/**
 * Asymmetric JWT, second security round: audience binding, bounded nonces (length, bytes, per-subject
 * quota), the whole-window nonce TTL with a clock-skew margin, the 0.x random nonce, and key removal
 * from a user record taking effect at once.
 */
import { join } from 'node:path';
import request from 'supertest';
import { runCli } from '../../src/cli/main.js';
import { AsymmetricJwtVerifier, createAuthHeader, createJwtFetch, createToken } from '../../src/schemes/asymmetric-jwt/index.js';
import { MemoryReplayStore, type ReplayStore } from '../../src/stores/replay.js';
import { FIXTURES, appWith, keyText } from './helpers.js';

const T = 1_700_000_000;
const ed = keyText('ed25519_private.pem');
const rsa = keyText('rsa_private.pem');
const users = () => ({ 'svc-client': { publicKeys: [keyText('ed25519_public.pem'), keyText('rsa_public.pem')] } });

describe('audience', () => {
  const app = appWith({ users: users(), audience: 'orders-api', clock: () => T * 1000 });
  const header = (audience?: string) =>
    createAuthHeader({ username: 'svc-client', privateKey: ed, time: T, ...(audience === undefined ? {} : { audience }) });

  it('a token naming this API is accepted; one for a sibling service or with no aud is refused', async () => {
    expect((await request(app).get('/whoami').set('Authorization', header('orders-api'))).status).toBe(200);
    const sibling = await request(app).get('/whoami').set('Authorization', header('billing-api'));
    expect(sibling.status).toBe(401);
    expect(sibling.body).toMatchObject({ code: 'token_invalid', reason: 'audience_invalid' });
    const none = await request(app).get('/whoami').set('Authorization', header());
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ code: 'token_invalid', reason: 'claim_missing' });
  });

  it('without a configured audience any aud is still refused (PyJWT), so the opt-in is explicit', async () => {
    const plain = appWith({ users: users(), clock: () => T * 1000 });
    const res = await request(plain).get('/whoami').set('Authorization', header('orders-api'));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('audience_invalid');
  });

  it('createJwtFetch and `authnz jwt header --audience` set it', async () => {
    const seen: string[] = [];
    const fetchStub: typeof fetch = async (_input, init) => {
      seen.push(new Headers(init?.headers).get('authorization') ?? '');
      return new Response('ok');
    };
    await createJwtFetch({ username: 'svc-client', privateKey: ed, audience: 'orders-api', clock: () => T * 1000, fetch: fetchStub })(
      'http://api.invalid/x',
    );
    let out = '';
    const code = await runCli(
      ['jwt', 'header', '--subject', 'svc-client', '--private-key', join(FIXTURES, 'keys/ed25519_private.pem'), '--audience', 'orders-api'],
      { out: (t) => (out += t), err: () => undefined },
    );
    expect(code).toBe(0);
    const live = appWith({ users: users(), audience: 'orders-api' });
    for (const h of [seen[0] as string, out.trim()]) {
      const payload = JSON.parse(Buffer.from(h.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
      expect(payload['aud']).toBe('orders-api');
    }
    expect((await request(live).get('/whoami').set('Authorization', out.trim())).status).toBe(200);
  });
});

describe('nonce bounds', () => {
  it('a nonce longer than maxNonceLength (default 64) is refused before it reaches the store', async () => {
    const store = new MemoryReplayStore();
    const app = appWith({ users: users(), replayStore: store, clock: () => T * 1000 });
    const ok = await request(app)
      .get('/whoami')
      .set('Authorization', createAuthHeader({ username: 'svc-client', privateKey: ed, time: T, nonce: 'n'.repeat(64) }));
    expect(ok.status).toBe(200);
    const long = await request(app)
      .get('/whoami')
      .set('Authorization', createAuthHeader({ username: 'svc-client', privateKey: ed, time: T, nonce: 'n'.repeat(3000) }));
    expect(long.status).toBe(401);
    expect(long.body.reason).toBe('nonce_too_long');
    expect(store.size).toBe(1);
  });

  it('the memory store is bounded by bytes: over maxBytes claims get 503 and nothing is dropped', async () => {
    // One subject may take the whole store here, so that it is the store's byte cap that answers.
    const store = new MemoryReplayStore({ maxBytes: 10_000, maxBytesPerSubject: 10_000 });
    const claim = (i: number) => store.claim({ subject: 'u', time: '1', nonce: `${i}`.padStart(1000, 'x'), ttlMs: 60_000 });
    const results: Array<boolean | string> = [];
    for (let i = 0; i < 8; i++) results.push(await claim(i).catch((e: { reason: string }) => e.reason));
    expect(results.slice(0, 4)).toEqual([true, true, true, true]);
    expect(results.slice(4)).toEqual(['replay_store_full', 'replay_store_full', 'replay_store_full', 'replay_store_full']);
    expect(store.bytes).toBeLessThanOrEqual(10_000);
    expect(await claim(0)).toBe(false);
  });

  it('one subject cannot fill the store: over maxEntriesPerSubject it gets 429, others still claim', async () => {
    const store = new MemoryReplayStore({ maxEntries: 100, maxEntriesPerSubject: 3 });
    const claim = (subject: string, nonce: string) => store.claim({ subject, time: '1', nonce, ttlMs: 60_000 });
    for (const n of ['a', 'b', 'c']) expect(await claim('greedy', n)).toBe(true);
    await expect(claim('greedy', 'd')).rejects.toMatchObject({ code: 'rate_limited', status: 429, reason: 'replay_store_full' });
    expect(await claim('other', 'a')).toBe(true);
    expect(await claim('greedy', 'a')).toBe(false);
  });
});

describe('nonce lifetime', () => {
  it('a nonce is remembered for the whole window: a replay 38 s later, still inside ±20 s, is refused', async () => {
    let now = (T - 19) * 1000;
    const verifier = new AsymmetricJwtVerifier({
      users: users(),
      clock: () => now,
      replayStore: new MemoryReplayStore({ clock: () => now }),
    });
    const token = createToken({ username: 'svc-client', privateKey: ed, time: T });
    await expect(verifier.verify(token)).resolves.toMatchObject({ username: 'svc-client' });
    now += 1500;
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'replay', reason: 'replayed' });
    now = (T + 19) * 1000;
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'replay', reason: 'replayed' });
  });

  it('two instances sharing a store, clocks 5 s apart: the slower one cannot accept a replay after the faster one forgot', async () => {
    let now = (T - 20) * 1000; // instance A's clock, which is also the store's
    // A store that keeps each nonce exactly ttlMs by this clock, as Redis's PX does.
    const used = new Map<string, number>();
    const store: ReplayStore = {
      async claim(c) {
        const key = `${c.subject}|${c.time}|${c.nonce}`;
        if ((used.get(key) ?? 0) > now) return false;
        used.set(key, now + c.ttlMs);
        return true;
      },
    };
    const a = new AsymmetricJwtVerifier({ users: users(), clock: () => now, replayStore: store });
    const b = new AsymmetricJwtVerifier({ users: users(), clock: () => now - 5000, replayStore: store });
    const token = createToken({ username: 'svc-client', privateKey: ed, time: T });
    await expect(a.verify(token)).resolves.toMatchObject({ username: 'svc-client' });
    now = (T + 22) * 1000; // A's window is over; B's clock reads T + 17, inside its window
    await expect(b.verify(token)).rejects.toMatchObject({ code: 'replay' });
  });
});

describe("compat '0.x' random nonce", () => {
  it('createAuthHeader, createJwtFetch and `jwt header --legacy` make a float nonce in (0, 1) that a 0.x server accepts', async () => {
    const headers = [
      createAuthHeader({ username: 'svc-client', privateKey: rsa, compat: '0.x' }),
      createAuthHeader({ username: 'svc-client', privateKey: rsa, compat: '0.x' }),
    ];
    const fetchStub: typeof fetch = async (_input, init) => {
      headers.push(new Headers(init?.headers).get('authorization') ?? '');
      return new Response('ok');
    };
    await createJwtFetch({ username: 'svc-client', privateKey: rsa, compat: '0.x', fetch: fetchStub })('http://api.invalid/x');
    let out = '';
    expect(
      await runCli(['jwt', 'header', '--subject', 'svc-client', '--private-key', join(FIXTURES, 'keys/rsa_private.pem'), '--legacy'], {
        out: (t) => (out += t),
        err: () => undefined,
      }),
    ).toBe(0);
    headers.push(out.trim());
    const app = appWith({ users: users(), compat: '0.x' });
    const nonces = new Set<number>();
    for (const h of headers) {
      const payload = JSON.parse(Buffer.from(h.split('.')[1] as string, 'base64url').toString()) as { nonce: unknown };
      expect(typeof payload.nonce).toBe('number');
      expect(payload.nonce as number).toBeGreaterThan(0);
      expect(payload.nonce as number).toBeLessThan(1);
      nonces.add(payload.nonce as number);
      const res = await request(app).get('/whoami').set('Authorization', h);
      expect(res.status).toBe(200);
      expect(res.body.subject).toBe('svc-client');
    }
    expect(nonces.size).toBe(4);
  });
});

describe('stored keys', () => {
  it('removing a key from user.keys in place takes effect on the next request', async () => {
    const record = { publicKeys: [keyText('ed25519_public.pem'), keyText('rsa_public.pem')] };
    const app = appWith({ users: { 'svc-client': record } });
    const signed = () => createAuthHeader({ username: 'svc-client', privateKey: ed });
    expect((await request(app).get('/whoami').set('Authorization', signed())).status).toBe(200);
    record.publicKeys.splice(0, 1); // the Ed25519 key is compromised: remove it
    const res = await request(app).get('/whoami').set('Authorization', signed());
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('key_unknown');
    // The remaining key still works.
    expect(
      (
        await request(app)
          .get('/whoami')
          .set('Authorization', createAuthHeader({ username: 'svc-client', privateKey: rsa }))
      ).status,
    ).toBe(200);
  });
});
