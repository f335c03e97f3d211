/**
 * Soak: autocannon (in-process) at high concurrency against every committed scheme, served by a
 * child process started with `--expose-gc` so its heap can be measured after a full GC. Valid and
 * hostile credentials are mixed. The run is a fixed number of requests (SOAK_REQUESTS, default
 * 8000), not a duration, and asserts no throughput: on a shared two-core machine throughput varies
 * tenfold, while what must hold does not. The local KMS and the introspection stub run in a third
 * process (`soak-deps.ts`), so the load on the server cannot starve them.
 * Asserts: every request answered, no socket errors or timeouts, no 5xx, valid requests 2xx and
 * hostile ones 4xx per route, heap growth under a stated bound, and the child exits cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID, sign, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const REQUESTS = Number(process.env['SOAK_REQUESTS'] ?? 8000);
/**
 * A request unanswered after this long counts as a timeout (a hang). Latency is not what the soak
 * measures (bench/ does): with 100 requests in flight on a machine whose load average was seen at 20,
 * answers took up to 8 s, so autocannon's 10 s default flagged a slow machine, not a hung request.
 */
const REQUEST_TIMEOUT_SECONDS = 60;
/** Heap growth allowed between the warmed-up start and the end, after full GCs in the child. */
const HEAP_GROWTH_BOUND = 64 * 1024 * 1024;
/** Absolute heap bound for the child at the end. */
const HEAP_BOUND = 256 * 1024 * 1024;
const CONNECTIONS = 100;

const edPrivate = createPrivateKey(readFileSync(new URL('../fixtures/asymmetric-jwt/keys/ed25519_private.pem', import.meta.url), 'utf8'));
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A fresh asymmetric JWT per request (each nonce is single-use). */
function asymmetricHeader(): string {
  const input = `${b64({ alg: 'EdDSA', typ: 'JWT' })}.${b64({ username: 'soak', time: Math.floor(Date.now() / 1000), nonce: randomUUID() })}`;
  return `JWT ${input}.${sign(null, Buffer.from(input), edPrivate).toString('base64url')}`;
}

interface Ready {
  port: number;
  apiJwt: string;
  apiKey: string;
  kmsHeaders: Record<string, string>;
  oauth: string;
}

let deps: ChildProcess;
let child: ChildProcess;
let ready: Ready;

/** Starts a tsx child and resolves with the first JSON line it prints (its readiness report). */
function startChild<T>(script: string, args: readonly string[], env: Record<string, string>): { process: ChildProcess; ready: Promise<T> } {
  const proc = spawn(process.execPath, [...args, '--import', 'tsx', new URL(script, import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  const started = new Promise<T>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${out}`)), 60_000);
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as T);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited early (${String(code)}): ${out}`));
    });
  });
  return { process: proc, ready: started };
}

async function stop(proc: ChildProcess | undefined): Promise<void> {
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
}

beforeAll(async () => {
  const d = startChild<{ kmsUrl: string; introspectionUrl: string }>('./soak-deps.ts', [], {});
  deps = d.process;
  const urls = await d.ready;
  const s = startChild<Ready>('./soak-server.ts', ['--expose-gc'], {
    SOAK_KMS_URL: urls.kmsUrl,
    SOAK_INTROSPECTION_URL: urls.introspectionUrl,
  });
  child = s.process;
  ready = await s.ready;
}, 130_000);

afterAll(async () => {
  await stop(child);
  await stop(deps);
});

