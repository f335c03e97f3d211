/**
 * Every test file is in exactly one tier: each `*.test.ts` under test/ is listed in one of the tier
 * lists of jest.config.js, every listed file exists, and jest itself selects exactly that list for
 * each tier (TEST_TIER=<tier> jest --listTests). A new test file that no list names fails here.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

const loadTiers = async (): Promise<Record<string, string[]>> =>
  ((await import(pathToFileURL(join(ROOT, 'jest.config.js')).href)) as { tiers: Record<string, string[]> }).tiers;

describe('test tiers', () => {
  it('are unit, integration, artifact and soak', async () => {
    expect(Object.keys(await loadTiers())).toEqual(['unit', 'integration', 'artifact', 'soak']);
  });

  it('every *.test.ts under test/ is listed in exactly one tier, and every listed file exists', async () => {
    const tiers = await loadTiers();
    const membership = new Map<string, string[]>();
    for (const [tier, files] of Object.entries(tiers))
      for (const file of files) membership.set(file, [...(membership.get(file) ?? []), tier]);
    const files = testFiles(join(ROOT, 'test')).sort();
    expect(files.length).toBeGreaterThan(100);
    const inNoTier = files.filter((f) => !membership.has(f));
    const inSeveral = [...membership].filter(([, t]) => t.length > 1).map(([f, t]) => `${f}: ${t.join(', ')}`);
    const listedButMissing = [...membership.keys()].filter((f) => !existsSync(join(ROOT, f)));
    expect({ inNoTier, inSeveral, listedButMissing }).toEqual({ inNoTier: [], inSeveral: [], listedButMissing: [] });
  });

  it('jest selects exactly the listed files for each tier', async () => {
    const tiers = await loadTiers();
    const listed = await Promise.all(
      Object.keys(tiers).map(async (tier) => {
        const { stdout } = await run(process.execPath, ['node_modules/jest/bin/jest.js', '--listTests', '--json'], {
          cwd: ROOT,
          env: { ...process.env, TEST_TIER: tier, NODE_OPTIONS: '' },
        });
        return [tier, (JSON.parse(stdout) as string[]).map((p) => relative(ROOT, p)).sort()] as const;
      }),
    );
    for (const [tier, files] of listed) expect({ tier, files }).toEqual({ tier, files: [...(tiers[tier] ?? [])].sort() });
  }, 60_000);
});
