/**
 * A jest reporter that ends the run with one line: which tiers ran, their test counts and how long
 * the run took, e.g. `tiers unit: 1402 passed, 0 failed, 2 skipped in 48.3 s`.
 */

/** Prints the tier summary line after jest's own summary (which jest's last reporter prints). */
export default class TierReporter {
  /**
   * @param {{ testResults: Array<{ displayName?: { name: string } | string, numPassingTests: number, numFailingTests: number, numPendingTests: number, numTodoTests: number, testExecError?: unknown }>, startTime: number }} results
   */
  onRunComplete(_contexts, results) {
    const tiers = new Map();
    for (const suite of results.testResults) {
      const name = typeof suite.displayName === 'string' ? suite.displayName : (suite.displayName?.name ?? 'default');
      const tier = tiers.get(name) ?? { passed: 0, failed: 0, skipped: 0 };
      tier.passed += suite.numPassingTests;
      // A suite that could not run counts as one failure.
      tier.failed += suite.numFailingTests + (suite.testExecError ? 1 : 0);
      tier.skipped += suite.numPendingTests + suite.numTodoTests;
      tiers.set(name, tier);
    }
    const order = ['unit', 'integration', 'artifact', 'soak'];
    const names = [...tiers.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    const total = { passed: 0, failed: 0, skipped: 0 };
    for (const t of tiers.values()) {
      total.passed += t.passed;
      total.failed += t.failed;
      total.skipped += t.skipped;
    }
    // Measured here, when the last test finished; the line itself is printed when the process exits.
    const seconds = ((Date.now() - results.startTime) / 1000).toFixed(1);
    const line = `tiers ${names.join(', ') || 'none'}: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped in ${seconds} s`;
    process.once('exit', () => process.stderr.write(`${line}\n`));
  }
}
