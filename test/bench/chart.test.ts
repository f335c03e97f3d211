/**
 * The bench's SVG chart from a small synthetic result: a well-formed document, one bar per measured
 * row (bare and invalid rows left out), each bar's width proportional to its ratio, a 1.0 line.
 */
import { pixelsPerUnit, renderChart, type ChartRow } from '../../bench/chart.js';

const rows: ChartRow[] = [
  { name: 'bare', group: 'baseline', label: 'bare Express 5 (no auth)', ratio: 1, valid: true },
  { name: 'ours', group: 'RS256 <reused> & co', label: 'authnz APIJwt RS256', ratio: 0.9, valid: true },
  { name: 'peer', group: 'RS256 <reused> & co', label: 'jose "hand-written"', ratio: 0.45, valid: true },
  { name: 'fast', group: 'Other', label: 'fast-jwt', ratio: 1.2, valid: true },
  { name: 'broken', group: 'Other', label: 'failed peer', ratio: 0.3, valid: false },
];

/** Tags in order; each opening tag closed by its own name or self-closed. */
function checkNesting(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    const [, closing, name = '', , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
}

describe('bench chart', () => {
  const svg = renderChart(rows, 'ratios & such');

  it('is one well-formed svg element with escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    checkNesting(svg);
    // Every text is escaped: no raw & or < outside markup.
    const text = svg.replace(/<[^>]*>/g, '');
    expect(text).not.toMatch(/&(?!amp;|lt;|gt;|quot;)/);
    expect(text).not.toContain('<');
    expect(svg).toContain('RS256 &lt;reused&gt; &amp; co');
    expect(svg).toContain('ratios &amp; such');
  });

  it('draws one bar per valid non-bare row, width proportional to the ratio, and a 1.0 line', () => {
    const bars = [...svg.matchAll(/<rect class="bar" data-variant="([^"]+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => ({
      name: m[1],
      x: Number(m[2]),
      width: Number(m[3]),
    }));
    expect(bars.map((b) => b.name)).toEqual(['ours', 'peer', 'fast']);
    const unit = pixelsPerUnit(1.2);
    for (const bar of bars) {
      const ratio = rows.find((r) => r.name === bar.name)?.ratio ?? NaN;
      expect(bar.width).toBeCloseTo(ratio * unit, 0);
    }
    // 0.9 is twice 0.45.
    expect((bars[0]?.width ?? 0) / (bars[1]?.width ?? 1)).toBeCloseTo(2, 2);
    const line = /<line class="one" x1="([\d.]+)"/.exec(svg);
    expect(Number(line?.[1])).toBeCloseTo((bars[0]?.x ?? 0) + unit, 0);
    // Ours and peers in different colours.
    expect(svg).toMatch(/data-variant="ours"[^>]*fill="#1f77b4"/);
    expect(svg).toMatch(/data-variant="peer"[^>]*fill="#aaaaaa"/);
  });
});
