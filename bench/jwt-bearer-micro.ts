/**
 * `npx tsx bench/jwt-bearer-micro.ts [rounds]`: the authentication cost alone of jwtBearerScheme and
 * express-oauth2-jwt-bearer, in one process, on the same tokens and JWKS: both middleware stacks
 * (scheme + scope guard) are called with Express requests built on `app.request`, without sockets,
 * in interleaved rounds (A, B, A, B, …), so machine load hits both sides alike. Prints µs per
 * request and the ratio per scenario (median over rounds). The HTTP rows of `npm run bench` include
 * Express and the socket; these isolate the part that differs.
 */
import { generateKeyPairSync } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import { createDpopProof, dpopKey } from '../src/protocols/dpop/proof.js';
import { jwtBearerBuilders, mintAccessTokens } from './jwt-bearer.js';

const rounds = Number(process.argv[2] ?? 5);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keys = {
  rsaPrivate: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  rsaPublic: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  edPrivate: '',
  edPublic: '',
};
const builders = jwtBearerBuilders({ lib: () => import('../src/index.js'), poolSizes: () => ({ measure: 0, warmup: 0 }) });
const app = express();

function request(headers: Record<string, string>): express.Request {
  const req = Object.create(app.request) as express.Request & Record<string, unknown>;
  Object.assign(req, {
    app,
    headers,
    method: 'GET',
    url: '/r',
    originalUrl: '/r',
    socket: { remoteAddress: '127.0.0.1' },
    rawHeaders: Object.entries(headers).flat(),
  });
  return req;
}

/** Runs the stack over every request once; resolves to µs per request. Throws if any request is refused. */
async function measure(stack: RequestHandler[], requests: express.Request[]): Promise<number> {
  const res = { statusCode: 200, setHeader: () => undefined, end: () => undefined } as unknown as express.Response;
  const started = process.hrtime.bigint();
  for (const req of requests) {
    for (const handler of stack) {
      const outcome = await new Promise<unknown>((resolve) => {
        (res as unknown as { end: () => void }).end = () => resolve('refused');
        void handler(req, res, (err?: unknown) => resolve(err ?? 'next'));
      });
      if (outcome !== 'next') throw new Error(`refused: ${String((outcome as Error)?.message ?? outcome)}`);
    }
  }
  return Number(process.hrtime.bigint() - started) / 1000 / requests.length;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function scenario(name: string, ours: string, peer: string, make: () => express.Request[]): Promise<void> {
  const a = (await builders[ours]!(keys)).handlers;
  const b = (await builders[peer]!(keys)).handlers;
  await measure(a, make().slice(0, 200));
  await measure(b, make().slice(0, 200));
  const ra: number[] = [];
  const rb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ra.push(await measure(a, make()));
    rb.push(await measure(b, make()));
  }
  const [ma, mb] = [median(ra), median(rb)];
  console.log(`| ${name} | ${ma.toFixed(1)} | ${mb.toFixed(1)} | ${(mb / ma).toFixed(2)} |`);
}

const reused = mintAccessTokens(keys, 0, 1000, 'micro-reused', 3600);
console.log(
  `rounds: ${rounds}; Node ${process.version}; load average ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log('| scenario | authnz jwtBearerScheme µs/req | express-oauth2-jwt-bearer µs/req | speed-up (peer µs ÷ ours) |');
console.log('|---|---:|---:|---:|');
await scenario('1,000 reused tokens (3,000 requests)', 'jwt-bearer-reused', 'oauth2-jwt-bearer-at-reused', () =>
  Array.from({ length: 3000 }, (_, i) => request({ host: 'api.bench.example', authorization: `Bearer ${reused[i % 1000]}` })),
);
let batch = 0;
await scenario('every token new (1,000 requests)', 'jwt-bearer-new', 'oauth2-jwt-bearer-at-new', () =>
  mintAccessTokens(keys, 0, 1000, `micro-new-${batch++}`, 3600).map((t) =>
    request({ host: 'api.bench.example', authorization: `Bearer ${t}` }),
  ),
);
const client = dpopKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const bound = mintAccessTokens(keys, 0, 100, 'micro-dpop', 3600, client.jkt);
await scenario('DPoP, 100 bound tokens, fresh proof each (1,000 requests)', 'jwt-bearer-dpop', 'oauth2-jwt-bearer-dpop', () =>
  Array.from({ length: 1000 }, (_, i) => {
    const token = bound[i % 100] as string;
    return request({
      host: 'api.bench.example',
      authorization: `DPoP ${token}`,
      dpop: createDpopProof(client, { method: 'GET', url: 'http://api.bench.example/r', accessToken: token }),
    });
  }),
);
process.exit(0);
