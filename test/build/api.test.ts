/**
 * The public surface, pinned: for each entry point (`authnz-express`, `/redis`, `/kms`, `/postgres`) the names
 * its built declarations export (values and types, read with the TypeScript compiler from
 * dist/*.d.ts and dist/*.d.cts) must equal the checked-in list in test/build/api/<entry>.txt, and the
 * values must be exactly what `import` and `require` of the built package give at run time.
 *
 * After a deliberate change to the exports, rewrite the lists with `npm run api:update` and commit
 * the diff with the change.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LISTS = fileURLToPath(new URL('./api/', import.meta.url));
const UPDATE = process.env['API_UPDATE'] === '1';
const ENTRIES = [
  { entry: 'index', specifier: 'authnz-express' },
  { entry: 'redis', specifier: 'authnz-express/redis' },
  { entry: 'kms', specifier: 'authnz-express/kms' },
  { entry: 'postgres', specifier: 'authnz-express/postgres' },
];

/** Exported names of a declaration file, `type X` for names that are types only. */
function declaredExports(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`no module symbol for ${file}`);
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return target.flags & ts.SymbolFlags.Value ? symbol.name : `type ${symbol.name}`;
    })
    .sort((a, b) => a.replace(/^type /, '').localeCompare(b.replace(/^type /, '')));
}

/** Names an entry gives at run time through `import` (ESM) and `require` (CJS). */
function runtimeExports(specifier: string): { esm: string[]; cjs: string[] } {
  const env = { ...process.env, NODE_OPTIONS: '' };
  const list = (code: string, args: string[] = []): string[] =>
    JSON.parse(execFileSync(process.execPath, [...args, '-e', code], { cwd: ROOT, encoding: 'utf8', env })) as string[];
  return {
    esm: list(`const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).sort()))`, [
      '--input-type=module',
    ]),
    cjs: list(
      `const m = require(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== '__esModule').sort()))`,
    ),
  };
}

const header = (specifier: string): string =>
  `# Public exports of ${specifier} ("type" marks type-only names). Checked by test/build/api.test.ts;\n# after a deliberate change run \`npm run api:update\` and commit this diff with it.\n`;

describe.each(ENTRIES)('public API of $specifier', ({ entry, specifier }) => {
  const esmTypes = declaredExports(join(ROOT, `dist/${entry}.d.ts`));

  it('matches the checked-in export list', () => {
    const listFile = join(LISTS, `${entry}.txt`);
    const rendered = header(specifier) + esmTypes.join('\n') + '\n';
    if (UPDATE) writeFileSync(listFile, rendered);
    expect(rendered).toBe(readFileSync(listFile, 'utf8'));
  });

  it('declares the same names for require (.d.cts) as for import (.d.ts)', () => {
    expect(declaredExports(join(ROOT, `dist/${entry}.d.cts`))).toEqual(esmTypes);
  });

  it('gives exactly the declared values at run time, through import and require', () => {
    const values = esmTypes.filter((name) => !name.startsWith('type ')).sort();
    const { esm, cjs } = runtimeExports(specifier);
    expect(esm).toEqual(values);
    expect(cjs).toEqual(values);
  });
});
