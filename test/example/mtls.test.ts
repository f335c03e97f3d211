/**
 * The example's mutual TLS listener as `npm run example` starts it: the development CA, server and
 * client certificates are made on first start, and the printed curl lines are run as printed
 * (by `sh`, with curl) and get the status they state; a second start reuses the certificates.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAppProcess, stopAppProcess, type AppProcess } from '../helpers/app-process.js';
import { freePort } from '../helpers/redis-server.js';

const SERVER = new URL('../../examples/express-app/server.ts', import.meta.url);

/** The printed lines of the mutual TLS section: each curl line and the status it states. */
function mtlsLines(output: string): Array<{ command: string; status: number }> {
  const section = output.slice(output.indexOf('# mutual TLS'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('curl '))
    .map((line) => ({ command: line.replace(/#.*$/, '').trim(), status: Number(/#\s*(\d{3})/.exec(line)?.[1]) }));
}

async function start(devDir: string): Promise<AppProcess> {
  const app = startAppProcess(
    SERVER,
    { PORT: String(await freePort()), AUTHNZ_DEV_DIR: devDir },
    { listening: /example listening on http:\/\/127\.0\.0\.1:(\d+)/ },
  );
  await app.url;
  // The banner is one write: wait until the mutual TLS section of it has arrived.
  while (!/# mutual TLS[^\n]*\n(?:[^\n]+\n){3}/.test(app.output.text)) await new Promise((resolve) => setTimeout(resolve, 50));
  return app;
}

describe('example app: mutual TLS listener', () => {
  const devDir = mkdtempSync(join(tmpdir(), 'authnz-example-mtls-'));
  let app: AppProcess | undefined;
  afterEach(() => stopAppProcess(app?.child));
  afterAll(() => rmSync(devDir, { recursive: true, force: true }));

  it('every printed curl line, run by sh, answers the status it states; a restart reuses the certificates', async () => {
    app = await start(devDir);
    const lines = mtlsLines(app.output.text);
    expect(lines.map((l) => l.status)).toEqual([200, 401]);
    for (const { command, status } of lines) {
      const { stdout } = await promisify(execFile)('sh', ['-c', `${command} -sS -o /dev/null -w '%{http_code}'`]);
      expect({ command, status: Number(stdout) }).toEqual({ command, status });
    }
    const ca = readFileSync(join(devDir, 'mtls/ca.pem'), 'utf8');
    await stopAppProcess(app.child);
    app = await start(devDir);
    expect(readFileSync(join(devDir, 'mtls/ca.pem'), 'utf8')).toBe(ca);
    const [ok] = mtlsLines(app.output.text);
    const { stdout } = await promisify(execFile)('sh', ['-c', `${ok?.command ?? ''} -sS`]);
    expect(JSON.parse(stdout)).toMatchObject({ subject: 'spiffe://example.org/ns/dev/sa/example-client' });
  });
});
