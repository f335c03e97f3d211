/**
 * Jest runs the TypeScript sources as ESM (jose 6 is ESM-only), in four tiers, one jest project each.
 * Every test file is listed in exactly one tier below (test/build/tiers.test.ts checks it):
 *
 * - unit: no Redis, no PostgreSQL, no redis-server/initdb children, no `npm pack`, no load. Loopback
 *   servers started in-process (HTTP stubs, the local KMS, an OIDC provider) are fine.
 * - integration: real Redis, PostgreSQL, Redis Cluster and private redis-server/PostgreSQL children;
 *   also in-process suites too slow for the unit tier (typedoc). Its global setup finds or starts
 *   the services (test/setup/global-setup.ts, test/helpers/preflight.ts).
 * - artifact: the built package: its API surface (dist), and `npm pack` installed into fresh apps.
 *   Needs Redis (one consumer program uses it).
 * - soak: fixed-length load runs (the soak and the benchmark smoke).
 *
 * `npm test` runs all four; `npm run test:<tier>` runs one (TEST_TIER=<tier>, or several
 * comma-separated, keeps only those projects).
 */

/** Test files per tier, relative to the repository root. */
export const tiers = {
  unit: [
    'test/apijwt/hostile-headers.test.ts',
    'test/apijwt/jwks.test.ts',
    'test/apijwt/vectors.test.ts',
    'test/apijwt/verifier-hardening.test.ts',
    'test/apikey/apikey.test.ts',
    'test/apikey/example.test.ts',
    'test/apikey/hmac-pads.test.ts',
    'test/apikey/no-id-oracle.test.ts',
    'test/apikey/record-memo.test.ts',
    'test/asymmetric-jwt/audience-nonces.test.ts',
    'test/asymmetric-jwt/claims-hardening.test.ts',
    'test/asymmetric-jwt/cli-example.test.ts',
    'test/asymmetric-jwt/stores-keys.test.ts',
    'test/asymmetric-jwt/vectors.test.ts',
    'test/authnzerver/authnzerver.test.ts',
    'test/authnzerver/bridge.test.ts',
    'test/bench/chart.test.ts',
    'test/bench/cpu-report.test.ts',
    'test/bench/floor.test.ts',
    'test/build/layout.test.ts',
    'test/build/conventions.test.ts',
    'test/build/mirrors.test.ts',
    'test/build/package.test.ts',
    'test/build/postgres-entry.test.ts',
    'test/build/tiers.test.ts',
    'test/client-certificate/docs.test.ts',
    'test/client-certificate/mtls.test.ts',
    'test/cli/cert.test.ts',
    'test/cli/cli.test.ts',
    'test/cli/keygen-apijwt.test.ts',
    'test/cli/keygen-mode.test.ts',
    'test/cli/kms-local-host.test.ts',
    'test/core/authenticate.test.ts',
    'test/core/authorization-rule.test.ts',
    'test/core/ends-chain.test.ts',
    'test/core/no-secrets-in-objects.test.ts',
    'test/core/passport-parity.test.ts',
    'test/diagnostics.test.ts',
    'test/docs/connect.test.ts',
    'test/docs/getting-started.test.ts',
    'test/docs/links.test.ts',
    'test/docs/passport.test.ts',
    'test/docs/snippets.test.ts',
    'test/docs/troubleshooting.test.ts',
    'test/example/example-app.test.ts',
    'test/hardening/kmsauth-hostile.test.ts',
    'test/hardening/pre-auth-flood.test.ts',
    'test/hardening/properties.test.ts',
    'test/hardening/schemes-hostile.test.ts',
    'test/helpers/preflight.test.ts',
    'test/jwt-bearer/claims-hardening.test.ts',
    'test/jwt-bearer/cli.test.ts',
    'test/jwt-bearer/confirmation.test.ts',
    'test/mtls-bound/binding.test.ts',
    'test/mtls-bound/oidc-provider.test.ts',
    'test/mtls-bound/docs.test.ts',
    'test/mtls-bound/client.test.ts',
    'test/jwt-bearer/migration-options.test.ts',
    'test/jwt-bearer/discovery-issuer.test.ts',
    'test/jwt-bearer/example.test.ts',
    'test/jwt-bearer/hostile.test.ts',
    'test/jwt-bearer/issuers.test.ts',
    'test/jwt-bearer/key-removal.test.ts',
    'test/jwt-bearer/kid-optional.test.ts',
    'test/jwt-bearer/provider.test.ts',
    'test/jwt-bearer/typ-default.test.ts',
    'test/jwt/claims.test.ts',
    'test/jwt/compact.test.ts',
    'test/jwt/pyjson.test.ts',
    'test/keys/directory.test.ts',
    'test/keys/import.test.ts',
    'test/keys/jwks-alg-use.test.ts',
    'test/keys/openssh.test.ts',
    'test/keys/remote-jwks.test.ts',
    'test/keys/thumbprint.test.ts',
    'test/kmsauth/aws-adapter.test.ts',
    'test/kmsauth/cli.test.ts',
    'test/kmsauth/decisions.test.ts',
    'test/kmsauth/entry-points.test.ts',
    'test/kmsauth/example.test.ts',
    'test/kmsauth/generator.test.ts',
    'test/kmsauth/local-kms-http.test.ts',
    'test/kmsauth/token-cache-key.test.ts',
    'test/kmsauth/vectors.test.ts',
    'test/lib/authorization-header.test.ts',
    'test/lib/brand.test.ts',
    'test/lib/client-certificate.test.ts',
    'test/lib/deadline.test.ts',
    'test/lib/net.test.ts',
    'test/lib/options.test.ts',
    'test/lib/render.test.ts',
    'test/lib/second-sight.test.ts',
    'test/lib/verified-cache.test.ts',
    'test/lib/warnings.test.ts',
    'test/lib/x509.test.ts',
    'test/oauth/cache-keys.test.ts',
    'test/oauth/cli.test.ts',
    'test/oauth/client-auth.test.ts',
    'test/oauth/example.test.ts',
    'test/oauth/http-retry.test.ts',
    'test/oauth/introspection.test.ts',
    'test/oauth/jwks.test.ts',
    'test/oauth/token-client.test.ts',
    'test/oauth/transport-safety.test.ts',
    'test/policy/policy.test.ts',
    'test/policy/python-parity.test.ts',
    'test/properties/apijwt.property.test.ts',
    'test/stores/apikey.test.ts',
    'test/stores/introspection-cache.test.ts',
    'test/stores/limiter.test.ts',
    'test/stores/replay.test.ts',
    'test/stores/shared.test.ts',
  ],
  integration: [
    'test/apijwt/revocation-lifetime.test.ts',
    'test/apikey/cli.test.ts',
    'test/authnzerver/live.test.ts',
    'test/cluster/failover-wait.test.ts',
    'test/cluster/failover-window.test.ts',
    'test/cluster/failover.test.ts',
    'test/cluster/multi-instance.test.ts',
    'test/cluster/redirect-wait.test.ts',
    'test/cluster/shared-state.test.ts',
    'test/cluster/start-order.test.ts',
    'test/cluster/stores.test.ts',
    'test/docs/deployment-app.test.ts',
    'test/docs/typedoc.test.ts',
    'test/example/mtls.test.ts',
    'test/example/server-env.test.ts',
    'test/example/shared-stores.test.ts',
    'test/hardening/dependency-logging.test.ts',
    'test/hardening/outages.test.ts',
    'test/jwt-bearer/dpop-attacks.test.ts',
    'test/jwt-bearer/dpop-instances.test.ts',
    'test/middleware/brute-force.test.ts',
    'test/postgres/docs-wiring.test.ts',
    'test/ratelimit/ratelimit.test.ts',
    'test/stores/apikey-cache.test.ts',
    'test/stores/postgres-apikey.test.ts',
    'test/stores/redis-apikey.test.ts',
    'test/stores/redis-command.test.ts',
    'test/stores/redis-introspection.test.ts',
    'test/stores/redis-ratelimit.test.ts',
    'test/stores/redis-replay.test.ts',
    'test/stores/redis-revocation.test.ts',
  ],
  artifact: [
    'test/artifact/kms.test.ts',
    'test/artifact/main-cli.test.ts',
    'test/artifact/redis.test.ts',
    'test/artifact/tarball.test.ts',
    'test/artifact/types.test.ts',
    'test/build/api.test.ts',
  ],
  soak: ['test/bench/smoke.test.ts', 'test/hardening/soak.test.ts'],
};

/** Options every tier shares. */
const shared = {
  rootDir: '.',
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }],
  },
  testTimeout: 30000,
};

/** Tiers that need services: their global setup finds or starts them, or stops the run with one line. */
const SERVICE_TIERS = new Set(['integration', 'artifact']);

const selected = process.env.TEST_TIER ? process.env.TEST_TIER.split(',') : Object.keys(tiers);
for (const name of selected)
  if (!(name in tiers)) throw new Error(`TEST_TIER: no tier "${name}" (tiers: ${Object.keys(tiers).join(', ')})`);

export default {
  projects: Object.entries(tiers)
    .filter(([name]) => selected.includes(name))
    .map(([name, files]) => ({
      ...shared,
      displayName: name,
      testMatch: files.map((file) => `<rootDir>/${file}`),
      ...(SERVICE_TIERS.has(name)
        ? { globalSetup: '<rootDir>/test/setup/global-setup.ts', globalTeardown: '<rootDir>/test/setup/global-teardown.ts' }
        : {}),
    })),
  reporters: ['default', '<rootDir>/test/helpers/tier-reporter.js'],
  testTimeout: 30000,
};
