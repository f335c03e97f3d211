/**
 * The API reference (`npm run docs`, TypeDoc with typedoc.json) builds from the four entry points, and
 * the same options refuse a broken `{@link}` and a public signature that uses an unexported type.
 * TypeDoc runs as a child process, as `npm run docs` runs it, each time into a temporary directory.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './snippets.js';

const run = promisify(execFile);
const TYPEDOC = join(ROOT, 'node_modules/typedoc/bin/typedoc');
const work = join(ROOT, `build-check/typedoc-${process.pid}`);

interface Outcome {
  readonly code: number;
  readonly output: string;
}

/** Runs TypeDoc with `cwd`'s typedoc.json plus `args`; the exit code and everything it printed, colours off. */
async function typedoc(cwd: string, args: readonly string[]): Promise<Outcome> {
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  try {
    const { stdout, stderr } = await run(process.execPath, [TYPEDOC, '--options', 'typedoc.json', ...args], { cwd, env, maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

beforeAll(() => mkdirSync(work, { recursive: true }));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm run docs (TypeDoc)', () => {
  it('builds the API reference of every entry point, with a page for authenticate()', async () => {
    const out = join(work, 'api');
    const { code, output } = await typedoc(ROOT, ['--out', out]);
    expect(output).not.toMatch(/\[(warning|error)\]/);
    expect(code).toBe(0);
    for (const entry of ['index', 'redis', 'kms', 'postgres']) expect(existsSync(join(out, 'modules', `${entry}.html`))).toBe(true);
    const page = join(out, 'functions', 'index.authenticate.html');
    expect(existsSync(page)).toBe(true);
    expect(readFileSync(page, 'utf8')).toContain('authenticate');
  }, 120_000);

  it('fails on a broken {@link} and on a public signature that uses an unexported type', async () => {
    const fixture = join(work, 'fixture');
    mkdirSync(fixture, { recursive: true });
    writeFileSync(join(fixture, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: [] }, files: ['index.ts'] }));
    writeFileSync(join(fixture, 'index.ts'), [
      'interface Hidden { readonly x: number }',
      '/** Returns a value; see {@link doesNotExist}. */',
      'export function broken(): Hidden {',
      '  return { x: 1 };',
      '}',
      '',
    ].join('\n'));
    // The project's options, only the input changed (options given on the command line do not replace the tsconfig).
    writeFileSync(join(fixture, 'typedoc.json'), JSON.stringify({ extends: [join(ROOT, 'typedoc.json')], entryPoints: ['index.ts'], tsconfig: 'tsconfig.json', readme: 'none' }));
    const out = join(fixture, 'out');
    const { code, output } = await typedoc(fixture, ['--out', out]);
    expect(code).not.toBe(0);
    expect(output).toMatch(/Failed to resolve link to "doesNotExist"/);
    expect(output).toMatch(/Hidden, defined in .*index\.ts, is referenced by .*broken.* but not included in the documentation/);
    expect(existsSync(join(out, 'index.html'))).toBe(false);
  }, 60_000);
});
