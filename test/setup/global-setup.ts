/**
 * Global setup of the tiers that need services (integration, artifact): finds Redis and PostgreSQL
 * or starts them, and exports their URLs to the workers (test/helpers/services.ts); or stops the run with one
 * line naming what to install (test/helpers/preflight.ts). Jest transpiles this file only and
 * imports the rest natively, so the preflight module is loaded through tsx.
 */
import { tsImport } from 'tsx/esm/api';

type Preflight = typeof import('../helpers/preflight.js');

/** Jest's global setup hook for one project (its displayName is the tier). */
/** The tiers that need services, in the order they are checked (the strictest needs first). */
const SERVICE_TIERS = ['integration', 'artifact'];

const state = globalThis as { authnzTiersSetUp?: boolean };

/**
 * Jest's global setup hook, called once per project, in an order that follows its test scheduling
 * (cached timings), not the config. So the first call checks every service tier this run selected
 * (TEST_TIER, as jest.config.js reads it; all tiers when unset) in one fixed order, and later calls
 * do nothing: a machine that lacks something always gets the same one line.
 */
export default async function globalSetup(_globalConfig: unknown, projectConfig: { displayName?: { name: string } }): Promise<void> {
  if (state.authnzTiersSetUp) return;
  state.authnzTiersSetUp = true;
  const { setUpTier } = (await tsImport('../helpers/preflight.ts', import.meta.url)) as Preflight;
  const selected = process.env['TEST_TIER'] ? process.env['TEST_TIER'].split(',') : SERVICE_TIERS;
  const tiers = SERVICE_TIERS.filter((tier) => selected.includes(tier));
  for (const tier of tiers.length > 0 ? tiers : [projectConfig.displayName?.name ?? 'integration']) await setUpTier(tier);
}
