/**
 * Bundles the library from src/ the way tsup does for dist/ (esbuild, ESM, node20, dependencies
 * external), into the bench cache: servers then run the same kind of code users get, without tsx's
 * per-closure name helpers, and without touching dist/ (other test runs rebuild it).
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds index, kms and redis entries into `outDir` (shared chunks, so classes stay single). */
export async function bundleLibrary(outDir: string): Promise<void> {
  await build({
    entryPoints: { index: join(ROOT, 'src/index.ts'), kms: join(ROOT, 'src/kms.ts'), redis: join(ROOT, 'src/redis.ts') },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
}
