/**
 * Global setup of the tiers that need services (integration, artifact): finds Redis and PostgreSQL
 * or starts them, and exports their URLs to the workers (test/helpers/services.ts); or stops the run with one
 * line naming what to install (test/helpers/preflight.ts). Jest transpiles this file only and
 * imports the rest natively, so the preflight module is loaded through tsx.
 */
import { tsImport } from 'tsx/esm/api';

type Preflight = typeof import('../helpers/preflight.js');

/** Jest's global setup hook for one project (its displayName is the tier). */
export default async function globalSetup(_globalConfig: unknown, projectConfig: { displayName?: { name: string } }): Promise<void> {
  const { setUpTier } = (await tsImport('../helpers/preflight.ts', import.meta.url)) as Preflight;
  await setUpTier(projectConfig.displayName?.name ?? 'integration');
}
