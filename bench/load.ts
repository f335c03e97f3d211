/**
 * The load process: runs autocannon against one server at a time, on the other core. Each job
 * warms up, then measures for a bounded time while rotating through a pool of request headers.
 * Pools are read once and kept; every round starts at the beginning of its pool, because every
 * round is a fresh server process that has seen none of its tokens.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

/** A job from the orchestrator. */
export interface LoadJob {
  readonly url: string;
  readonly poolFile: string;
  readonly warmupPoolFile: string;
  readonly duration: number;
  readonly warmup: number;
  readonly connections: number;
  /** Count requests that reuse a pool entry (pools meant to be used once). */
  readonly countReuse: boolean;
  /** Requests per second cap (0: none). */
  readonly rate: number;
  /** The pools were made by this round's server: forget them after the job (they are large and never reused). */
  readonly once?: boolean;
  /** Where in the measured pool to start (a second window of one server continues after the first). */
  readonly offset?: number;
}

/** What a job measured. */
export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly total: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Requests that had to reuse a pool entry because the pool ran out (new-token runs). */
  readonly wrapped: number;
  /** Pool entries this job used (the next window's `offset`). */
  readonly used: number;
}

type Headers = Readonly<Record<string, string>>;
const pools = new Map<string, readonly Headers[]>();

function pool(file: string): readonly Headers[] {
  let headers = pools.get(file);
  if (!headers) {
    const entries = JSON.parse(readFileSync(file, 'utf8')) as { tokens?: string[] } | Headers[];
    headers = Array.isArray(entries) ? entries : (entries.tokens ?? []).map((t) => ({ authorization: `Bearer ${t}` }));
    pools.set(file, headers);
  }
  return headers;
}

async function drive(
  url: string,
  headers: readonly Headers[],
  seconds: number,
  connections: number,
  rate: number,
  offset = 0,
): Promise<{ result: autocannon.Result; used: number }> {
  let next = offset;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    ...(rate > 0 ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'GET',
        path: '/r',
        setupRequest: (request) => {
          request.headers = headers[next++ % headers.length] as Record<string, string>;
          return request;
        },
      },
    ],
  });
  return { result, used: next };
}

process.on('message', (job: LoadJob) => {
  void (async () => {
    if (job.warmup > 0) await drive(job.url, pool(job.warmupPoolFile), job.warmup, job.connections, job.rate);
    const headers = pool(job.poolFile);
    const { result, used } = await drive(job.url, headers, job.duration, job.connections, job.rate, job.offset ?? 0);
    const answer: LoadResult = {
      requestsPerSecond: result.requests.total / job.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      total: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      wrapped: job.countReuse ? Math.max(0, used - Math.max(headers.length, job.offset ?? 0)) : 0,
      used,
    };
    if (job.once === true) {
      pools.delete(job.poolFile);
      pools.delete(job.warmupPoolFile);
    }
    process.send?.(answer);
  })();
});
process.on('disconnect', () => process.exit(0));
