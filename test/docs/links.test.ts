/**
 * Links in README.md and docs/*.md work where users read them, in a clone and in the installed
 * package: every relative link names a file that exists (and a heading that exists, for `#anchor`s,
 * in-page or into another page), every linked file is shipped (package.json `files`, and what
 * `npm pack --dry-run` really lists), and no link points at the repository address the package
 * once named, which does not exist.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { anchors, links, slug } from './markdown.js';
import { markdownFiles, ROOT } from './snippets.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown> & { files: string[] };
const NON_EXISTENT_REPOSITORY = /(?:github\.com|githubusercontent\.com)\/authnz-express\b/i;

/** True when `path` (relative to the root) is matched by package.json `files` (globs with `*`, `**`, `?`; `!` excludes). */
function inFiles(path: string, files: readonly string[]): boolean {
  const matches = (pattern: string): boolean => {
    const p = pattern.replace(/^\.?\//, '').replace(/\/$/, '');
    const re = new RegExp(`^${p.split('**').map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*')}(?:/.*)?$`);
    return re.test(path);
  };
  let included = false;
  for (const entry of files) {
    if (entry.startsWith('!')) {
      if (matches(entry.slice(1))) included = false;
    } else if (matches(entry)) included = true;
  }
  return included;
}

/** The problems of one Markdown file, and the repository files it links to. */
function checkFile(file: string, files: readonly string[]): { problems: string[]; linked: string[] } {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const problems: string[] = [];
  const linked: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (NON_EXISTENT_REPOSITORY.test(line)) problems.push(`${file}:${i + 1}: names the repository address github.com/authnz-express, which does not exist`);
  });
  for (const { target, line } of links(text)) {
    const where = `${file}:${line}: ${target}`;
    if (/^[a-z][a-z\d+.-]*:/i.test(target)) continue; // https:, mailto:
    const hash = target.indexOf('#');
    const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const fragment = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    if (path === '') {
      if (fragment !== undefined && !anchors(text).has(fragment)) problems.push(`${where}: no heading in this page has the anchor #${fragment}`);
      continue;
    }
    if (path.startsWith('/')) {
      problems.push(`${where}: a root-relative link resolves against the host, not the repository or package`);
      continue;
    }
    const resolved = normalize(join(dirname(file), path));
    if (resolved.startsWith('..')) {
      problems.push(`${where}: leaves the repository`);
      continue;
    }
    if (!existsSync(join(ROOT, resolved)) || !statSync(join(ROOT, resolved)).isFile()) {
      problems.push(`${where}: ${resolved} does not exist`);
      continue;
    }
    linked.push(resolved);
    if (!inFiles(resolved, files)) problems.push(`${where}: ${resolved} is not in package.json "files", so the installed package lacks it`);
    if (fragment !== undefined) {
      if (!resolved.endsWith('.md')) problems.push(`${where}: an anchor into a file that is not Markdown`);
      else if (!anchors(readFileSync(join(ROOT, resolved), 'utf8')).has(fragment)) problems.push(`${where}: ${resolved} has no heading with the anchor #${fragment}`);
    }
  }
  return { problems, linked };
}

/** `npm pack --dry-run --json`: the paths the tarball would hold (no build, no network). */
function packedFiles(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts', '--offline'],
      { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', npm_config_update_notifier: 'false' }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`npm pack --dry-run failed: ${error.message}\n${stderr}`));
        const report = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
        resolve((report[0]?.files ?? []).map((f) => f.path));
      },
    );
  });
}

