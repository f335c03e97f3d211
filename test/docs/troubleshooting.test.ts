/**
 * docs/troubleshooting.md lists exactly the codes and reasons the source has, read from src/ by
 * test/docs/source-names.ts: a code or reason added, renamed or dropped in src/ fails here until the
 * page follows, and a name the page keeps after the source dropped it fails too.
 *
 * Where on the page:
 *   - each `AuthErrorCode`: a `### \`code\` (status)` section under "## Problem codes", with the
 *     status `statusForCode()` gives;
 *   - each reason: one row of the table under "## Reasons" (alphabetical), whose "code" cell names
 *     every code the source throws it with (or "—" where it never reaches a response);
 *   - each other code union (`WarningCode`, `ApiJwtIssueErrorCode`, `KeyImportErrorCode`…, or a
 *     literal-typed `Class.code`): the first column of the table under the heading that names it in
 *     backticks (the alias, or the class).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusForCode, type AuthErrorCode } from '../../src/errors.js';
import { codeSpans, headings, tableRowsUnder, type Heading } from './markdown.js';
import { ROOT } from './snippets.js';
import { readSourceNames, type Found, type SourceNames } from './source-names.js';

const PAGE = 'docs/troubleshooting.md';
const PASS_THROUGH = 'pass-through';

/**
 * Reason positions whose value is not written there, and where it comes from: the unions (whose
 * members are then reasons the page must list) or a pass-through of a reason made, and read,
 * elsewhere. A new dynamic reason fails the test until it is added here, so no reason escapes the
 * page unread.
 */
const DYNAMIC: Readonly<Record<string, typeof PASS_THROUGH | readonly string[]>> = {
  code: ['forbid(code)'], // the guards' reason repeats their code
  typed: ['ExtrasFailure'], // APIJwt's extras check
  'result.reason': ['ApiJwtFailure'], // APIJwt's verifier result, thrown by its scheme
  time: ['TimeClaimReason'], // the shared claims checker's result (src/jwt/claims.ts), in APIJwt, asymmetric JWT and DPoP proofs
  refused: ['TimeClaimReason'], // the same, in the JWT access token verifier
  'cached.refused': ['TimeClaimReason'], // the verified-token cache's refusal (src/lib/verified-cache.ts): the claims checker's result on a cache hit
  // A DPoP proof's JWS codec failure (src/protocols/dpop/proof.ts); a KmsauthValidationError's code
  // made a reason by the kmsauth scheme (src/schemes/kmsauth/scheme.ts).
  'error.code': ['JwsFailure', 'KmsauthValidationCode'],
  reason: PASS_THROUGH, // a function's own `reason` parameter, passed on
  'thrown.reason': PASS_THROUGH, // an AuthError re-issued with another challenge
  'error.reason': PASS_THROUGH, // an AuthError's reason, passed on or logged
  'error?.reason': PASS_THROUGH, // the diagnostics event of a failure
  'reasonOf(error)': PASS_THROUGH, // the diagnostics event of a dependency call: the `*Reason` functions' values
  name: PASS_THROUGH, // diagnostics: an error without a reason is named by its class (`TypeError`)
};

const isReasonUnion = (key: string): boolean => /(Reason|Failure)$|\.(reason|failure)$|\((reason|failure)\)$/.test(key);
const isCodeParameter = (key: string): boolean => /\(code\)$/.test(key);
/** The heading word that names a code union's table: the alias, or the class of `Class.code`. */
const tableName = (key: string): string => key.replace(/\.code$/, '');

/** What the page must list, from the source. */
interface Expected {
  readonly problemCodes: ReadonlySet<string>;
  /** Each reason with the codes the source throws it with. */
  readonly reasons: ReadonlyMap<string, ReadonlySet<string>>;
  /** Other code unions by table name. */
  readonly tables: ReadonlyMap<string, ReadonlySet<string>>;
  /** Problems with the extraction itself (unknown dynamic reasons, stale entries). */
  readonly problems: readonly string[];
}

function expected(source: SourceNames): Expected {
  const problems: string[] = [];
  const names = (key: string): string[] => (source.unions.get(key) ?? []).map((f) => f.name);
  const problemCodes = new Set(names('AuthErrorCode'));
  const reasons = new Map<string, Set<string>>();
  const addReason = (f: Pick<Found, 'name' | 'code'>): void => {
    const codes = reasons.get(f.name) ?? new Set<string>();
    if (f.code !== undefined) codes.add(f.code);
    reasons.set(f.name, codes);
  };
  source.reasons.forEach(addReason);
  const tables = new Map<string, Set<string>>();
  for (const key of source.unions.keys()) {
    if (key === 'AuthErrorCode' || isCodeParameter(key)) continue;
    if (isReasonUnion(key)) names(key).forEach((name) => addReason({ name }));
    else tables.set(tableName(key), new Set(names(key)));
  }
  for (const d of source.dynamic) {
    const from = DYNAMIC[d.name];
    if (from === undefined) problems.push(`${d.at}: a reason whose values the test cannot read: \`${d.name}\` (write a literal, or add it to DYNAMIC with where its values come from)`);
    else if (from !== PASS_THROUGH) from.forEach((union) => names(union).forEach((name) => addReason({ name })));
  }
  for (const [expr, from] of Object.entries(DYNAMIC)) {
    if (!source.dynamic.some((d) => d.name === expr)) problems.push(`DYNAMIC lists \`${expr}\`, which no reason position of src/ holds any more`);
    if (from !== PASS_THROUGH) for (const union of from) if (!source.unions.has(union)) problems.push(`DYNAMIC: \`${expr}\` names the union ${union}, which src/ no longer has`);
  }
  // A literal union on a parameter named `code` must hold documented codes only.
  const documented = new Set([...problemCodes, ...[...tables.values()].flatMap((s) => [...s])]);
  for (const key of [...source.unions.keys()].filter(isCodeParameter)) {
    for (const f of source.unions.get(key) ?? []) if (!documented.has(f.name)) problems.push(`${f.at}: \`${f.name}\` (${key}) is no documented code`);
  }
  return { problemCodes, reasons, tables, problems };
}

