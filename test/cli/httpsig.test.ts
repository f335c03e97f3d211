/**
 * `authnz httpsig sign` and `authnz httpsig verify`, run as the built binary: the printed `-H`
 * lines are what `verify` accepts, a changed URL, method or body is refused with the failed check
 * named, and a Web Bot Auth signature carries its Signature-Agent and thumbprint keyid.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';
import { shellWords } from './command-lines.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'dist/cli/main.js');
let dir: string;
const pair = generateKeyPairSync('ed25519');

async function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [BIN, ...argv]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** The header lines of `-H '…'` output, as `--header` arguments. */
function headerArgs(stdout: string): string[] {
  return shellWords(stdout).flatMap((word, i, words) => (word === '-H' ? ['--header', words[i + 1] as string] : []));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'authnz-httpsig-'));
  writeFileSync(join(dir, 'key.pem'), pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'key.pub.pem'), pair.publicKey.export({ format: 'pem', type: 'spki' }));
  writeFileSync(join(dir, 'body.json'), '{"qty":2}');
  writeFileSync(join(dir, 'other.json'), '{"qty":200}');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('authnz httpsig', () => {
  const url = 'https://api.example.com/orders?id=7';

  it('sign prints curl -H lines that verify accepts; a changed URL, method or body is refused by name', async () => {
    const signed = await run([
      'httpsig',
      'sign',
      '--private-key',
      join(dir, 'key.pem'),
      '--key-id',
      'k1',
      '--method',
      'POST',
      '--url',
      url,
      '--body-file',
      join(dir, 'body.json'),
    ]);
    expect(signed.code).toBe(0);
    const lines = signed.stdout.trimEnd().split('\n');
    expect(lines.map((l) => /^-H '([a-z-]+):/.exec(l)?.[1])).toEqual(['content-digest', 'signature-input', 'signature']);
    const headers = headerArgs(signed.stdout);
    const verify = (change: { method?: string; url?: string; body?: string } = {}): Promise<{ code: number; stdout: string }> =>
      run([
        'httpsig',
        'verify',
        '--public-key',
        join(dir, 'key.pub.pem'),
        '--method',
        change.method ?? 'POST',
        '--url',
        change.url ?? url,
        '--body-file',
        join(dir, change.body ?? 'body.json'),
        ...headers,
      ]);
    const ok = await verify();
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('verified: label=sig1 keyid=k1 alg=ed25519 components="@method" "@target-uri" "@authority" "content-digest"\n');
    const otherUrl = await verify({ url: 'https://api.example.com/orders?id=8' });
    expect([otherUrl.code, otherUrl.stdout]).toEqual([1, 'refused: signature_invalid: The signature does not verify.\n']);
    const otherMethod = await verify({ method: 'PUT' });
    expect([otherMethod.code, otherMethod.stdout.split(':')[1]?.trim()]).toEqual([1, 'signature_invalid']);
    const otherBody = await verify({ body: 'other.json' });
    expect([otherBody.code, otherBody.stdout]).toEqual([1, 'refused: digest_mismatch: the body does not match its Content-Digest\n']);
  });

  it('verify reads a headers file and says which required component is not covered', async () => {
    const signed = await run([
      'httpsig',
      'sign',
      '--private-key',
      join(dir, 'key.pem'),
      '--key-id',
      'k1',
      '--url',
      url,
      '--components',
      '@method,@authority',
      '--json',
    ]);
    const fields = JSON.parse(signed.stdout) as Record<string, string>;
    writeFileSync(
      join(dir, 'headers.txt'),
      Object.entries(fields)
        .map(([n, v]) => `${n}: ${v}`)
        .join('\n'),
    );
    const refused = await run([
      'httpsig',
      'verify',
      '--public-key',
      join(dir, 'key.pub.pem'),
      '--url',
      url,
      '--headers-file',
      join(dir, 'headers.txt'),
      '--json',
    ]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ verified: false, reason: 'component_not_covered' });
    const relaxed = await run([
      'httpsig',
      'verify',
      '--public-key',
      join(dir, 'key.pub.pem'),
      '--url',
      url,
      '--headers-file',
      join(dir, 'headers.txt'),
      '--required-components',
      '@method,@authority',
      '--json',
    ]);
    expect([relaxed.code, JSON.parse(relaxed.stdout)]).toEqual([
      0,
      { verified: true, label: 'sig1', keyid: 'k1', algorithm: 'ed25519', components: ['"@method"', '"@authority"'] },
    ]);
  });

  it('sign --signature-agent signs as a Web Bot Auth agent', async () => {
    const signed = await run([
      'httpsig',
      'sign',
      '--private-key',
      join(dir, 'key.pem'),
      '--url',
      'https://site.example/',
      '--signature-agent',
      'https://bot.example',
      '--json',
    ]);
    const fields = JSON.parse(signed.stdout) as Record<string, string>;
    expect(fields['signature-agent']).toBe('sig1="https://bot.example"');
    expect(fields['signature-input']).toContain('"signature-agent";key="sig1"');
    expect(fields['signature-input']).toContain(`keyid="${jwkThumbprint(pair.publicKey)}"`);
    expect(fields['signature-input']).toContain('tag="web-bot-auth"');
    expect(fields['signature-input']).toMatch(/;expires=\d+/);
  });

  it('usage mistakes exit 2', async () => {
    expect((await run(['httpsig', 'sign', '--private-key', join(dir, 'key.pem'), '--url', 'not a url'])).code).toBe(2);
    expect((await run(['httpsig', 'verify', '--public-key', join(dir, 'key.pub.pem'), '--url', url, '--header', 'no colon'])).code).toBe(2);
  });
});