async function heapUsed(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${ready.port}/__mem`);
  const body = (await res.json()) as { heapUsed: number; gc: boolean };
  expect(body.gc).toBe(true);
  return body.heapUsed;
}

type Route = { name: string; path: string; headers: () => Record<string, string>; expect: 'ok' | 'refused' };

it(
  `soak: ${REQUESTS} requests at ${CONNECTIONS} connections across all schemes, no 5xx, bounded heap`,
  async () => {
    const routes: Route[] = [
      { name: 'apijwt', path: '/apijwt', headers: () => ({ authorization: `Bearer ${ready.apiJwt}` }), expect: 'ok' },
      {
        name: 'apijwt-bad',
        path: '/apijwt',
        headers: () => ({ authorization: `Bearer ${ready.apiJwt.slice(0, -4)}AAAA` }),
        expect: 'refused',
      },
      { name: 'ajwt', path: '/ajwt', headers: () => ({ authorization: asymmetricHeader() }), expect: 'ok' },
      {
        name: 'ajwt-bad',
        path: '/ajwt',
        headers: () => ({ authorization: `JWT ${b64({ alg: 'none' })}.${b64({ username: 'soak', time: 1, nonce: 'x' })}.` }),
        expect: 'refused',
      },
      {
        name: 'kmsauth',
        path: '/kmsauth',
        headers: () => ({ 'x-auth-from': ready.kmsHeaders['X-Auth-From']!, 'x-auth-token': ready.kmsHeaders['X-Auth-Token']! }),
        expect: 'ok',
      },
      {
        name: 'kmsauth-bad',
        path: '/kmsauth',
        headers: () => ({ 'x-auth-from': '2/service/other', 'x-auth-token': ready.kmsHeaders['X-Auth-Token']! }),
        expect: 'refused',
      },
      { name: 'apikey', path: '/apikey', headers: () => ({ 'x-api-key': ready.apiKey }), expect: 'ok' },
      { name: 'apikey-bad', path: '/apikey', headers: () => ({ 'x-api-key': `${ready.apiKey.slice(0, -3)}xyz` }), expect: 'refused' },
      { name: 'oauth', path: '/oauth', headers: () => ({ authorization: `Bearer ${ready.oauth}` }), expect: 'ok' },
      { name: 'oauth-bad', path: '/oauth', headers: () => ({ authorization: `Bearer ${randomUUID()}` }), expect: 'refused' },
    ];
    const counts = new Map<string, Map<number, number>>(routes.map((r) => [r.name, new Map()]));
    const serverErrors: string[] = [];
    const tally = (name: string, status: number): void => {
      const m = counts.get(name)!;
      m.set(status, (m.get(status) ?? 0) + 1);
    };

    // Warm up (caches, JIT, lazy key parsing) before the baseline.
    for (const r of routes) await fetch(`http://127.0.0.1:${ready.port}${r.path}`, { headers: r.headers() });
    const before = await heapUsed();

    const result = await autocannon({
      url: `http://127.0.0.1:${ready.port}`,
      connections: CONNECTIONS,
      amount: REQUESTS,
      timeout: REQUEST_TIMEOUT_SECONDS,
      requests: routes.map((r) => ({
        method: 'GET' as const,
        path: r.path,
        setupRequest: (req: autocannon.Request) => ({ ...req, headers: { ...(req.headers ?? {}), ...r.headers() } }),
        onResponse: (status: number, body?: string) => {
          tally(r.name, status);
          // Evidence for the log should a 5xx ever appear: the problem's code and reason.
          if (status >= 500 && serverErrors.length < 5) serverErrors.push(`${r.name} ${status} ${String(body ?? '').slice(0, 300)}`);
        },
      })),
    });

    const after = await heapUsed();
    const summary = Object.fromEntries([...counts].map(([k, m]) => [k, Object.fromEntries(m)]));
    // Visible in the CI log: what the run did.
    process.stdout.write(
      `soak: ${result.requests.total} requests, ${Math.round(result.requests.average)} req/s, heap ${(before / 1e6).toFixed(1)} → ${(after / 1e6).toFixed(1)} MB\n${JSON.stringify(summary)}\n${serverErrors.join('\n')}\n`,
    );

    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect((result as unknown as Record<string, number>)['5xx']).toBe(0);
    // Every request was sent and answered: the fixed amount, tallied per route.
    expect([...counts.values()].reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0)).toBe(REQUESTS);
    for (const r of routes) {
      const statuses = [...counts.get(r.name)!.keys()];
      expect(statuses.length).toBeGreaterThan(0);
      for (const s of statuses) {
        if (r.expect === 'ok') expect([r.name, s]).toEqual([r.name, 200]);
        else expect([r.name, s >= 400 && s < 500]).toEqual([r.name, true]);
      }
    }
    expect(after - before).toBeLessThan(HEAP_GROWTH_BOUND);
    expect(after).toBeLessThan(HEAP_BOUND);
  },
  Math.max(600_000, REQUESTS * 100),
);
