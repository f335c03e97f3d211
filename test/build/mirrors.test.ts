/**
 * Every module of the shared folders src/lib, src/keys, src/jwt and src/stores has its own suite at
 * the mirrored path: src/<dir>/<module>.ts → test/<dir>/<module>.test.ts (CONTRIBUTING.md, "Where a
 * new test goes"). The modules are read from the directories, so a new module without its suite
 * fails here.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const MIRRORED = ['lib', 'keys', 'jwt', 'stores'] as const;

/**
 * Modules with no behaviour of their own (types only, re-exports), which need no suite, each with
 * the reason. Keyed by path under src/.
 */
const NO_BEHAVIOUR: Readonly<Record<string, string>> = {};

/** The modules of src/<dir>, as paths under src/ (`lib/net.ts`), subfolders included. */
function modules(dir: string): string[] {
  return readdirSync(join(ROOT, 'src', dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const all = MIRRORED.flatMap(modules).sort();
const mirrorOf = (module: string): string => `test/${module.replace(/\.ts$/, '.test.ts')}`;

describe('mirrored test files', () => {
  it('the modules are found (the reader lists each folder)', () => {
    for (const dir of MIRRORED) expect(all.filter((m) => m.startsWith(`${dir}/`)).length).toBeGreaterThan(2);
    expect(all).toContain('lib/net.ts');
    expect(all).toContain('stores/redis-command.ts');
  });

  it('every module of src/lib, src/keys, src/jwt and src/stores has test/<dir>/<module>.test.ts', () => {
    const missing = all.filter((m) => !(m in NO_BEHAVIOUR) && !existsSync(join(ROOT, mirrorOf(m)))).map(mirrorOf);
    expect(missing).toEqual([]);
  });

  it('each exception names an existing module without a suite, and says why', () => {
    for (const [module, reason] of Object.entries(NO_BEHAVIOUR)) {
      expect({ module, exists: all.includes(module), hasSuite: existsSync(join(ROOT, mirrorOf(module))) }).toEqual({
        module,
        exists: true,
        hasSuite: false,
      });
      expect(reason.length).toBeGreaterThan(10);
    }
  });
});