describe('links in README.md and docs/*.md', () => {
  const files = markdownFiles();
  const results = files.map((file) => ({ file, ...checkFile(file, pkg.files) }));
  let packed: string[] = [];
  beforeAll(async () => {
    packed = await packedFiles();
  }, 90_000);

  it('resolve: relative targets exist, anchors name headings, nothing names github.com/authnz-express', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/getting-started.md', 'docs/troubleshooting.md']));
    expect(results.flatMap((r) => r.problems)).toEqual([]);
  });

  it('package.json names no repository, homepage or issue tracker (the address it named does not exist)', () => {
    expect([pkg['repository'], pkg['homepage'], pkg['bugs']]).toEqual([undefined, undefined, undefined]);
    expect(JSON.stringify(pkg)).not.toMatch(NON_EXISTENT_REPOSITORY);
  });

  it('the README links the getting-started and troubleshooting pages before its first section', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const intro = readme.slice(0, readme.search(/^## /m));
    expect(links(intro).map((l) => l.target)).toEqual(expect.arrayContaining(['docs/getting-started.md', 'docs/troubleshooting.md']));
  });

  it('the packed tarball (npm pack --dry-run) holds every guide and every file a page links to, and nothing generated', () => {
    const linked = [...new Set(results.flatMap((r) => r.linked))].sort();
    expect(linked.length).toBeGreaterThan(15);
    expect(linked.filter((f) => !packed.includes(f))).toEqual([]);
    expect(files.filter((f) => !packed.includes(f))).toEqual([]);
    expect(packed).toEqual(expect.arrayContaining(['docs/getting-started.md', 'docs/troubleshooting.md']));
    expect(packed.filter((f) => f.startsWith('docs/api/') || f.startsWith('build-check/') || f.startsWith('.dev/'))).toEqual([]);
  });
});

describe('the link checker itself', () => {
  const dir = `build-check/links-self-${process.pid}`;
  afterAll(() => rmSync(join(ROOT, dir), { recursive: true, force: true }));

  it('reports a missing file, a missing anchor in the page and in another, an unshipped file and the old address; ignores links in code', () => {
    mkdirSync(join(ROOT, dir), { recursive: true });
    writeFileSync(join(ROOT, dir, 'other.md'), '# Other page\n\n## `bruteForce()` options\n');
    writeFileSync(join(ROOT, dir, 'bad.md'), [
      '# Bad', '', '[gone](./gone.md) [here](#nope) [there](./other.md#nope) [ok](./other.md#bruteforce-options)',
      '[wrapped', 'text](./other.md#other-page) [self](#bad)', '',
      '`[in code](./gone.md)`', '', '```md', '[in a block](./gone.md)', '```', '',
      'See https://github.com/authnz-express/authnz-express/blob/main/x.md',
    ].join('\n'));
    const { problems } = checkFile(`${dir}/bad.md`, [`${dir}/bad.md`]);
    expect(problems).toEqual([
      `${dir}/bad.md:13: names the repository address github.com/authnz-express, which does not exist`,
      `${dir}/bad.md:3: ./gone.md: ${dir}/gone.md does not exist`,
      `${dir}/bad.md:3: #nope: no heading in this page has the anchor #nope`,
      `${dir}/bad.md:3: ./other.md#nope: ${dir}/other.md is not in package.json "files", so the installed package lacks it`,
      `${dir}/bad.md:3: ./other.md#nope: ${dir}/other.md has no heading with the anchor #nope`,
      `${dir}/bad.md:3: ./other.md#bruteforce-options: ${dir}/other.md is not in package.json "files", so the installed package lacks it`,
      `${dir}/bad.md:4: ./other.md#other-page: ${dir}/other.md is not in package.json "files", so the installed package lacks it`,
    ]);
  });

  it('matches package.json "files" entries as npm does for the forms used here', () => {
    const files = ['dist', 'docs/*.md', 'docs/bench-chart.svg', 'bench/RESULTS.md', '!dist/*.map'];
    expect(['dist/index.js', 'dist/cli/main.js', 'docs/apijwt.md', 'docs/bench-chart.svg', 'bench/RESULTS.md'].filter((f) => !inFiles(f, files))).toEqual([]);
    expect(['docs/api/index.html', 'docs/api/x.md', 'bench/run.ts', 'dist/index.js.map', 'distx/a.js'].filter((f) => inFiles(f, files))).toEqual([]);
    expect(slug('`rateLimit()` and [links](x.md) — v2')).toBe('ratelimit-and-links--v2');
  });
});
