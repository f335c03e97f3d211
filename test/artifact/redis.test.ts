/**
 * `authnz-express/redis` as installed, with ioredis and, separately, node-redis, and without
 * rate-limiter-flexible: the subpath loads, stores pointed at a closed port answer 503 with
 * Retry-After over HTTP (never 401, never a pass), their errors are recognised by the main entry's
 * `isAuthError`; `redisBruteForce()` locks out after `maxFailures` once rate-limiter-flexible is added.
 * In ESM (`import`) and CommonJS (`require`) alike.
 */
import { closedPort, consumerApp, devVersion, type ConsumerApp } from './harness.js';
import { redisUrl } from '../helpers/services.js';

const REDIS_URL = redisUrl();

interface Answer {
  status: number;
  code?: string;
  retryAfter: string | null;
  contentType: string | null;
}
interface Caught {
  isAuthError: boolean;
  code?: string;
  status?: number;
}
interface DownReport {
  rateLimiterFlexible: boolean;
  jwt: Answer;
  key: Answer;
  nonceError: Caught;
  keyError: Caught;
}
interface BruteForceReport {
  statuses: number[];
  codes: string[];
  lastRetryAfter: string | null;
}

const expect503 = (answer: Answer): void => {
  expect([answer.status, answer.code]).toEqual([503, 'dependency_unavailable']);
  expect(Number(answer.retryAfter)).toBeGreaterThan(0);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
};

describe.each([
  { kind: 'ioredis', type: 'commonjs' as const },
  { kind: 'redis', type: 'module' as const },
])('authnz-express/redis with $kind, without rate-limiter-flexible', ({ kind, type }) => {
  let app: ConsumerApp;
  beforeAll(async () => {
    app = await consumerApp(`redis-${kind}`, type, [`express@${devVersion('express')}`, `${kind}@${devVersion(kind)}`]);
  }, 300_000);
  afterAll(() => app?.remove());

  it.each(['main.mjs', 'main.cjs'])(
    '%s: nonce and API-key stores on a closed port give 503 + Retry-After; isAuthError is true',
    async (program) => {
      const report = await app.program<DownReport>(program, ['redisDown', kind, String(await closedPort())]);
      expect(report.rateLimiterFlexible).toBe(false);
      expect503(report.jwt);
      expect503(report.key);
      expect(report.nonceError).toMatchObject({ isAuthError: true, code: 'dependency_unavailable', status: 503 });
      expect(report.keyError).toMatchObject({ isAuthError: true, code: 'dependency_unavailable', status: 503 });
    },
  );

  it('with rate-limiter-flexible added, redisBruteForce() locks out after maxFailures (ESM and CJS)', async () => {
    await app.add([`rate-limiter-flexible@${devVersion('rate-limiter-flexible')}`]);
    for (const program of ['main.mjs', 'main.cjs']) {
      const report = await app.program<BruteForceReport>(program, ['bruteForce', kind, REDIS_URL]);
      expect(report.statuses).toEqual([401, 401, 401, 429, 429, 429]);
      expect(report.codes.slice(3)).toEqual(['locked_out', 'locked_out', 'locked_out']);
      expect(Number(report.lastRetryAfter)).toBeGreaterThan(30);
    }
  }, 120_000);
});
