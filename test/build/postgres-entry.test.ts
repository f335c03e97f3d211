/**
 * `authnz-express/postgres` as built: it loads with import and require, and `pg` is loaded by
 * nothing but it (the main entry and the subpath itself load it only when a store is opened).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = (args: string[]): string =>
  execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
const PG_LOADED = 'Object.keys(require.cache).filter((k) => /node_modules[\\\\/](pg|pg-pool)[\\\\/]/.test(k)).length';

describe('authnz-express/postgres (built)', () => {
  it('loads with require; neither it nor the main entry loads pg until a store is opened', async () => {
    const out = node([
      '-e',
      `require('authnz-express'); const p = require('authnz-express/postgres'); const before = ${PG_LOADED}; p.openPostgresApiKeyStore('postgres://127.0.0.1:1/x').then(async (s) => { console.log(typeof p.PostgresApiKeyStore, before, ${PG_LOADED} > 0); await s.close(); });`,
    ]);
    expect(out.trim()).toBe('function 0 true');
  });

  it('loads with import and gives the migration', () => {
    const out = node([
      '--input-type=module',
      '-e',
      "const p = await import('authnz-express/postgres'); console.log(p.apiKeyMigrationSql().includes('authnz_api_keys'), typeof p.migrateApiKeys)",
    ]);
    expect(out.trim()).toBe('true function');
  });
});
