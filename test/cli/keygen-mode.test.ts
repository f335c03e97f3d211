/** `authnz keygen --out` over existing files: the private key file ends 0600 whatever mode it had. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';

const io = { out: (): void => undefined, err: (): void => undefined };

describe('authnz keygen over an existing private key file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authnz-keygen-mode-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['644', '666', '640'])('a %s file is tightened to 0600 and holds the new key', async (mode) => {
    const file = join(dir, 'svc_private.pem');
    writeFileSync(file, 'old contents\n');
    chmodSync(file, parseInt(mode, 8));
    expect(await runCli(['keygen', '--type', 'ed25519', '--out', dir, '--name', 'svc'], io)).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});
