/**
 * The built `dist/` seen from this repository: both module formats load and the main entry pulls in
 * no optional heavy dependency. The installed tarball (types included) is tested by test/artifact/.
 * `npm test` builds first (the `pretest` script).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = (args: string[]): string =>
  execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

describe('built package', () => {
  it('has been built', () => {
    expect(existsSync(`${root}dist/index.js`)).toBe(true);
    expect(existsSync(`${root}dist/index.cjs`)).toBe(true);
  });

  it('loads with import (ESM) and exposes the API', () => {
    const out = node([
      '--input-type=module',
      '-e',
      "const m = await import('authnz-express'); console.log(typeof m.authenticate, typeof m.apiJwtScheme, typeof m.requireScopes)",
    ]);
    expect(out.trim()).toBe('function function function');
  });

  it('loads with require (CJS) without loading Redis clients or the AWS SDK', () => {
    const out = node([
      '-e',
      "const m = require('authnz-express'); const heavy = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](ioredis|redis|@redis|@aws-sdk|rate-limiter-flexible)[\\\\/]/.test(k)); console.log(typeof m.authenticate, heavy.length)",
    ]);
    expect(out.trim()).toBe('function 0');
  });
});
