/**
 * docs/getting-started.md, followed block by block as a reader would: the install line names this
 * package and a peer it declares; the pepper line runs in bash; the server file runs as a child
 * process on a free port of 127.0.0.1 (its `authnz-express` imports resolved to src/); the
 * `KEY=$(npx authnz …)` lines run the CLI into the server's key file; each curl line runs with real
 * curl, and its status and the response shown under it (status line, headers, JSON body) are what the
 * server answers. A line or block the test does not know how to run fails the test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { freePort } from '../helpers/redis-server.js';
import { isRunning, stopAppProcess } from '../helpers/app-process.js';
import { fences, type Fence } from './markdown.js';
import { ROOT, writeSnippets } from './snippets.js';

const PAGE = 'docs/getting-started.md';
const text = readFileSync(join(ROOT, PAGE), 'utf8');
const blocks = fences(text);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; peerDependencies: Record<string, string> };
/** The port the page's lines name; the test's server listens on another, free one. */
const PAGE_ORIGIN = 'http://127.0.0.1:3000';

/** bash -c `script`; resolves to stdout, rejects on a non-zero exit. */
function bash(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script], { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }, timeout: 20_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`bash -c ${script}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A curl -i answer: status, headers (lower-case names) and body. */
interface Answer {
  readonly status: number;
  readonly statusLine: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** Splits an HTTP/1.1 message as `curl -i` prints it (or as the page shows it). */
function parseHttp(message: string): Answer {
  const normalised = message.replace(/\r\n/g, '\n');
  const split = normalised.indexOf('\n\n');
  const head = (split < 0 ? normalised : normalised.slice(0, split)).split('\n');
  const statusLine = (head[0] ?? '').trim();
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1]), statusLine, headers, body: split < 0 ? '' : normalised.slice(split + 2).trim() };
}

/** The key id in `details.keyId` is random: the page's and the server's must both be 16 hex digits. */
function withKeyIdMasked(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const v = value as { details?: { keyId?: unknown } };
  if (typeof v.details?.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(v.details.keyId)) return value;
  return { ...v, details: { ...v.details, keyId: '<16 hex digits>' } };
}

describe(`${PAGE}, followed as written`, () => {
  let server: ChildProcess | undefined;
  let serverOutput = '';
  let origin = '';
  let keyFile = '';
  let moduleDir = '';
  const env: Record<string, string> = {};
  const savedPepper = process.env['AUTHNZ_APIKEY_PEPPER'];

  afterAll(async () => {
    await stopAppProcess(server);
    if (savedPepper === undefined) delete process.env['AUTHNZ_APIKEY_PEPPER'];
    else process.env['AUTHNZ_APIKEY_PEPPER'] = savedPepper;
    if (moduleDir) rmSync(moduleDir, { recursive: true, force: true });
  });

  /** Starts the page's server file (`node <file> &`) on a free port, cwd = its folder. */
  async function startServer(block: Fence): Promise<void> {
    const { paths } = writeSnippets([{ file: PAGE, line: block.line + 1, code: block.code, fragment: false, run: false, id: 'getting-started' }], `getting-started-${process.pid}`);
    const script = paths[0] as string;
    moduleDir = dirname(script);
    keyFile = join(moduleDir, 'keys.json');
    const port = await freePort();
    // cwd: the module's folder under build-check/, so `keys.json` lands there and `--import tsx`
    // resolves from the repository's node_modules.
    server = spawn(process.execPath, ['--import', 'tsx', script], { cwd: moduleDir, env: { ...process.env, NODE_OPTIONS: '', ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = server;
    origin = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not listen: ${serverOutput}`)), 60_000);
      const onData = (chunk: Buffer): void => {
        serverOutput += chunk.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(serverOutput);
        if (m) {
          clearTimeout(timer);
          expect(m[2]).toBe(String(port));
          resolve(m[1] as string);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${String(code)}): ${serverOutput}`));
      });
    });
  }

  it('every block runs, in page order, and answers as the page says', async () => {
    const serverFiles = blocks.filter((b) => b.lang === 'js');
    expect(serverFiles).toHaveLength(1);
    const ran: string[] = [];
    let lastCurl: Answer | undefined;
    for (const block of blocks) {
      const where = `${PAGE}:${block.line}`;
      if (block.lang === 'js') continue; // started by its `node … &` line
      if (block.lang === 'http' || block.lang === 'json') {
        // The answer of the curl line just before.
        if (lastCurl === undefined) throw new Error(`${where}: a ${block.lang} block that follows no curl line`);
        const shown = block.lang === 'http' ? parseHttp(block.code) : { ...lastCurl, body: block.code, statusLine: lastCurl.statusLine, headers: new Map<string, string>() };
        if (block.lang === 'http') expect(`${where}: ${lastCurl.statusLine}`).toBe(`${where}: ${shown.statusLine}`);
        for (const [name, value] of shown.headers) expect(`${where}: ${name}: ${lastCurl.headers.get(name)}`).toBe(`${where}: ${name}: ${value}`);
        expect(withKeyIdMasked(JSON.parse(lastCurl.body))).toEqual(withKeyIdMasked(JSON.parse(shown.body)));
        ran.push(`${block.lang} checked`);
        lastCurl = undefined;
        continue;
      }
      if (block.lang !== 'sh') throw new Error(`${where}: a \`\`\`${block.lang} block this test does not know how to run`);
      for (const raw of block.code.split('\n')) {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) continue;
        const install = /^npm install (.+)$/.exec(line);
        const exported = /^export (\w+)=(.+)$/.exec(line);
        const start = /^node (\S+) &$/.exec(line);
        const cli = /^(\w+)=\$\(npx authnz ([^)]+)\)$/.exec(line);
        const curl = /^(curl .+?)\s+# (\d{3})$/.exec(line);
        if (install) {
          // Not run (it needs the registry): it must name this package and peers it declares.
          const [own, ...peers] = (install[1] as string).split(/\s+/);
          expect(own).toBe(pkg.name);
          for (const peer of peers) expect(Object.keys(pkg.peerDependencies)).toContain(peer);
        } else if (exported) {
          const name = exported[1] as string;
          env[name] = await bash(`${line}\nprintf %s "$${name}"`, env);
          expect(env[name]).not.toBe('');
          process.env[name] = env[name]; // what `npx authnz` in the same shell sees
        } else if (start) {
          expect(start[1]).toBe('server.mjs');
          expect(text).toContain('Save this as `server.mjs`');
          await startServer(serverFiles[0] as Fence);
        } else if (cli) {
          if (!server) throw new Error(`${where}: an authnz line before the server started (its key file is the server's)`);
          const args = (cli[2] as string).trim().split(/\s+/);
          const store = args.indexOf('--store');
          expect(args[store + 1]).toBe('keys.json');
          args[store + 1] = keyFile;
          const out = { text: '' };
          const err = { text: '' };
          expect(await runCli(args, { out: (t) => void (out.text += t), err: (t) => void (err.text += t) })).toBe(0);
          expect(err.text).toMatch(/^id [0-9a-f]{16}: store this key now/); // what the terminal shows
          env[cli[1] as string] = out.text.trim();
          expect(env[cli[1] as string]).toMatch(/^ak_[0-9a-f]{16}\.[\w-]{43}$/);
        } else if (curl) {
          if (!origin) throw new Error(`${where}: a curl line before the server started`);
          expect(curl[1]).toContain(PAGE_ORIGIN);
          expect(curl[1]).toMatch(/^curl -i /);
          const answer = await bash((curl[1] as string).replaceAll(PAGE_ORIGIN, origin), env).catch((error: unknown) => {
            // Say what became of the server: a refused connection alone does not tell a crash from a port taken.
            const state = server && isRunning(server) ? 'running' : `exited (${String(server?.exitCode ?? server?.signalCode)})`;
            throw new Error(`${String(error)}\nserver ${state}; its output:\n${serverOutput}`);
          });
          lastCurl = parseHttp(answer);
          expect(`${line} → ${lastCurl.status}`).toBe(`${line} → ${curl[2]}`);
        } else {
          throw new Error(`${where}: a shell line this test does not know how to run: ${line}`);
        }
        ran.push(line);
      }
    }
    expect(server && isRunning(server)).toBe(true);
    // The page's path through the steps: install, pepper, server, two keys, four calls, four answers.
    expect(ran.filter((r) => r.startsWith('curl'))).toHaveLength(4);
    expect(ran.filter((r) => r.endsWith('checked'))).toHaveLength(4);
    expect(new Set(ran.filter((r) => r.startsWith('curl')).map((r) => /# (\d{3})$/.exec(r)?.[1]))).toEqual(new Set(['200', '401', '403']));
  }, 120_000);
});
