/** `import { ... } from 'authnz-express'` must never load the AWS SDK: only `authnz-express/kms` may. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Bare module specifiers reachable from `entry` through static relative imports. */
function reachablePackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // Static imports and re-exports only (type-only imports are erased and load nothing).
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
      const spec = m[1] as string;
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return packages;
}

it('the main entry reaches no @aws-sdk package; the kms entry does', () => {
  const main = [...reachablePackages(join(src, 'index.ts'))];
  expect(main.filter((p) => p.startsWith('@aws-sdk/'))).toEqual([]);
  expect(main).toContain('lru-cache'); // the walk really follows the kmsauth core
  expect([...reachablePackages(join(src, 'kms.ts'))]).toContain('@aws-sdk/client-kms');
});
