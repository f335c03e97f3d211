/** Finds `authnz …` command lines in docs and printed example lines, split into argv as a shell would. */

/** Splits one shell command into words: single and double quotes, no expansion (`$VAR` stays literal). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of text.matchAll(re)) words.push(m[1] ?? (m[2] as string | undefined)?.replace(/\\(.)/g, '$1') ?? (m[3] as string));
  return words;
}

/**
 * The argv of every `authnz` invocation in `line` (also `npx authnz` and `tsx src/cli/main.ts`), up to
 * the end of its command: a `)`, `|`, `;`, `&&`, a backslash continuation or a `#` comment.
 */
export function authnzInvocations(line: string): string[][] {
  const found: string[][] = [];
  const re = /(?:^|[\s(])(?:npx\s+)?(?:authnz|tsx\s+src\/cli\/main\.ts)\s+([^)|;#\\\n]*)/g;
  for (const m of line.matchAll(re)) {
    const text = (m[1] as string).split('&&')[0] as string;
    // Placeholders such as <id> or … stand for a value; replace them with a plain word.
    found.push(
      shellWords(
        text
          .replace(/<[^>]+>/g, 'X')
          .replace(/…/g, 'X')
          .replace(/\[([^\]]*)\]/g, '$1'),
      ),
    );
  }
  return found;
}
