/**
 * Small Markdown readers for the docs tests: fenced blocks, links, headings with GitHub's anchor
 * slugs, and the tables under a heading. Only the subset of CommonMark these pages use: ``` fences,
 * inline `[text](target)` links and images, ATX headings, pipe tables.
 */

/** One fenced block. */
export interface Fence {
  /** The first word of the info string (`sh`, `js`, `json`…), or '' for none. */
  readonly lang: string;
  /** The words after the first. */
  readonly words: readonly string[];
  /** The block's lines, without the fences. */
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** 1-based line of the closing fence (the last line when there is none). */
  readonly endLine: number;
}

/** The fenced blocks of a page, in order. */
export function fences(text: string): Fence[] {
  const lines = text.split('\n');
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end] as string)) end++;
    const [lang = '', ...words] = (open[1] as string).trim().split(/\s+/).filter(Boolean);
    out.push({ lang, words, code: lines.slice(i + 1, end).join('\n'), line: i + 1, endLine: Math.min(end, lines.length - 1) + 1 });
    i = end;
  }
  return out;
}

/** The page with its fenced blocks and inline code spans blanked (line breaks kept), so links in code are not read. */
export function prose(text: string): string {
  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');
  return text
    .replace(/^\s*```[^\n]*\n[\s\S]*?^\s*```\s*$/gm, blank)
    .replace(/(`+)(?:(?!\1)[\s\S])+?\1/g, blank);
}

/** One link or image target, with the 1-based line it starts on. */
export interface Link {
  readonly target: string;
  readonly line: number;
}

/** Inline link and image targets outside code (`[text](target "title")`, text may span lines). */
export function links(text: string): Link[] {
  const body = prose(text);
  const out: Link[] = [];
  for (const m of body.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const before = body.slice(0, m.index);
    out.push({ target: m[1] as string, line: before.split('\n').length });
  }
  return out;
}

/** GitHub's anchor for a heading: link syntax reduced to its text, lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[((?:[^\]\\]|\\.)*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a page's headings, numbered as GitHub numbers repeats (`name`, `name-1`…). */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const h of headings(text)) {
    const base = slug(h.text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** One ATX heading. */
export interface Heading {
  readonly level: number;
  readonly text: string;
  /** 0-based line index. */
  readonly index: number;
}

/** The page's headings outside fenced blocks. */
export function headings(text: string): Heading[] {
  const fenced = new Set<number>();
  const lines = text.split('\n');
  for (const f of fences(text)) for (let i = f.line - 1; i < f.endLine; i++) fenced.add(i);
  const out: Heading[] = [];
  lines.forEach((line, index) => {
    const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (h && !fenced.has(index)) out.push({ level: (h[1] as string).length, text: h[2] as string, index });
  });
  return out;
}

/** The cells of every table row between a heading and the next heading of the same or a higher level. */
export function tableRowsUnder(text: string, heading: Heading): string[][] {
  const lines = text.split('\n');
  const next = headings(text).find((h) => h.index > heading.index && h.level <= heading.level);
  const rows: string[][] = [];
  for (const line of lines.slice(heading.index + 1, next?.index ?? lines.length)) {
    if (!/^\s*\|/.test(line)) continue;
    const cells = splitRow(line);
    if (cells.every((c) => /^:?-{3,}:?$/.test(c))) continue; // the delimiter row
    rows.push(cells);
  }
  return rows;
}

/** A pipe-table row's cells, trimmed; `\|` and pipes inside code spans do not split. */
function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let tick = 0;
  const s = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch === '\\' && s[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (ch === '`') {
      let run = 0;
      while (s[i + run] === '`') run++;
      cell += '`'.repeat(run);
      tick = tick === 0 ? run : tick === run ? 0 : tick;
      i += run - 1;
    } else if (ch === '|' && tick === 0) {
      cells.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

/** The code spans of a Markdown string (`a`, ``b``), without their backticks. */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/(`+)((?:(?!\1)[\s\S])+?)\1/g)].map((m) => (m[2] as string).trim());
}
