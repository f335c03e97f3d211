/**
 * The artifact tier's harness: the package as users get it. `npm pack` of the built `dist/` (once per
 * build: test files share the tarball through a directory keyed by its content), installed with npm
 * into fresh temporary consumer apps next to nothing but what each scenario names. Scenario programs
 * (test/artifact/programs/) run in those apps with plain `node`, import only `authnz-express`, and
 * print what they observed as JSON for the test to assert.
 *
 * `AUTHNZ_TARBALL=/path/to/authnz-express-x.y.z.tgz` runs the tier against another tarball, e.g. one
 * packed from an older commit, to show which checks that build fails.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROGRAMS = fileURLToPath(new URL('./programs/', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** npm and the programs must not inherit jest's `--experimental-vm-modules`. */
const ENV = { ...process.env, NODE_OPTIONS: '', npm_config_update_notifier: 'false' };

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)]));
}

/** Fails with a clear message when `dist/` is missing or older than a source file (run `npx tsup`). */
function assertFreshBuild(): void {
  const built = join(ROOT, 'dist/index.js');
  if (!existsSync(built)) throw new Error('dist/ is missing: run `npx tsup` (npm test does it in pretest)');
  const builtAt = statSync(built).mtimeMs;
  const stale = [...filesUnder(join(ROOT, 'src')), join(ROOT, 'package.json')].filter((f) => statSync(f).mtimeMs > builtAt);
  if (stale.length > 0) throw new Error(`dist/ is older than ${stale[0]}: run \`npx tsup\` (npm test does it in pretest)`);
}

/**
 * The tarball under test: `npm pack` of the current build, made once per content of `dist/` and
 * package.json and shared by every artifact test file (parallel jest workers wait for the first).
 */
export async function tarball(): Promise<string> {
  const given = process.env['AUTHNZ_TARBALL'];
  if (given) return given;
  assertFreshBuild();
  const hash = createHash('sha256');
  const shippedDocs = [...filesUnder(join(ROOT, 'docs')).filter((f) => !f.includes('/docs/api/')), join(ROOT, 'bench/RESULTS.md')].sort();
  for (const f of [...filesUnder(join(ROOT, 'dist')).sort(), join(ROOT, 'package.json'), join(ROOT, 'README.md'), ...shippedDocs])
    hash.update(f).update(readFileSync(f));
  const dir = join(tmpdir(), `authnz-artifact-${hash.digest('hex').slice(0, 16)}`);
  const done = join(dir, 'tarball');
  if (existsSync(done)) return readFileSync(done, 'utf8');
  // mkdir is atomic: the worker that creates `.lock` packs; the others wait for the result.
  mkdirSync(dir, { recursive: true });
  try {
    mkdirSync(join(dir, '.lock'));
  } catch {
    for (let waited = 0; !existsSync(done); waited += 200) {
      if (waited > 120_000) throw new Error(`timed out waiting for another worker to pack into ${dir}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return readFileSync(done, 'utf8');
  }
  // --ignore-scripts: the build is already checked fresh; `prepare` must not rebuild dist/ under
  // the feet of other test files.
  const out = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  const name = (JSON.parse(out) as Array<{ filename: string }>)[0]?.filename;
  if (!name) throw new Error(`npm pack printed no file name: ${out}`);
  writeFileSync(`${done}.tmp`, join(dir, name));
  renameSync(`${done}.tmp`, done);
  return join(dir, name);
}

/** Runs a command; resolves to stdout, rejects with stdout and stderr on a non-zero exit. */
export function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = ENV, timeoutMs = 240_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Outcome of a command that is allowed to fail. */
export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command and reports its exit code and output instead of throwing. */
export function attempt(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = ENV): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The version of a dev dependency installed in this repository, so consumer installs hit npm's cache. */
export function devVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** A consumer app in a fresh temporary folder. */
export interface ConsumerApp {
  readonly dir: string;
  /** Runs `test/artifact/programs/<program>` in the app with `node`; resolves to its JSON report. */
  program<T>(program: string, args?: readonly string[], env?: NodeJS.ProcessEnv): Promise<T>;
  /** `npx authnz <args>` in the app (`--no`: never fetch a package of that name from the registry). */
  authnz(args: readonly string[]): Promise<Outcome>;
  /** Installs more packages (`name@version`). */
  add(packages: readonly string[]): Promise<void>;
  /** Deletes the folder. */
  remove(): void;
}

/**
 * Creates a consumer app (`type: module` or CommonJS) and installs the tarball plus `packages`
 * (`name@version`) into it with npm, as a user would.
 */
export async function consumerApp(label: string, type: 'module' | 'commonjs', packages: readonly string[]): Promise<ConsumerApp> {
  const tgz = await tarball();
  const dir = mkdtempSync(join(tmpdir(), `authnz-consumer-${label}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${label}`, version: '1.0.0', private: true, type }, null, 2));
  const install = (names: readonly string[]): Promise<string> =>
    run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...names], dir);
  await install([tgz, ...packages]);
  return {
    dir,
    async program<T>(program: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<T> {
      for (const file of readdirSync(PROGRAMS)) copyFileSync(join(PROGRAMS, file), join(dir, file));
      const out = await run(process.execPath, [program, ...args], dir, { ...ENV, ...env }, 60_000);
      return JSON.parse(out.trim().split('\n').pop() ?? 'null') as T;
    },
    authnz: (args) => attempt(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--no', '--', 'authnz', ...args], dir),
    add: async (names) => {
      await install(names);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A loopback port with nothing listening on it (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** True when `name` resolves from the app folder (CommonJS resolution, as `require` would). */
export function resolvesIn(app: ConsumerApp, name: string): boolean {
  try {
    execFileSync(process.execPath, ['-e', `require.resolve(${JSON.stringify(name)})`], { cwd: app.dir, env: ENV, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
