/**
 * What the tarball ships: the build without source maps, the license, changelog and security policy,
 * the guides under docs/, and a README whose relative links name files the tarball holds.
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

  it('ships the build, LICENSE, CHANGELOG.md, SECURITY.md and the guides, and no source maps or sources', () => {
    for (const file of [
      'package/LICENSE',
      'package/CHANGELOG.md',
      'package/SECURITY.md',
      'package/dist/index.js',
      'package/dist/index.cjs',
      'package/dist/cli/main.js',
      'package/docs/getting-started.md',
      'package/docs/troubleshooting.md',
    ])
      expect(files).toContain(file);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);
  });

  it('has a README whose relative links name files the tarball holds (docs/… ships with it)', () => {
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
    const relative = targets.filter((t) => !/^(https?:\/\/|#|mailto:)/.test(t)).map((t) => t.replace(/#.*$/, ''));
    expect(relative).toEqual(expect.arrayContaining(['docs/getting-started.md', 'docs/troubleshooting.md']));
    expect(relative.filter((t) => !files.includes(`package/${t}`))).toEqual([]);
  });
});
