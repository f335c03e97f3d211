/**
 * The `authnz` CLI as a whole: every command's help and error paths, the naming conventions across
 * commands, stdout/stderr separation, exit codes, and the command lines printed in the docs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { commands } from '../../src/cli/commands/index.js';
import { checkCommandLine, runCli } from '../../src/cli/main.js';
import { authnzInvocations } from './command-lines.js';

const ROOT = new URL('../../', import.meta.url).pathname;

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

const names = (path: readonly string[]): string => path.join(' ');
const groups = [...new Set(commands.filter((c) => c.path.length > 1).map((c) => c.path[0] as string))];

describe('help at every level goes to stdout with exit 0', () => {
  it.each([['--help'], ['-h'], ['help']])('authnz %s lists every command', async (flag) => {
    const r = await cli([flag]);
    expect([r.code, r.err]).toEqual([0, '']);
    for (const c of commands) expect(r.out).toContain(`  ${names(c.path)} `);
  });

  it.each(groups)('authnz %s --help lists its commands; without a command it is a usage error', async (group) => {
    const r = await cli([group, '--help']);
    expect([r.code, r.err]).toEqual([0, '']);
    for (const c of commands.filter((c) => c.path[0] === group)) expect(r.out).toContain(names(c.path));
    const bare = await cli([group]);
    expect([bare.code, bare.out]).toEqual([2, '']);
    expect(bare.err).toContain(`authnz ${group}: missing command`);
  });

  it.each(commands.map((c) => [names(c.path), c] as const))('authnz %s --help / -h / help … show every option', async (_name, command) => {
    const texts = await Promise.all([cli([...command.path, '--help']), cli([...command.path, '-h']), cli(['help', ...command.path])]);
    for (const r of texts) {
      expect([r.code, r.err]).toEqual([0, '']);
      expect(r.out).toMatch(new RegExp(`^usage: authnz ${names(command.path)} `));
      for (const o of command.options) expect(r.out).toContain(`--${o.name}`);
      expect(r.out).toContain('-h, --help');
    }
    expect(texts[1]?.out).toBe(texts[0]?.out);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });
});

describe('usage mistakes exit 2, name the problem on stderr and print nothing on stdout', () => {
  async function usage(argv: string[], message: string | RegExp): Promise<void> {
    const r = await cli(argv);
    expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
    expect(r.err).toMatch(message);
  }

  it('unknown commands name the closest one', async () => {
    await usage(['keygn'], "unknown command 'keygn' (did you mean 'keygen'?)");
    await usage(['kms', 'tokn'], "unknown command 'kms tokn' (did you mean 'kms token'?)");
    await usage(['apikye', 'create'], "unknown command 'apikye' (did you mean 'apikey create'?)");
    await usage(['frobnicate'], /unknown command 'frobnicate'\n/);
    await usage([], 'authnz: missing command');
    await usage(['--verson'], 'unknown option --verson (did you mean --version?)');
  });

  it.each(commands.map((c) => [names(c.path), c] as const))('authnz %s: unknown and misspelt options', async (_name, command) => {
    await usage([...command.path, '--no-such-option'], /unknown option --no-such-option\n/);
    await usage([...command.path, '-x'], 'unknown option -x');
    for (const o of command.options) {
      await usage([...command.path, `--${o.name}x`], `unknown option --${o.name}x (did you mean --${o.name}?)`);
      expect(o.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/); // kebab case, one spelling
    }
  });

  it.each(commands.map((c) => [names(c.path), c] as const))(
    'authnz %s: missing values, values on flags, repeats, required options, positionals',
    async (_name, command) => {
      const valued = command.options.filter((o) => o.value !== undefined);
      for (const o of valued) await usage([...command.path, `--${o.name}`], `--${o.name} needs a value`);
      for (const o of command.options.filter((o) => o.value === undefined))
        await usage([...command.path, `--${o.name}=yes`], `--${o.name} takes no value`);
      for (const o of valued.filter((o) => !o.repeat && !o.list))
        await usage([...command.path, `--${o.name}`, 'a', `--${o.name}`, 'b'], `--${o.name} given more than once`);
      const required = command.options.find((o) => o.required);
      const positionals = (command.positionals ?? []).map(() => 'X');
      if (required) await usage([...command.path, ...positionals], `--${required.name} is required`);
      if (positionals.length > 0) await usage([...command.path], `missing <${command.positionals?.[0]?.name as string}>`);
      await usage([...command.path, ...positionals, 'surplus'], 'unexpected argument "surplus"');
    },
  );

  it('bad values name the option and what it accepts', async () => {
    await usage(['keygen', '--type', 'dsa'], '--type must be one of rsa, ed25519, ec (got "dsa"');
    await usage(['keygen', '--bits', '1024'], '--bits must be a whole number from 2048 to 16384 (got "1024")');
    await usage(
      ['apijwt', 'mint', '--private-key', 'k.pem', '--subject', 'a', '--lifetime-seconds', '1 hour'],
      '--lifetime-seconds must be a duration such as 90, 90s, 15m, 12h or 30d',
    );
    await usage(
      ['kms', 'token', '--kms-key', 'alias/x', '--subject', 'a', '--audience', 'b', '--lifetime-seconds', '90s'],
      '--lifetime-seconds must be whole minutes',
    );
    await usage(
      ['kms', 'token', '--kms-key', 'alias/x', '--subject', 'a', '--audience', 'b', '--kind', 'robot'],
      '--kind must be one of service, user',
    );
    await usage(['apikey', 'list', '--store', 'mysql://db/keys'], '--store: unsupported store URL');
  });
});

describe('one name per concept across commands', () => {
  const all = commands.flatMap((c) => c.options.map((o) => ({ command: names(c.path), ...o })));

  it('no command uses an ambiguous or retired name', () => {
    const retired = ['key', 'scopes', 'user', 'owner', 'sub', 'from', 'to', 'user-type', 'lifetime', 'expires-in', 'passphrase', 'redis'];
    expect(all.filter((o) => retired.includes(o.name)).map((o) => `${o.command} --${o.name}`)).toEqual([]);
  });

  it('scopes are --scope everywhere, repeatable and comma-separated; key files are --private-key FILE', () => {
    const scoped = all.filter((o) => o.name === 'scope');
    expect(scoped.map((o) => o.command).sort()).toEqual(['apijwt mint', 'apikey create', 'oauth token']);
    expect(scoped.every((o) => o.list === true)).toBe(true);
    expect(all.filter((o) => o.name === 'private-key').every((o) => o.value === 'FILE')).toBe(true);
    expect(
      all
        .filter((o) => o.name === 'subject')
        .map((o) => o.command)
        .sort(),
    ).toEqual(['apijwt mint', 'apikey create', 'apikey list', 'jwt header', 'kms token', 'oauth token']);
    expect(commands.every((c) => c.options.some((o) => o.name === 'json'))).toBe(true);
  });

  it('--scope a,b --scope c gives the same token claims as three repeats (api_jwt joins them with commas)', async () => {
    const key = join(ROOT, 'test/fixtures/apijwt/rsa_private.pem');
    const claims = async (argv: string[]): Promise<unknown> => {
      const r = await cli(['apijwt', 'mint', '--private-key', key, '--subject', 'a', '--json', ...argv]);
      expect(r.code).toBe(0);
      return (JSON.parse(r.out) as { claims: { scopes: unknown } }).claims.scopes;
    };
    expect(await claims(['--scope', 'a,b', '--scope', 'c'])).toBe('a,b,c');
    expect(await claims(['--scope', 'a', '--scope', 'b', '--scope', 'c'])).toBe('a,b,c');
    expect(await claims(['--scope', 'a b,,c'])).toBe('a,b,c');
  });
});

describe('results on stdout, messages on stderr, errors exit 1', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'authnz-cli-io-'));
    writeFileSync(join(dir, 'pepper'), randomBytes(32).toString('base64url'), { mode: 0o600 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('apikey create prints only the key on stdout; the id goes to stderr', async () => {
    const r = await cli([
      'apikey',
      'create',
      '--store',
      join(dir, 'keys.json'),
      '--pepper-file',
      join(dir, 'pepper'),
      '--subject',
      'ci',
      '--scope',
      'a,b',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ak_[0-9a-f]{16}\.[A-Za-z0-9_-]+\n$/);
    expect(r.err).toContain(`id ${r.out.slice(3, 19)}`);
    const listed = await cli(['apikey', 'list', '--store', join(dir, 'keys.json'), '--json']);
    expect((JSON.parse(listed.out) as Array<{ scopes: string[] }>)[0]?.scopes).toEqual(['a', 'b']);
  });

  it('apikey list/revoke on a store file that does not exist is an error, not "no keys"', async () => {
    const missing = join(dir, 'missing.json');
    for (const argv of [
      ['apikey', 'list', '--store', missing],
      ['apikey', 'revoke', '0123456789abcdef', '--store', missing],
    ]) {
      const r = await cli(argv);
      expect({ code: r.code, out: r.out }).toEqual({ code: 1, out: '' });
      expect(r.err).toContain(`no key store at ${missing}`);
    }
    expect(readdirSync(dir)).not.toContain('missing.json');
  });

  it('a failure while running exits 1 with the command named', async () => {
    const r = await cli(['apijwt', 'mint', '--private-key', join(dir, 'nope.pem'), '--subject', 'a']);
    expect({ code: r.code, out: r.out }).toEqual({ code: 1, out: '' });
    expect(r.err).toMatch(/^authnz apijwt mint: .*nope\.pem/);
  });

  it('the installed binary: K=$(authnz …) captures only the result; exit statuses reach the shell', async () => {
    const bin = join(ROOT, 'dist/cli/main.js');
    const run = async (argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      promisify(execFile)(process.execPath, [bin, ...argv]).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const made = await run(['keygen', '--type', 'ed25519', '--out', dir, '--name', 'bin']);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^kid [A-Za-z0-9_-]{43}\nfingerprint [0-9a-f]{64}\n$/);
    expect(made.stderr).toContain('wrote ');
    expect((await run(['keygen', '--typo'])).code).toBe(2);
    expect((await run(['keygen', '--help'])).code).toBe(0);
    expect((await run(['jwks', join(dir, 'nothing-here')])).code).toBe(1);
  });
});

describe('documented command lines are valid', () => {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const lines = files.flatMap((file) => {
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/\\\n\s*/g, ' ');
    const shell = [...text.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].flatMap((m) => (m[1] as string).split('\n'));
    const inline = [...text.matchAll(/`((?:npx )?authnz [a-z][^`]*)`/g)].map((m) => (m[1] as string).replace(/\n/g, ' '));
    return [...shell, ...inline].flatMap((line) => authnzInvocations(line).map((argv) => ({ file, argv })));
  });

  it('finds the documented lines', () => {
    expect(lines.length).toBeGreaterThanOrEqual(15);
  });

  it('every documented authnz line names a command and only its options', () => {
    const bad: string[] = [];
    for (const { file, argv } of lines) {
      // A bare command name in prose (`authnz kms token`) lacks its required options on purpose.
      try {
        checkCommandLine(argv);
      } catch (error) {
        if (!/is required|missing </.test((error as Error).message) || argv.some((a) => a.startsWith('--')))
          bad.push(`${file}: authnz ${argv.join(' ')}: ${(error as Error).message}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
