/**
 * `authnz-express/kms` as installed with `@aws-sdk/client-kms`, against the package's local KMS
 * endpoint: a stopped KMS, a KMS that never answers and a DescribeKey outage answer 503 with
 * Retry-After over HTTP (never 401), and the generator throws `KmsauthConnectionError`. ESM and CJS.
 */
import { closedPort, consumerApp, devVersion, type ConsumerApp } from './harness.js';

interface Answer {
  status: number;
  code?: string;
  retryAfter: string | null;
  body: Record<string, unknown>;
}
interface KmsReport {
  up: Answer;
  describeDown: Answer;
  neverAnswers: Answer;
  stopped: Answer;
  generator: { threw: boolean; name?: string; isKmsauthConnectionError?: boolean };
}

describe('authnz-express/kms with @aws-sdk/client-kms', () => {
  let app: ConsumerApp;
  beforeAll(async () => {
    app = await consumerApp('kms', 'module', [
      `express@${devVersion('express')}`,
      `@aws-sdk/client-kms@${devVersion('@aws-sdk/client-kms')}`,
    ]);
  }, 300_000);
  afterAll(() => app?.remove());

  it.each(['main.mjs', 'main.cjs'])(
    '%s: KMS stopped, hung or failing DescribeKey gives 503 + Retry-After; the generator throws KmsauthConnectionError',
    async (program) => {
      const report = await app.program<KmsReport>(program, ['kmsDown', '-', String(await closedPort())]);
      expect([report.up.status, report.up.body['subject']]).toEqual([200, 'svc-up']);
      for (const answer of [report.describeDown, report.neverAnswers, report.stopped]) {
        expect([answer.status, answer.code]).toEqual([503, 'dependency_unavailable']);
        expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      }
      expect(report.generator).toEqual({ threw: true, name: 'KmsauthConnectionError', isKmsauthConnectionError: true });
    },
  );
});
