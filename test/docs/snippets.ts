/**
 * TypeScript blocks of README.md and docs/*.md: extraction, a `tsc --strict` check of all of them in
 * one program, and loading the runnable ones as modules.
 *
 * Info string words after ```ts:
 *   (none)      a complete module: every name it uses is imported or defined in the block.
 *   fragment    an excerpt of an app: test/docs/fragment-preamble.ts is prepended, which declares the
 *               values an app already has (`app`, `handler`, a `manager`, key PEMs…). Library names are
 *               never declared there: a fragment imports what it uses from authnz-express itself.
 *   run         a complete module that is also executed by test/docs/snippets.test.ts (it must not
 *               listen on a port or need files; export what a test should drive).
 *   id=NAME     a name for tests that import the block (`loadSnippet('NAME')`).
 * `authnz-express` and its subpaths resolve to src/ (the same names the package exports).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const ROOT = new URL('../../', import.meta.url).pathname;
const PREAMBLE_FILE = 'test/docs/fragment-preamble.ts';
const KNOWN_WORDS = /^(fragment|run|id=[\w-]+)$/;

/** One TypeScript block. */
export interface Snippet {
  /** Markdown file, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the block's first code line in that file. */
  readonly line: number;
  readonly code: string;
  readonly fragment: boolean;
  readonly run: boolean;
  readonly id: string | undefined;
}

/** The Markdown files whose blocks are checked: README.md and docs/*.md. */
export function markdownFiles(): string[] {
  return ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/** Every ```ts / ```typescript block of `files`; unknown info-string words are reported as errors. */
export function extractSnippets(files = markdownFiles()): { snippets: Snippet[]; errors: string[] } {
  const snippets: Snippet[] = [];
  const errors: string[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^(\s*)```(ts|typescript)\b(.*)$/.exec(lines[i] as string);
      if (!open) {
        if (/^\s*```/.test(lines[i] as string)) i = closingFence(lines, i);
        continue;
      }
      const words = (open[3] as string).trim().split(/\s+/).filter(Boolean);
      for (const w of words.filter((w) => !KNOWN_WORDS.test(w))) errors.push(`${file}:${i + 1}: unknown word "${w}" after \`\`\`ts (known: fragment, run, id=NAME)`);
      const end = closingFence(lines, i);
      const fragment = words.includes('fragment');
      const run = words.includes('run');
      if (fragment && run) errors.push(`${file}:${i + 1}: a block cannot be both "fragment" and "run"`);
      const indent = (open[1] as string).length;
      const code = lines.slice(i + 1, end).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
      snippets.push({ file, line: i + 2, code, fragment, run, id: words.find((w) => w.startsWith('id='))?.slice(3) });
      i = end;
    }
  }
  return { snippets, errors };
}

function closingFence(lines: readonly string[], open: number): number {
  for (let j = open + 1; j < lines.length; j++) if (/^\s*```\s*$/.test(lines[j] as string)) return j;
  return lines.length;
}

/** `authnz-express[/sub]` → the source file, same line, so positions stay put. */
function resolveLibraryImports(code: string, fromDir: string): string {
  const src = relative(fromDir, join(ROOT, 'src'));
  return code.replace(/(['"])authnz-express(?:\/([\w-]+))?\1/g, (_m, q: string, sub: string | undefined) => `${q}${src}/${sub ?? 'index'}.js${q}`);
}

/**
 * The preamble for one fragment (its `export {}` dropped) and its line count. A `declare const NAME`
 * line is left out (kept as a blank line) when the fragment defines NAME itself.
 */
function preamble(code: string): { text: string; lines: number } {
  const text = readFileSync(join(ROOT, PREAMBLE_FILE), 'utf8')
    .replace(/^export \{\};?\s*$/m, '')
    .split('\n')
    .map((line) => {
      const name = /^declare const (\w+)\b/.exec(line)?.[1];
      return name && new RegExp(`\\b(?:const|let|var|function|class)\\s+${name}\\b|\\bimport\\b[^;]*\\b${name}\\b`).test(code) ? '' : line;
    })
    .join('\n');
  return { text, lines: text.split('\n').length - 1 };
}

/** Writes the snippets as modules under build-check/ (ignored by git); returns their paths. */
export function writeSnippets(snippets: readonly Snippet[], dirName: string): { dir: string; paths: string[]; offsets: number[] } {
  const dir = join(ROOT, 'build-check', dirName);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  const offsets: number[] = [];
  snippets.forEach((s, n) => {
    const path = join(dir, `${s.file.replace(/[^\w]+/g, '_')}_L${s.line}_${n}.ts`);
    const body = resolveLibraryImports(s.code, dir);
    const pre = preamble(s.code);
    // `export {}` makes every block a module, so blocks do not see each other's names.
    writeFileSync(path, `${s.fragment ? pre.text : ''}${body}\nexport {};\n`);
    paths.push(path);
    offsets.push(s.fragment ? pre.lines : 0);
  });
  return { dir, paths, offsets };
}

let previousProgram: ts.Program | undefined;

/** Type-checks every snippet with the repository's strict options; one message per error, naming the Markdown line. */
export function typeCheckSnippets(snippets: readonly Snippet[]): string[] {
  const { dir, paths, offsets } = writeSnippets(snippets, `doc-snippets-check-${process.pid}`);
  try {
    // What an application would use: `--strict` and Node's ESM resolution, not this repository's extra flags.
    const options: ts.CompilerOptions = {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      esModuleInterop: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
    };
    // The previous program lends its parsed library files (node, express, AWS SDK types): a second
    // check in the same process then costs the snippets, not the ~5 MB of declarations again.
    const program = ts.createProgram(paths, options, undefined, previousProgram);
    previousProgram = program;
    const byPath = new Map(paths.map((p, n) => [p, n]));
    const messages: string[] = [];
    // Only the snippets' own diagnostics: checking the library's sources here would only repeat the
    // repository's type-check and take most of a minute.
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...paths.flatMap((p) => {
        const sf = program.getSourceFile(p);
        return sf ? [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)] : [];
      }),
    ];
    for (const d of diagnostics) {
      const n = d.file ? byPath.get(d.file.fileName) : undefined;
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
      if (d.file && n === undefined) continue; // library sources have their own type-check
      if (n === undefined) {
        messages.push(`TS${d.code}: ${text}`);
        continue;
      }
      const s = snippets[n] as Snippet;
      const at = d.start === undefined ? 0 : d.file!.getLineAndCharacterOfPosition(d.start).line - (offsets[n] as number);
      const where = at < 0 ? `${PREAMBLE_FILE} (preamble of the fragment at ${s.file}:${s.line - 1})` : `${s.file}:${s.line + at}`;
      messages.push(`${where}: TS${d.code}: ${text}`);
    }
    return messages;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Imports the block marked `id=NAME` as a module (its library imports resolved to src/). */
export async function loadSnippet<T = Record<string, unknown>>(id: string): Promise<T> {
  const found = extractSnippets().snippets.filter((s) => s.id === id);
  if (found.length !== 1) throw new Error(`expected one block with id=${id}, found ${found.length}`);
  const { paths } = writeSnippets(found, `doc-snippet-${id}-${process.pid}`);
  return (await import(paths[0] as string)) as T;
}
