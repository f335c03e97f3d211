/** An asymmetric JWT app on a nonce store, listening on loopback, and one presentation at a time to it. */
import type { AddressInfo } from 'node:net';
import { createAuthHeader } from '../../src/schemes/asymmetric-jwt/index.js';
import type { ReplayStore } from '../../src/stores/replay.js';
import { appWith, keyText } from '../asymmetric-jwt/helpers.js';

/** One presentation: its status, when it started (ms after the app listened) and how long it took. */
export interface Outcome {
  readonly status: number;
  readonly startedMs: number;
  readonly tookMs: number;
  readonly header: string;
}

/** A listening app; `present` sends one request as `subject` (or with `header`, a replay). */
export interface NonceApp {
  readonly t0: number;
  present(subject: string, header?: string): Promise<Outcome>;
  close(): Promise<void>;
}

const publicKey = keyText('ed25519_public.pem');
const privateKey = keyText('ed25519_private.pem');

/** Serves `/whoami` for `subjects` with `replayStore`; times are measured from when it listens. */
export async function nonceApp(replayStore: ReplayStore, subjects: readonly string[]): Promise<NonceApp> {
  const server = appWith({ users: Object.fromEntries(subjects.map((s) => [s, { publicKeys: [publicKey] }])), replayStore }).listen(
    0,
    '127.0.0.1',
  );
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const t0 = Date.now();
  return {
    t0,
    async present(subject, header = createAuthHeader({ username: subject, privateKey })) {
      const startedMs = Date.now() - t0;
      const res = await fetch(`${url}/whoami`, { headers: { authorization: header } });
      await res.arrayBuffer();
      return { status: res.status, startedMs, tookMs: Date.now() - t0 - startedMs, header };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
