/** `authnz dpop proof` and `authnz oauth token --dpop-key`: what they print verifies as RFC 9449 asks. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { accessTokenHash, dpopKey, verifyDpopProof } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'authnz-dpop-cli-'));
const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyFile = join(dir, 'dpop_private.pem');
writeFileSync(keyFile, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    const code = await runCli(argv, {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
    });
    return { code, out, err };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('authnz dpop proof', () => {
  it('prints a proof for the method and URL with the hash of the token from $AUTHNZ_ACCESS_TOKEN; --json adds the thumbprint', async () => {
    const r = await cli(
      ['dpop', 'proof', '--private-key', keyFile, '--method', 'post', '--url', 'https://api.example.test/orders?x=1', '--json'],
      { AUTHNZ_ACCESS_TOKEN: 'tok-123' },
    );
    expect([r.code, r.err]).toEqual([0, '']);
    const { proof, jkt } = JSON.parse(r.out) as { proof: string; jkt: string };
    expect(jkt).toBe(dpopKey(pair.privateKey).jkt);
    const verified = verifyDpopProof(proof, { method: 'POST', url: 'https://api.example.test/orders', accessToken: 'tok-123' });
    expect(verified.jkt).toBe(jkt);
    expect(() => verifyDpopProof(proof, { method: 'POST', url: 'https://api.example.test/orders', accessToken: 'other' })).toThrow(
      expect.objectContaining({ code: 'invalid_dpop_proof', reason: 'ath' }),
    );
  });

  it('reads the token from --access-token-file, adds --nonce, and without a token makes a token-request proof (no ath)', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'tok-file\n');
    const withFile = await cli([
      'dpop',
      'proof',
      '--private-key',
      keyFile,
      '--url',
      'https://api.example.test/',
      '--access-token-file',
      tokenFile,
      '--nonce',
      'n-1',
    ]);
    expect(withFile.code).toBe(0);
    expect(verifyDpopProof(withFile.out.trim(), { method: 'GET', url: 'https://api.example.test/', accessToken: 'tok-file' }).nonce).toBe(
      'n-1',
    );
    const bare = await cli(['dpop', 'proof', '--private-key', keyFile, '--url', 'https://as.example.test/token', '--method', 'POST'], {
      AUTHNZ_ACCESS_TOKEN: '',
    });
    const payload = JSON.parse(Buffer.from(bare.out.trim().split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    expect(payload['ath']).toBeUndefined();
    expect(payload).toMatchObject({ htm: 'POST', htu: 'https://as.example.test/token' });
    expect(accessTokenHash('tok-file')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('usage mistakes exit 2: no --url, a relative URL, a bad method', async () => {
    for (const argv of [
      ['--private-key', keyFile],
      ['--private-key', keyFile, '--url', '/orders'],
      ['--private-key', keyFile, '--url', 'https://a.test/', '--method', 'G T'],
    ]) {
      const r = await cli(['dpop', 'proof', ...argv]);
      expect([r.code, r.out]).toEqual([2, '']);
    }
  });
});
