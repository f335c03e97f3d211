/**
 * Summarises a V8 `.cpuprofile` (from `npm run bench -- --profile <variant>`): the top frames by
 * self time, and by total time for frames of this package. Usage: tsx bench/profile.ts <file> [n].
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
}

const [file = '', top = '25'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const hits = new Map<number, number>();
for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);

const label = (n: Node): string => {
  // The library as run.ts bundles it (node_modules/.cache/authnz-bench-lib-<pid>/) shows as authnz-lib/.
  const url = n.callFrame.url
    .replace(/^file:\/\/.*?\/node_modules\/\.cache\/authnz-bench-lib-\d+\//, 'authnz-lib/')
    .replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
};
const self = new Map<string, number>();
const total = new Map<string, number>();
for (const [id, count] of hits) {
  const node = byId.get(id);
  if (!node) continue;
  self.set(label(node), (self.get(label(node)) ?? 0) + count);
  // Inclusive: every distinct frame on the stack gets the sample once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur) as Node);
    if (!seen.has(l)) {
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + count);
    }
  }
}
const all = profile.samples.length;
const pct = (n: number): string => `${((100 * n) / all).toFixed(1).padStart(5)}%`;
console.log(`${all} samples\n\nTop ${top} by self time:`);
for (const [l, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`${pct(n)}  ${l}`);
console.log('\nThis package and its middleware stack, by total time:');
for (const [l, n] of [...total]
  .filter(([l]) => /authnz-lib\/|src\/|passport|express\/lib|router/.test(l))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(top))) {
  console.log(`${pct(n)}  ${l}`);
}