/** What the page lists, and the mistakes in its form. */
interface Listed {
  readonly problemCodes: Map<string, number>;
  readonly reasons: Map<string, string[]>;
  readonly reasonOrder: string[];
  readonly tables: Map<string, string[]>;
  readonly problems: string[];
}

function listed(text: string, tableNames: Iterable<string>): Listed {
  const problems: string[] = [];
  const all = headings(text);
  const h2 = (title: string): Heading | undefined => all.find((h) => h.level === 2 && h.text === title);
  const problemCodes = new Map<string, number>();
  const codesHeading = h2('Problem codes');
  if (!codesHeading) problems.push('no "## Problem codes" heading');
  else {
    const end = all.find((h) => h.index > codesHeading.index && h.level <= 2)?.index ?? Infinity;
    for (const h of all.filter((x) => x.level === 3 && x.index > codesHeading.index && x.index < end)) {
      const m = /^`(\w+)` \((\d{3})\)$/.exec(h.text);
      if (!m) problems.push(`line ${h.index + 1}: "### ${h.text}" is not "### \`code\` (status)"`);
      else if (problemCodes.has(m[1] as string)) problems.push(`line ${h.index + 1}: \`${m[1]}\` has two sections`);
      else problemCodes.set(m[1] as string, Number(m[2]));
    }
  }
  const firstColumn = (rows: string[][], where: string): string[] =>
    rows.slice(1).map((cells) => {
      const spans = codeSpans(cells[0] ?? '');
      if (spans.length !== 1 || cells[0] !== `\`${spans[0]}\``) problems.push(`${where}: the first cell "${cells[0]}" is not one \`name\``);
      return spans[0] ?? '';
    });
  const reasons = new Map<string, string[]>();
  const reasonOrder: string[] = [];
  const reasonsHeading = h2('Reasons');
  if (!reasonsHeading) problems.push('no "## Reasons" heading');
  else {
    const rows = tableRowsUnder(text, reasonsHeading);
    if ((rows[0] ?? []).join('|') !== 'reason|code|where|what it means; usual cause and fix') problems.push(`the Reasons table's header is ${JSON.stringify(rows[0])}`);
    firstColumn(rows, 'Reasons').forEach((name, i) => {
      const cell = (rows[i + 1] as string[])[1] ?? '';
      if (reasons.has(name)) problems.push(`Reasons: \`${name}\` has two rows`);
      reasons.set(name, cell === '—' ? [] : codeSpans(cell));
      if (cell !== '—' && cell !== codeSpans(cell).map((c) => `\`${c}\``).join(', ')) problems.push(`Reasons: \`${name}\`: the code cell "${cell}" is not "—" or \`code\`, \`code\``);
      reasonOrder.push(name);
    });
  }
  const tables = new Map<string, string[]>();
  for (const name of tableNames) {
    const h = all.find((x) => codeSpans(x.text).includes(name));
    if (!h) {
      problems.push(`no heading names \`${name}\` (its table lists its codes)`);
      continue;
    }
    tables.set(name, firstColumn(tableRowsUnder(text, h), `the \`${name}\` table`));
  }
  return { problemCodes, reasons, reasonOrder, tables, problems };
}

const sorted = (names: Iterable<string>): string[] => [...names].sort();

