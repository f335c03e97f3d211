/**
 * The cryptography a path cannot avoid, timed in process in the same run as the servers: one
 * RSA-2048 (RS256) verify, one Ed25519 verify, one ES256 verify, one HMAC-SHA256, one SHA-256 of a
 * token-sized input, and one claim in the memory nonce store (the asymmetric scheme's replay check).
 * Timed in CPU time (`process.cpuUsage`), like the servers, so a busy machine slows it no more than
 * it slows them; each figure is the median of several batches.
 */
import { createHash, createHmac, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

/** The operations a floor is made of. */
export type FloorOp = 'rsa2048-verify' | 'ed25519-verify' | 'es256-verify' | 'hmac-sha256' | 'sha256' | 'nonce-memory';

/** µs of CPU per operation. */
export type Floors = Readonly<Record<FloorOp, number>>;

/**
 * Options of the memory nonce store the run times its claims in. One subject claims 14,000 nonces
 * (about 3.3 MB) per floor sample, each kept 60 s: with the default byte quota per subject (8 MiB),
 * three samples within a minute (short rounds) were refused with `replay_store_full`.
 */
export const FLOOR_NONCE_STORE_OPTIONS = {
  maxEntries: 1_000_000,
  maxEntriesPerSubject: 1_000_000,
  maxBytes: 2 ** 30,
  maxBytesPerSubject: 2 ** 30,
} as const;

/** The store's one method the floor uses (the library's MemoryReplayStore). */
interface NonceStoreLike {
  claim(claim: { subject: string; time: string; nonce: string; ttlMs: number }): Promise<boolean>;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** CPU µs per call of `op`: the median of `batches` batches of `n` calls. */
export function timeOp(op: () => void, n: number, batches = 7): number {
  for (let i = 0; i < Math.min(n, 50); i++) op();
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = cpuNow();
    for (let i = 0; i < n; i++) op();
    per.push((cpuNow() - start) / n);
  }
  return median(per);
}

/** The same for an operation that returns a promise (each awaited before the next). */
async function timeAsync(op: () => Promise<unknown>, n: number, batches = 7): Promise<number> {
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = cpuNow();
    for (let i = 0; i < n; i++) await op();
    per.push((cpuNow() - start) / n);
  }
  return median(per);
}

/** A signed input of token size for each key type. */
function signed(key: KeyObject, alg: string | null, data: Buffer, dsa?: 'ieee-p1363'): Buffer {
  return sign(alg, data, dsa ? { key, dsaEncoding: dsa } : key);
}

/** Times every floor operation once; `replayStore` makes the nonce claim's figure. */
export async function measureFloors(replayStore: NonceStoreLike): Promise<Floors> {
  const token = Buffer.from('x'.repeat(600));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaSig = signed(rsa.privateKey, 'sha256', token);
  const edSig = signed(ed.privateKey, null, token);
  const ecSig = signed(ec.privateKey, 'sha256', token, 'ieee-p1363');
  const pepper = 'authnz-bench-pepper-authnz-bench-pepper';
  const text = token.toString('latin1');
  const now = Math.floor(Date.now() / 1000);
  // Nonces made ahead: the scheme parses its nonce from the token, it does not generate one.
  const nonces = Array.from({ length: 7 * 2000 }, (_, i) => `${i}-${randomUUID()}`);
  let n = 0;
  const floors: Record<FloorOp, number> = {
    'rsa2048-verify': timeOp(() => verify('sha256', token, rsa.publicKey, rsaSig), 300),
    'ed25519-verify': timeOp(() => verify(null, token, ed.publicKey, edSig), 300),
    'es256-verify': timeOp(() => verify('sha256', token, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, ecSig), 200),
    'hmac-sha256': timeOp(() => createHmac('sha256', pepper).update(text).digest(), 2000),
    sha256: timeOp(() => createHash('sha256').update(text).digest('base64'), 2000),
    'nonce-memory': await timeAsync(
      () => replayStore.claim({ subject: 'bench-client', time: String(now), nonce: nonces[n++ % nonces.length] as string, ttlMs: 60_000 }),
      2000,
    ),
  };
  return floors;
}

/** The floor of a path: the sum of its operations. */
export function floorOf(ops: readonly FloorOp[] | undefined, floors: Floors): number {
  return (ops ?? []).reduce((a, op) => a + floors[op], 0);
}

/** Floors measured several times in a run, combined by the median per operation. */
export function medianFloors(samples: readonly Floors[]): Floors | undefined {
  const first = samples[0];
  if (first === undefined) return undefined;
  const out = {} as Record<FloorOp, number>;
  for (const op of Object.keys(first) as FloorOp[]) out[op] = median(samples.map((s) => s[op]));
  return out;
}
