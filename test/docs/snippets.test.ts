/**
 * Docs that compile: every ```ts block of README.md and docs/*.md type-checks under `tsc --strict`,
 * and the blocks marked `run` run. Conventions: test/docs/snippets.ts.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractSnippets, ROOT, typeCheckSnippets, writeSnippets, type Snippet } from './snippets.js';

// A Markdown file with known mistakes, checked in the same program as the docs (one tsc run, not two).
const selfDir = `build-check/doc-snippets-self-${process.pid}`;
const badFile = `${selfDir}/bad.md`;
const docs = extractSnippets();
let bad: { snippets: Snippet[]; errors: string[] };
let messages: string[];

beforeAll(() => {
  mkdirSync(join(ROOT, selfDir), { recursive: true });
  writeFileSync(join(ROOT, badFile), [
    '# bad', '', '```ts', "import { authenticate } from 'authnz-express';", 'authenticate(42);', '```', '',
    '```ts fragment', "app.get('/x', handler, undefinedThing);", '```', '', '```ts framgent', 'const x = 1;', '```', '',
  ].join('\n'));
  bad = extractSnippets([badFile]);
  messages = typeCheckSnippets([...docs.snippets, ...bad.snippets]);
}, 300_000);
afterAll(() => rmSync(join(ROOT, selfDir), { recursive: true, force: true }));

describe('TypeScript blocks in README.md and docs/*.md', () => {
  it('are found, with known info-string words only', () => {
    expect(docs.snippets.length).toBeGreaterThanOrEqual(25);
    expect(docs.errors).toEqual([]);
  });

  it('type-check under --strict (errors name the Markdown file and line)', () => {
    expect(messages.filter((m) => !m.startsWith(badFile))).toEqual([]);
  });

  it('the blocks marked run execute without throwing', async () => {
    const runnable = docs.snippets.filter((s) => s.run);
    expect(runnable.length).toBeGreaterThanOrEqual(2);
    const { paths, dir } = writeSnippets(runnable, `doc-snippets-run-${process.pid}`);
    try {
      for (const [n, path] of paths.entries()) {
        const s = runnable[n]!;
        await expect(import(path).then(() => `${s.file}:${s.line} ran`)).resolves.toBe(`${s.file}:${s.line} ran`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the snippet checker itself', () => {
  it('names the Markdown file and line of an error, in complete blocks and in fragments; refuses unknown words', () => {
    expect(bad.errors).toEqual([`${badFile}:12: unknown word "framgent" after \`\`\`ts (known: fragment, run, id=NAME)`]);
    expect(messages.filter((m) => m.startsWith(badFile))).toEqual([
      expect.stringMatching(new RegExp(`^${badFile}:5: TS2345: `)),
      expect.stringMatching(new RegExp(`^${badFile}:9: TS2304: Cannot find name 'undefinedThing'`)),
    ]);
  });
});
