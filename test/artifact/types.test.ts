/**
 * The installed type declarations: a `tsc --strict` consumer (ESM `app.ts` and CommonJS `app-cjs.cts`,
 * test/artifact/consumer/) compiles against the tarball installed with express and its types, with
 * `req.principal` typed, the subpath sharing the main entry's types, and `skipLibCheck: false`.
 */
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attempt, consumerApp, devVersion, ROOT, type ConsumerApp } from './harness.js';

const CONSUMER = fileURLToPath(new URL('./consumer/', import.meta.url));

describe('TypeScript consumer of the installed package', () => {
  let app: ConsumerApp;
  beforeAll(async () => {
    const types = ['express', '@types/express', '@types/node'].map((name) => `${name}@${devVersion(name)}`);
    app = await consumerApp('types', 'module', types);
    for (const file of readdirSync(CONSUMER)) copyFileSync(join(CONSUMER, file), join(app.dir, file));
  }, 300_000);
  afterAll(() => app?.remove());

  it('compiles with tsc --strict (ESM and CJS declarations) without errors', async () => {
    const tsc = await attempt(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app.dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  }, 120_000);
});
