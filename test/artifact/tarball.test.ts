/**
 * What the tarball ships: the build without source maps, the license, changelog and security policy,
 * and a README whose links work on the registry's page (absolute URLs or in-page anchors).
 */
import { execFileSync } from 'node:child_process';
import { tarball } from './harness.js';

describe('the packed tarball', () => {
  let files: string[] = [];
  let readme = '';
  beforeAll(async () => {
    const tgz = await tarball();
    files = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n');
    readme = execFileSync('tar', ['-xzOf', tgz, 'package/README.md'], { encoding: 'utf8' });
  }, 300_000);

  it('ships the build, LICENSE, CHANGELOG.md and SECURITY.md, and no source maps or sources', () => {
    for (const file of ['package/LICENSE', 'package/CHANGELOG.md', 'package/SECURITY.md', 'package/dist/index.js', 'package/dist/index.cjs', 'package/dist/cli/main.js']) expect(files).toContain(file);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);
  });

  it('has a README whose links are absolute URLs or anchors (relative ones break on the registry page)', () => {
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
    expect(targets.length).toBeGreaterThan(5);
    expect(targets.filter((t) => !/^(https?:\/\/|#|mailto:)/.test(t))).toEqual([]);
  });
});
