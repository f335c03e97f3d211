/**
 * The installed type declarations: a `tsc --strict` consumer (ESM `app.ts` and CommonJS `app-cjs.cts`,
 * test/artifact/consumer/) compiles against the tarball installed with express and its types, with
 * `req.principal` typed, the subpath sharing the main entry's types, and `skipLibCheck: false`.
 * It does so with the oldest and the newest `@types/node` the package claims (the lowest and highest
 * Node.js majors of `engines.node`): the oldest is the repository's own dev dependency, the newest is
 * what `npm i -D @types/node@<major>` installs today.
 */
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attempt, consumerApp, devVersion, ROOT, type ConsumerApp } from './harness.js';

const CONSUMER = fileURLToPath(new URL('./consumer/', import.meta.url));

/** The Node.js majors `engines.node` names (`^20.19.0 || ^22.12.0 || …`), lowest first. */
function claimedMajors(): number[] {
  const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  return [...engines.matchAll(/\^(\d+)\./g)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

const majors = claimedMajors();
const oldest = devVersion('@types/node');
const newest = majors[majors.length - 1] as number;

describe.each([
  ['oldest', `@types/node@${oldest}`],
  ['newest', `@types/node@${newest}`],
])('TypeScript consumer of the installed package, %s @types/node (%s)', (_label, typesNode) => {
  let app: ConsumerApp;
  beforeAll(async () => {
    const types = ['express', '@types/express'].map((name) => `${name}@${devVersion(name)}`);
    app = await consumerApp('types', 'module', [...types, typesNode]);
    for (const file of readdirSync(CONSUMER)) copyFileSync(join(CONSUMER, file), join(app.dir, file));
  }, 300_000);
  afterAll(() => app?.remove());

  it('the @types/node installed is of the claimed major', () => {
    const installed = (JSON.parse(readFileSync(join(app.dir, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string })
      .version;
    expect(Number(installed.split('.')[0])).toBe(_label === 'oldest' ? majors[0] : newest);
  });

  it('compiles with tsc --strict (ESM and CJS declarations) without errors', async () => {
    const tsc = await attempt(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app.dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  }, 120_000);
});
