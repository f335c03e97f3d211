/**
 * Seeds fast-check for the importing test file: a fixed seed (override with FC_SEED to explore), printed
 * so that any failure can be replayed exactly. Import it before the properties run.
 */
import fc from 'fast-check';

/** The seed every property of the importing file runs with. */
export const FC_SEED = Number(process.env['FC_SEED'] ?? 20_261_202);
if (!Number.isSafeInteger(FC_SEED)) throw new TypeError(`FC_SEED must be an integer (got ${String(process.env['FC_SEED'])})`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: FC_SEED });
process.stdout.write(`fast-check seed ${FC_SEED} (replay with FC_SEED=${FC_SEED})\n`);
