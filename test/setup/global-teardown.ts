/** Global teardown of the tiers that need services: stops the servers their global setup started. */
import { tsImport } from 'tsx/esm/api';

type Preflight = typeof import('../helpers/preflight.js');

/** Jest's global teardown hook. */
export default async function globalTeardown(): Promise<void> {
  const { tearDownTiers } = (await tsImport('../helpers/preflight.ts', import.meta.url)) as Preflight;
  await tearDownTiers();
}
