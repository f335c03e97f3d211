/**
 * The JWT access token / DPoP routes of the example app as a user meets them: the printed shell lines
 * (CLI token with a DPoP key, CLI proof, curl) run with bash against the app on loopback, with the
 * embedded oidc-provider issuing the DPoP-bound JWT.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mountJwtBearer } from '../../examples/express-app/routes/jwt-bearer.js';
import { mountExample, type MountedExample } from '../helpers/example-route.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

describe('example app: JWT access token and DPoP routes', () => {
  let example: MountedExample;
  beforeAll(async () => {
    example = await mountExample(mountJwtBearer, 'authnz-dpop-example-');
  });
  afterAll(() => example.close());

  it('the printed lines work: 401 without a token, a DPoP-bound token from the CLI, 200 with a CLI proof, 401 as Bearer', async () => {
    // Each curl prints its status code and the body; comments are dropped.
    const script = example.lines.map((l) => l.replace(/\s+#.*$/, '').replace(/^curl -i /, `curl -s -w '\\n%{http_code}\\n' `)).join('\n');
    const { stdout } = await run('bash', ['-c', `set -e\n${script}`], { timeout: 90_000, cwd: ROOT });
    const out = stdout.trim().split('\n');
    const codes = out.filter((l) => /^\d{3}$/.test(l));
    expect(codes).toEqual(['401', '200', '401', '200']);
    const ok = JSON.parse(out[out.indexOf('200') - 1] as string) as {
      principal: { subject: string; kind: string; details: { jkt?: string } };
    };
    expect(ok.principal).toMatchObject({ subject: 'svc-dpop', kind: 'service' });
    expect(ok.principal.details.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(out.join('\n')).toContain('"reason":"dpop_bound"');
  }, 120_000);
});
