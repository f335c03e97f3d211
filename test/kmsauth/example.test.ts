/** The example app's kmsauth route: its printed curl lines work, and its local KMS keys survive a restart. */
import express from 'express';
import request from 'supertest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountKmsauth } from '../../examples/express-app/routes/kmsauth.js';

async function start(devDir: string) {
  const closers: Array<() => Promise<void> | void> = [];
  const app = express();
  const curls = await mountKmsauth(app, { devDir, baseUrl: 'http://127.0.0.1:3000', onClose: (fn) => closers.push(fn) });
  return {
    app,
    curls,
    close: async () => {
      for (const fn of closers.reverse()) await fn();
    },
  };
}

it('curl lines authenticate; a restart reuses the local KMS key, so earlier tokens stay valid', async () => {
  delete process.env.KMSAUTH_KEY;
  const devDir = mkdtempSync(join(tmpdir(), 'kmsauth-example-'));
  try {
    const first = await start(devDir);
    let from: string, token: string;
    try {
      const m = /-H 'X-Auth-From: ([^']+)' -H 'X-Auth-Token: ([^']+)'/.exec(first.curls[0]!);
      [from, token] = [m![1]!, m![2]!];
      expect(first.curls[1]).toContain(`-u '${from}:${token}'`);
      const res = await request(first.app).get('/kmsauth/whoami').set({ 'X-Auth-From': from, 'X-Auth-Token': token });
      expect(res.status).toBe(200);
      expect(res.body.principal).toMatchObject({
        subject: 'example-service',
        kind: 'service',
        details: { keyAlias: 'alias/authnz-example' },
      });
      const basic = await request(first.app).get('/kmsauth/whoami').auth(from, token);
      expect(basic.status).toBe(200);
      expect((await request(first.app).get('/kmsauth/whoami')).status).toBe(401);
    } finally {
      await first.close();
    }
    expect(statSync(join(devDir, 'kmsauth-local-kms.json')).mode & 0o777).toBe(0o600);
    const second = await start(devDir);
    try {
      expect((await request(second.app).get('/kmsauth/whoami').set({ 'X-Auth-From': from, 'X-Auth-Token': token })).status).toBe(200);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(devDir, { recursive: true, force: true });
  }
});
