/**
 * The import graph of src/ runs one way: contracts and plumbing at the bottom, schemes and limits in
 * the middle, middleware and entry points on top. Every relative import is read and checked here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = join(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every `from './x.js'` / `import('./x.js')` of a file, as paths relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string);
  return specifiers.map((spec) => relative(SRC, normalize(join(dirname(file), spec))).replaceAll('\\', '/'));
}

const arrows = sources(SRC).flatMap((file) => {
  const from = relative(SRC, file).replaceAll('\\', '/');
  return importsOf(file).map((to) => ({ from, to }));
});

/** Top-level folder (or root file) of a path under src/. */
const area = (path: string): string => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '.');

/** For each area, the areas it must never import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  stores: ['schemes', 'protocols', 'limits', 'middleware', 'passport', 'cli'],
  schemes: ['middleware', 'passport', 'cli'],
  protocols: ['schemes', 'limits', 'middleware', 'passport', 'cli'],
  limits: ['schemes', 'protocols', 'middleware', 'passport', 'cli'],
  lib: ['schemes', 'protocols', 'limits', 'middleware', 'passport', 'stores', 'keys', 'cli'],
  keys: ['schemes', 'protocols', 'limits', 'middleware', 'passport', 'stores', 'cli'],
  jwt: ['schemes', 'protocols', 'limits', 'middleware', 'passport', 'stores', 'cli'],
  middleware: ['cli'],
  policy: ['schemes', 'protocols', 'limits', 'middleware', 'passport', 'stores', 'cli'],
};

/** The contract modules at the root import only each other and lib/. */
const CONTRACT = new Set(['errors.ts', 'principal.ts', 'scheme.ts', 'http.ts', 'diagnostics.ts']);

describe('src/ layout', () => {
  test('the graph has arrows to check (the reader finds imports)', () => {
    expect(arrows.length).toBeGreaterThan(200);
    expect(arrows).toContainEqual({ from: 'stores/redis-ratelimit.ts', to: 'stores/limiter.js' });
  });

  test.each(Object.entries(FORBIDDEN))('nothing in %s/ imports a forbidden area', (from, forbidden) => {
    const against = arrows.filter((a) => area(a.from) === from && forbidden.includes(area(a.to)));
    expect(against).toEqual([]);
  });

  test('the root holds only the four entry points and the contract', () => {
    const rootFiles = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
    expect(rootFiles).toEqual([...CONTRACT, 'index.ts', 'kms.ts', 'postgres.ts', 'redis.ts'].sort());
  });

  test('the contract imports only the contract and lib/', () => {
    const against = arrows.filter((a) => CONTRACT.has(a.from) && !(area(a.to) === 'lib' || CONTRACT.has(a.to.replace(/\.js$/, '.ts'))));
    expect(against).toEqual([]);
  });
});
