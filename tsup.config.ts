import { defineConfig } from 'tsup';

// Two builds of the same entry points: ESM for `import`, CJS for `require`. Subpaths keep optional
// heavy dependencies (Redis clients, the AWS SDK, pg) out of the main entry.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    redis: 'src/redis.ts',
    kms: 'src/kms.ts',
    postgres: 'src/postgres.ts',
    'cli/main': 'src/cli/main.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', redis: 'src/redis.ts', kms: 'src/kms.ts', postgres: 'src/postgres.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  shims: true,
  external: ['@aws-sdk/client-kms', 'ioredis', 'redis', 'rate-limiter-flexible', 'express', 'pg'],
});
