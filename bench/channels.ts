/**
 * `npm run bench:channels`: what the diagnostics channels cost per request, in process (no HTTP, so
 * the figure is not lost in the noise of a loaded machine). The middleware under test is
 * `authenticate([scheme]) → requireScopes()` over a scheme that answers at once, the path where the
 * channels' share is largest. Rounds alternate (none, subscribed, none, …) and the median ns per
 * request of each is reported, together with the cost of the gate alone (`hasSubscribers`).
 *
 * Flags: --requests n per round (default 200 000), --rounds n per mode (default 7).
 */
import diagnostics from 'node:diagnostics_channel';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { authenticate, CHANNELS, createPrincipal, requireScopes, type AuthScheme, type Principal } from '../src/index.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
};
const REQUESTS = arg('requests', 200_000);
const ROUNDS = arg('rounds', 7);

const principal: Principal = createPrincipal({ subject: 'svc', kind: 'service', scheme: 'bench', scopes: ['orders:read'] });
const scheme: AuthScheme = {
  name: 'bench',
  challenge: { scheme: 'Bench' },
  authenticate: async (req) => (req.headers.authorization === undefined ? undefined : principal),
};
const auth = authenticate([scheme]);
const guard = requireScopes('orders:read');

/** One request through both middlewares; resolves when the guard passes it on. */
function once(req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    auth(req, res, (err) => {
      if (err) reject(err as Error);
      else guard(req, res, () => resolve());
    });
  });
}

async function round(): Promise<number> {
  const socket = new Socket();
  const started = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) {
    const req = new IncomingMessage(socket);
    req.headers = { authorization: 'Bench token' };
    req.rawHeaders = ['Authorization', 'Bench token'];
    await once(req, new ServerResponse(req));
  }
  return Number(process.hrtime.bigint() - started) / REQUESTS;
}

function gateOnly(): number {
  const channel = diagnostics.channel(CHANNELS.authenticate);
  let seen = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS * 10; i++) if (channel.hasSubscribers) seen++;
  const ns = Number(process.hrtime.bigint() - started) / (REQUESTS * 10);
  if (seen !== 0) throw new Error('a subscriber was present during the gate measurement');
  return ns;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

let events = 0;
const listener = (): void => {
  events++;
};
const subscribe = (on: boolean): void => {
  for (const name of Object.values(CHANNELS)) {
    if (on) diagnostics.subscribe(name, listener);
    else diagnostics.unsubscribe(name, listener);
  }
};

await round(); // warm-up: JIT, prototypes
const none: number[] = [];
const subscribed: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  none.push(await round());
  subscribe(true);
  subscribed.push(await round());
  subscribe(false);
}
const gate = gateOnly();
if (events !== ROUNDS * REQUESTS) throw new Error(`expected ${ROUNDS * REQUESTS} events, saw ${events}`);
const a = median(none);
const b = median(subscribed);
process.stdout.write(
  [
    `diagnostics channels, ${ROUNDS} rounds of ${REQUESTS} requests (authenticate + requireScopes, in process), median ns/request:`,
    `  no subscriber           ${a.toFixed(0)} ns`,
    `  subscriber on all three ${b.toFixed(0)} ns (${(((b - a) / a) * 100).toFixed(1)}% more; ${events} events received)`,
    `  the no-subscriber gate  ${gate.toFixed(2)} ns per check (one check per request: ${((gate / a) * 100).toFixed(3)}% of a request)`,
    `  spread of rounds, no subscriber: ${Math.min(...none).toFixed(0)}–${Math.max(...none).toFixed(0)} ns`,
  ].join('\n') + '\n',
);
