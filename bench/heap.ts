/** Live heap and resident set after full collections, for the memory scripts (run with node --expose-gc). */
const gc = (globalThis as { gc?: () => void }).gc;

/** Heap in use and RSS after two full collections; throws without --expose-gc. */
export function live(): { heap: number; rss: number } {
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

/** Module loading leaves garbage that the first collections free: settle before a baseline. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    live();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
