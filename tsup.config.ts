import { defineConfig } from 'tsup';

// One module graph for every entry point. The entries (main, `redis`, `kms`, the CLI) are built
// together with code splitting, so each source module lands in exactly one shared chunk and every
// entry imports it from there: `dist/redis.js` and `dist/index.js` use the same `AuthError` class and
// the same module state. (With `splitting: false` each entry carried its own copy, `instanceof`
// failed between them and Redis/KMS outages answered 401 instead of 503.) tsup splits the CJS build
// the same way (`dist/*.cjs` entries `require` shared `chunk-*.cjs`). ESM and CJS remain two builds;
// a process that loads both gets two copies, which is why library errors are recognised by their
// `Symbol.for` brand (src/lib/brand.ts) rather than by `instanceof`.
//
// Dynamic `import()`s stay dynamic: the CLI's `kms` subcommands load `@aws-sdk/client-kms` only when
// they run, and the rate-limit factories load rate-limiter-flexible on the first limiter. Optional
// peers (the AWS SDK, Redis clients, rate-limiter-flexible, pg) are external, never bundled.
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
  // No source maps in the package: dist is not minified, so stack traces already read as the source;
  // maps would be 1.4 MB of the 2.2 MB unpacked (measured), paid by every install.
  sourcemap: false,
  clean: true,
  target: 'node20',
  splitting: true,
  shims: true,
  external: ['@aws-sdk/client-kms', 'ioredis', 'redis', 'rate-limiter-flexible', 'express', 'pg'],
});
