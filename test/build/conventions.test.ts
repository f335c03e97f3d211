/**
 * docs/conventions.md is the naming table; this suite reads its "retired" column and searches the
 * sources, tests, docs and examples for every retired name, so a second name for a concept cannot
 * come back unnoticed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const table = readFileSync(join(ROOT, 'docs/conventions.md'), 'utf8');

/** Backticked names in the last column of every table row that has a "retired" column. */
function retiredNames(): string[] {
  const names = new Set<string>();
  let retiredColumn = -1;
  for (const line of table.split('\n')) {
    if (!line.startsWith('|')) {
      retiredColumn = -1;
      continue;
    }
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.some((c) => /^retired/.test(c))) {
      retiredColumn = cells.findIndex((c) => /^retired/.test(c));
      continue;
    }
    if (retiredColumn < 0 || /^-+$/.test(cells[0] ?? '')) continue;
    for (const m of (cells[retiredColumn] ?? '').matchAll(/`([^`]+)`/g)) names.add(m[1] as string);
  }
  for (const m of table.matchAll(/\(retired: ([^)]*)\)/g))
    for (const n of (m[1] as string).matchAll(/`([^`]+)`/g)) names.add(n[1] as string);
  return [...names];
}

/**
 * Names that are still right in one place: another library's option, quoted where we map it to
 * ours. Keyed by retired name, the files (relative to the root) where it may appear.
 */
const FOREIGN: Readonly<Record<string, readonly string[]>> = {
  // express-oauth2-jwt-bearer's and jsonwebtoken's option, mapped by jwtBearerScheme's migration hints.
  clockTolerance: [
    'src/schemes/jwt-bearer/scheme.ts',
    'docs/jwt-bearer.md',
    'test/jwt-bearer/migration-options.test.ts',
    'test/lib/warnings.test.ts',
  ],
  // A likely typo of jwksUri, answered by the same hints.
  jwksUrl: ['src/schemes/jwt-bearer/scheme.ts'],
  // rate-limiter-flexible's constructor option, set from lockSeconds (and the test of that mapping).
  blockDuration: ['src/stores/limiter.ts', 'test/stores/limiter.test.ts'],
  // lru-cache's constructor option, set from maxBytes.
  maxSize: ['src/lib/verified-cache.ts', 'src/protocols/dpop/binding.ts', 'src/stores/replay.ts', 'src/keys/remote-jwks.ts'],
  // python-kmsauth's exception names, quoted where our classes say which one they mirror.
  TokenValidationError: ['src/schemes/kmsauth/errors.ts'],
  ConfigurationError: ['src/schemes/kmsauth/errors.ts'],
  TokenGenerationError: ['src/schemes/kmsauth/errors.ts'],
  ServiceConnectionError: ['src/schemes/kmsauth/errors.ts'],
};

const SEARCHED = ['src', 'test', 'docs', 'examples', 'bench', 'README.md'];
const SKIPPED = new Set(['docs/conventions.md', 'test/build/conventions.test.ts', 'bench/RESULTS.md']);

function files(path: string): string[] {
  const full = join(ROOT, path);
  let entries;
  try {
    entries = readdirSync(full, { withFileTypes: true });
  } catch {
    return [path];
  }
  return entries.flatMap((e) => {
    const child = `${path}/${e.name}`;
    if (e.isDirectory())
      return e.name === 'fixtures' || e.name === 'node_modules' || e.name === 'api' || e.name === 'consumer' ? [] : files(child);
    return /\.(ts|cts|mts|js|cjs|md)$/.test(e.name) ? [child] : [];
  });
}

const corpus = SEARCHED.flatMap(files)
  .filter((f) => !SKIPPED.has(f))
  .map((f) => ({ file: relative(ROOT, join(ROOT, f)), text: readFileSync(join(ROOT, f), 'utf8') }));

/** A retired name is checked when it cannot be an ordinary word: camelCase, snake_case or PascalCase. */
const checkable = (name: string): boolean =>
  (/^[A-Za-z][A-Za-z0-9]*$/.test(name) && (/[A-Z]/.test(name) || /[a-z][A-Z]/.test(name))) || /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(name);
/** Single-word retired reasons that no claim or option shares (`exp`, `aud`, `issuer` … stay claim and option names). */
const SINGLE_WORD_REASONS = new Set(['unverifiable']);
const reasonLike = (name: string): boolean => /^[a-z]+(_[a-z0-9]+)+$/.test(name) || SINGLE_WORD_REASONS.has(name);
const cliFlag = (name: string): boolean => /^--[a-z][a-z0-9-]*$/.test(name);

describe('docs/conventions.md: retired names', () => {
  const retired = retiredNames();

  test('the table lists retired names (the reader finds them)', () => {
    expect(retired).toEqual(expect.arrayContaining(['jwksUrl', 'cacheMs', 'claims_invalid', 'NonceStore', 'DEFAULT_KEYS', '--ttl']));
  });

  test.each(retired.filter(checkable))('no identifier %s outside its foreign mappings', (name) => {
    const pattern = new RegExp(`\\b${name}\\b`);
    const hits = corpus.filter(({ file, text }) => pattern.test(text) && !(FOREIGN[name] ?? []).includes(file)).map(({ file }) => file);
    expect(hits).toEqual([]);
  });

  test.each(retired.filter(cliFlag))('no CLI flag %s in the CLI, its docs or its tests', (name) => {
    const pattern = new RegExp(`(?<![\\w-])${name}(?![\\w-])`);
    const hits = corpus.filter(({ text }) => pattern.test(text)).map(({ file }) => file);
    expect(hits).toEqual([]);
  });

  test.each(retired.filter(reasonLike))('no reason %s in src/', (name) => {
    // A string literal (not a backticked name in a comment), except a property access such as claims['token_type'] (the claim, not a reason).
    const pattern = new RegExp(`(?<!\\[)['"]${name}['"](?!\\])`);
    const hits = corpus.filter(({ file, text }) => file.startsWith('src/') && pattern.test(text)).map(({ file }) => file);
    expect(hits).toEqual([]);
  });
});

describe('docs/conventions.md: class state', () => {
  test('no class in src/ keeps state behind the private or protected keyword (#private fields instead)', () => {
    const keyword = /^\s+(?:private|protected)\s/m;
    const hits = corpus.filter(({ file, text }) => file.startsWith('src/') && keyword.test(text)).map(({ file }) => file);
    expect(corpus.filter(({ file }) => file.startsWith('src/')).length).toBeGreaterThan(100);
    expect(hits).toEqual([]);
  });
});