describe(`${PAGE} against the source`, () => {
  const source = readSourceNames();
  const want = expected(source);
  const page = listed(readFileSync(join(ROOT, PAGE), 'utf8'), want.tables.keys());

  it('reads every reason position of src/ (each dynamic one accounted for) and finds the known unions', () => {
    expect(want.problems).toEqual([]);
    expect(want.problemCodes.size).toBeGreaterThanOrEqual(14);
    expect(want.reasons.size).toBeGreaterThan(100);
    expect(sorted(want.tables.keys())).toEqual(expect.arrayContaining(['ApiJwtIssueErrorCode', 'KeyImportErrorCode', 'KmsauthValidationCode', 'OAuthClientErrorCode', 'WarningCode']));
  });

  it('the page is well-formed: one section per code, one row per reason in alphabetical order', () => {
    expect(page.problems).toEqual([]);
    expect(page.reasonOrder).toEqual([...page.reasonOrder].sort());
  });

  it('has a section for exactly the AuthErrorCodes, each with its HTTP status', () => {
    expect(sorted(page.problemCodes.keys())).toEqual(sorted(want.problemCodes));
    for (const [code, status] of page.problemCodes) if (want.problemCodes.has(code)) expect(`${code} ${status}`).toBe(`${code} ${statusForCode(code as AuthErrorCode)}`);
  });

  it('has a row for exactly the reasons, naming every code the source throws each with, and only real codes', () => {
    expect(sorted(page.reasons.keys())).toEqual(sorted(want.reasons.keys()));
    const missingCodes: string[] = [];
    for (const [reason, codes] of want.reasons) {
      const shown = page.reasons.get(reason);
      if (shown) for (const code of codes) if (!shown.includes(code)) missingCodes.push(`${reason}: ${code}`);
    }
    expect(missingCodes).toEqual([]);
    const unknownCodes = [...page.reasons].flatMap(([reason, codes]) => codes.filter((c) => !want.problemCodes.has(c)).map((c) => `${reason}: ${c}`));
    expect(unknownCodes).toEqual([]);
  });

  it('lists exactly the codes of WarningCode, the thrown errors and KeyImportErrorCode in their tables', () => {
    for (const [name, codes] of want.tables) expect([name, sorted(page.tables.get(name) ?? [])]).toEqual([name, sorted(codes)]);
  });
});

describe('the source reader itself', () => {
  const dir = join(ROOT, `build-check/source-names-self-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads reasons from properties, helper arguments, constructors, methods, defaults, *Reason functions and unions; nothing else', () => {
    mkdirSync(dir, { recursive: true });
    const files = {
      'errors.ts': [
        "export type DemoCode = 'code_a' | 'code_b';",
        "export type DemoFailure =\n  /** doc */\n  | 'fail_a'\n  | \"fail_b\";",
        'export class AuthError { constructor(readonly code: string, readonly options: { reason?: string } = {}) {} }',
        "export function refuse(reason: string, detail?: string): AuthError { return new AuthError('token_invalid', { reason, detail }); }",
        "export class ThingError extends Error { readonly code: 'thing_x' | 'thing_y' = 'thing_x'; constructor(message: string, readonly reason: string) { super(message); } }",
      ].join('\n'),
      'use.ts': [
        "import { AuthError, refuse as deny, ThingError } from './errors.js';",
        "declare const e: Error; declare const flag: boolean; declare const status: number; declare const logger: { error(a: string, b: string): void };",
        "const wrap = (reason: string) => deny(reason);",
        "export const a = new AuthError('replay', { reason: \"double_quoted\" });",
        "export const b = deny(e.name === 'TimeoutError' ? 'from_ternary' : `from_template`);",
        "export const c = deny(`status_${status}`, 'not a reason');",
        "export const d = new ThingError('message, not a reason', flag ? 'thing_reason' : 'other' ?? 'never');",
        "export const f = wrap('via_wrapper');",
        "logger.error('log', 'not a reason either');",
        "export const g = deny(e.message);",
        "class Binding { error(code: 'token_invalid' | 'use_dpop_nonce', reason: string): AuthError { return new AuthError(code, { reason }); } check(): AuthError { return this.error('use_dpop_nonce', 'method_reason'); } }",
        "export const h = new Binding().check();",
        "export function lock(ms: number, reason = 'default_reason'): AuthError { return new AuthError('locked_out', { reason, detail: String(ms) }); }",
        "export function storeReason(x: unknown): string | null { return x === null ? null : 'returned_reason'; }",
      ].join('\n'),
      'other.ts': "function deny(text: string): string { return text; }\nexport const x = deny('unrelated');\nexport const y = { reason: 'property_reason' };",
    };
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    const got = readSourceNames(Object.keys(files).map((f) => join(dir, f)));
    const reasons = sorted(new Set(got.reasons.map((f) => `${f.name}${f.code === undefined ? '' : ` → ${f.code}`}`)));
    expect(reasons).toEqual([
      'default_reason → locked_out',
      'double_quoted → replay',
      'from_template → token_invalid',
      'from_ternary → token_invalid',
      'method_reason → use_dpop_nonce',
      'never',
      'other',
      'property_reason',
      'returned_reason',
      'status_<status> → token_invalid',
      'thing_reason',
      'via_wrapper → token_invalid',
    ]);
    expect(sorted(got.dynamic.map((d) => d.name))).toEqual(['e.message', 'reason']); // `{ reason }` shorthands pass a parameter or variable read elsewhere
    expect(Object.fromEntries([...got.unions].map(([k, v]) => [k, v.map((f) => f.name)]))).toEqual({
      DemoCode: ['code_a', 'code_b'],
      DemoFailure: ['fail_a', 'fail_b'],
      'ThingError.code': ['thing_x', 'thing_y'],
      'error(code)': ['token_invalid', 'use_dpop_nonce'],
    });
  });
});
