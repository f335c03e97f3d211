/**
 * An SVG chart of a run's ratios to bare Express: one block per scenario group, one horizontal bar per
 * variant (ours in one colour, the peers in another), a dashed line at 1.0 × bare. Plain string
 * building, no dependencies; the README can show the committed copy.
 */

/** What a bar needs (a subset of report.ts's Row). */
export interface ChartRow {
  readonly name: string;
  readonly group: string;
  readonly label: string;
  readonly ratio: number;
  readonly valid: boolean;
}

/** Width of the bar area (the label column before it is as wide as the longest label needs). */
const BAR_AREA = 460;
/** Rough width of one character at font-size 12 (sans-serif), for sizing the label column. */
const CHAR_WIDTH = 6.6;
const ROW_HEIGHT = 22;
const GROUP_GAP = 30;
const TOP = 46;

/** Pixels per 1.0 of ratio, for a chart whose largest ratio is `maxRatio` (1.0 at least). */
export function pixelsPerUnit(maxRatio: number): number {
  return BAR_AREA / Math.max(1, Math.ceil(maxRatio * 10) / 10);
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Ours: a variant whose label names the library. */
const isOurs = (row: ChartRow): boolean => row.label.startsWith('authnz');

/** Renders the chart; bare (group `baseline`) and rows without a valid measurement are left out. */
export function renderChart(rows: readonly ChartRow[], title: string): string {
  const shown = rows.filter((r) => r.group !== 'baseline' && r.valid);
  const groups = [...new Set(shown.map((r) => r.group))];
  const unit = pixelsPerUnit(Math.max(1, ...shown.map((r) => r.ratio)));
  const LABEL_WIDTH = Math.ceil(20 + CHAR_WIDTH * Math.max(20, ...shown.map((r) => r.label.length)));
  const WIDTH = LABEL_WIDTH + BAR_AREA + 60;
  const parts: string[] = [];
  let y = TOP;
  for (const group of groups) {
    parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${escape(group)}</text>`);
    y += ROW_HEIGHT;
    for (const row of shown.filter((r) => r.group === group)) {
      const width = Math.max(0, row.ratio * unit).toFixed(1);
      const fill = isOurs(row) ? '#1f77b4' : '#aaaaaa';
      parts.push(
        `<text x="${LABEL_WIDTH - 8}" y="${y + 14}" text-anchor="end">${escape(row.label)}</text>`,
        `<rect class="bar" data-variant="${escape(row.name)}" x="${LABEL_WIDTH}" y="${y + 3}" width="${width}" height="${ROW_HEIGHT - 6}" fill="${fill}"/>`,
        `<text x="${(LABEL_WIDTH + Number(width) + 6).toFixed(1)}" y="${y + 14}">${row.ratio.toFixed(2)}</text>`,
      );
      y += ROW_HEIGHT;
    }
    y += GROUP_GAP - ROW_HEIGHT / 2;
  }
  const height = y + 10;
  const one = (LABEL_WIDTH + unit).toFixed(1);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="36" fill="#555555">requests per second ÷ bare Express in the same run; blue: authnz-express, grey: peers</text>`,
    ...parts,
    `<line class="one" x1="${one}" y1="${TOP - 4}" x2="${one}" y2="${height - 10}" stroke="#d62728" stroke-dasharray="4 3"/>`,
    `<text x="${one}" y="${TOP - 6}" text-anchor="middle" fill="#d62728">1.0 × bare</text>`,
    '</svg>',
    '',
  ].join('\n');
}
