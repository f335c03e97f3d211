/**
 * The stable names users meet in responses, logs and thrown errors, read from src/**\/*.ts with the
 * TypeScript parser (syntax only, no type-check): what docs/troubleshooting.md must list.
 *
 * Read from the source:
 *   - union members of type aliases named `*Code`, `*Reason` or `*Failure` (`AuthErrorCode`, `JwsFailure`…);
 *   - union members of literal-typed properties and parameters named `code`, `reason` or `failure`
 *     (`KeyImportError.code`, `parseJsonObject(failure)`);
 *   - reason values the code writes: an object property `reason: …`, a variable or a parameter default
 *     named `reason`, the argument in the position of a parameter named `reason` of any function,
 *     method or constructor of src/ (`invalidCredentials('format', …)`, `new KmsauthValidationError(msg, 'wrong_key')`,
 *     `this.error('token_invalid', 'dpop_required', …)`), and what functions named `*Reason` return.
 * A reason's `code` is read where the source shows it: `new AuthError('<code>', { reason })`, a
 * call that passes a literal for a parameter named `code` beside the reason, or a function whose
 * body builds its error with one literal code (`invalidCredentials` → `token_invalid`), directly or
 * through another such function.
 * A function is matched by name in its own file and, when exported, where it is imported; a method
 * only as `this.name(…)` in its own file (a call through another object, `binding.error(…)`, is not
 * read: `logger.error(…)` looks the same).
 * A value position is followed through `a ? b : c`, `a ?? b`, `a || b` and parentheses. A template
 * literal is read with each `${…}` written as `<name>`, the last name in it
 * (`authnzerver_status_<status>`). Anything else in a value position (a variable, a property, a
 * call) is reported as `dynamic`, so a test can insist that each one is accounted for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** One name and where the source writes it. */
export interface Found {
  /** The string, or for a dynamic value the expression's source text. */
  readonly name: string;
  /** Path relative to the repository root, and 1-based line. */
  readonly at: string;
  /** For a reason: the `AuthError` code it is thrown with, when the source shows it at that place. */
  readonly code?: string;
}

/** Everything the extraction read from src/. */
export interface SourceNames {
  /** Members of each literal union, keyed by the type alias name or `Owner.member` / `function(param)`. */
  readonly unions: ReadonlyMap<string, readonly Found[]>;
  /** Reason values written by the code (not counting union members). */
  readonly reasons: readonly Found[];
  /** Value positions of reasons that are neither literals nor templates. */
  readonly dynamic: readonly Found[];
}

const ROOT = new URL('../../', import.meta.url).pathname;
const UNION_TYPE_NAME = /(Code|Reason|Failure)$/;
const UNION_MEMBER_NAMES = new Set(['code', 'reason', 'failure']);

/** Every .ts file under `dir`, sorted. */
export function sourceFiles(dir = join(ROOT, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []))
    .sort();
}

/** The string-literal members of a type, or undefined when it is not a union of string literals only. */
function literalMembers(type: ts.TypeNode): ts.StringLiteral[] | undefined {
  if (ts.isParenthesizedTypeNode(type)) return literalMembers(type.type);
  if (ts.isLiteralTypeNode(type)) return ts.isStringLiteral(type.literal) ? [type.literal] : undefined;
  if (!ts.isUnionTypeNode(type)) return undefined;
  const out: ts.StringLiteral[] = [];
  for (const member of type.types) {
    const inner = literalMembers(member);
    if (inner === undefined) return undefined;
    out.push(...inner);
  }
  return out;
}

/** A parameter or property name as plain text, when it is an identifier. */
function simpleName(name: ts.Node | undefined): string | undefined {
  return name !== undefined && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) ? name.text : undefined;
}

/** The function or method name of a function-like node (an arrow function takes its variable's name). */
function functionName(node: ts.SignatureDeclaration): string | undefined {
  if (ts.isConstructorDeclaration(node)) return ts.isClassDeclaration(node.parent) ? node.parent.name?.text : undefined;
  const own = simpleName(node.name);
  if (own !== undefined) return own;
  const parent = node.parent;
  if ((ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && ts.isVariableDeclaration(parent)) return simpleName(parent.name);
  return undefined;
}

/** What a function with a `reason` parameter is called as: `name(…)`, `new Name(…)`, or `this.name(…)`. */
interface ReasonTaker {
  readonly name: string;
  readonly index: number;
  /** Position of a parameter named `code`, if any. */
  readonly codeIndex: number | undefined;
  readonly kind: 'call' | 'new' | 'method';
  readonly file: string;
  readonly exported: boolean;
  readonly node: ts.SignatureDeclaration;
  /** The `AuthError` codes its body builds errors with (filled after pass 1). */
  readonly codes: Set<string>;
}

/** The body of a function-like declaration that has one. */
function bodyOf(node: ts.SignatureDeclaration): ts.Node | undefined {
  const withBody = ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isAccessor(node);
  return withBody ? node.body : undefined;
}

/** `new AuthError('<code>', …)`: the literal code, else undefined. */
function authErrorCode(node: ts.Node): string | undefined {
  if (!ts.isNewExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== 'AuthError') return undefined;
  const first = node.arguments?.[0];
  return first !== undefined && ts.isStringLiteral(first) ? first.text : undefined;
}

function isExported(node: ts.Node): boolean {
  let n: ts.Node | undefined = node;
  while (n !== undefined && !ts.isSourceFile(n)) {
    if (ts.canHaveModifiers(n) && ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return true;
    n = n.parent;
  }
  return false;
}

/** Reads src/ (or the given files) and returns its names. */
export function readSourceNames(files = sourceFiles()): SourceNames {
  const parsed = files.map((path) => ({ path, rel: relative(ROOT, path), sf: ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true) }));
  const unions = new Map<string, Found[]>();
  const reasons: Found[] = [];
  const dynamic: Found[] = [];
  const takers: ReasonTaker[] = [];
  const defaults: Array<{ taker: ReasonTaker; initializer: ts.Expression; rel: string; sf: ts.SourceFile }> = [];
  const importsOf = new Map<string, Map<string, string>>();

  const at = (rel: string, sf: ts.SourceFile, node: ts.Node): string => `${rel}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
  const addUnion = (key: string, members: readonly ts.StringLiteral[], rel: string, sf: ts.SourceFile): void => {
    const list = unions.get(key) ?? [];
    for (const m of members) list.push({ name: m.text, at: at(rel, sf, m) });
    unions.set(key, list);
  };

  /** Collects the values an expression in a value position can take. */
  const values = (expr: ts.Expression, rel: string, sf: ts.SourceFile, code?: string): void => {
    const found = (name: string): Found => ({ name, at: at(rel, sf, expr), ...(code === undefined ? {} : { code }) });
    if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr) || ts.isNonNullExpression(expr)) return values(expr.expression, rel, sf, code);
    if (expr.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(expr) && expr.text === 'undefined')) return; // no reason
    if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) {
      reasons.push(found(expr.text));
      return;
    }
    if (ts.isTemplateExpression(expr)) {
      // `${error.status}` is written `<status>`: the last name of the expression.
      const text = expr.head.text + expr.templateSpans.map((s) => `<${/(\w+)\W*$/.exec(s.expression.getText(sf))?.[1] ?? 'value'}>${s.literal.text}`).join('');
      reasons.push(found(text));
      return;
    }
    if (ts.isConditionalExpression(expr)) {
      values(expr.whenTrue, rel, sf, code);
      values(expr.whenFalse, rel, sf, code);
      return;
    }
    if (ts.isBinaryExpression(expr) && (expr.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || expr.operatorToken.kind === ts.SyntaxKind.BarBarToken)) {
      values(expr.left, rel, sf, code);
      values(expr.right, rel, sf, code);
      return;
    }
    dynamic.push({ name: expr.getText(sf), at: at(rel, sf, expr) });
  };

  // Pass 1: literal unions, and the functions that take a `reason`.
  for (const { rel, sf } of parsed) {
    const visit = (node: ts.Node): void => {
      if (ts.isTypeAliasDeclaration(node) && UNION_TYPE_NAME.test(node.name.text)) {
        const members = literalMembers(node.type);
        if (members !== undefined) addUnion(node.name.text, members, rel, sf);
      }
      if ((ts.isPropertyDeclaration(node) || ts.isPropertySignature(node)) && node.type !== undefined && UNION_MEMBER_NAMES.has(simpleName(node.name) ?? '')) {
        const members = literalMembers(node.type);
        const owner = ts.isClassDeclaration(node.parent) || ts.isInterfaceDeclaration(node.parent) ? node.parent.name?.text : undefined;
        if (members !== undefined) addUnion(`${owner ?? '(anonymous)'}.${simpleName(node.name)}`, members, rel, sf);
      }
      if (ts.isFunctionLike(node)) {
        const fn = functionName(node);
        const codeIndex = node.parameters.findIndex((p) => simpleName(p.name) === 'code');
        node.parameters.forEach((p, index) => {
          const pname = simpleName(p.name);
          if (pname === undefined) return;
          if (p.type !== undefined && UNION_MEMBER_NAMES.has(pname)) {
            const members = literalMembers(p.type);
            if (members !== undefined) addUnion(`${fn ?? '(anonymous)'}(${pname})`, members, rel, sf);
          }
          if (pname !== 'reason') return;
          const kind = ts.isConstructorDeclaration(node) ? 'new' : ts.isMethodDeclaration(node) ? 'method' : 'call';
          const taker: ReasonTaker = { name: fn ?? '(anonymous)', index, codeIndex: codeIndex < 0 ? undefined : codeIndex, kind, file: rel, exported: isExported(node), node, codes: new Set() };
          takers.push(taker);
          if (p.initializer !== undefined) defaults.push({ taker, initializer: p.initializer, rel, sf });
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  // Names each file imports (as written locally → exported name).
  for (const { rel, sf } of parsed) {
    const imported = new Map<string, string>();
    for (const st of sf.statements) {
      const bindings = ts.isImportDeclaration(st) ? st.importClause?.namedBindings : undefined;
      if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) imported.set(el.name.text, (el.propertyName ?? el.name).text);
    }
    importsOf.set(rel, imported);
  }
  const takerFor = (rel: string, local: string, kind: ReasonTaker['kind']): ReasonTaker | undefined =>
    kind === 'method'
      ? takers.find((t) => t.kind === 'method' && t.name === local && t.file === rel)
      : takers.find((t) => t.kind === kind && ((t.file === rel && t.name === local) || (t.exported && importsOf.get(rel)?.get(local) === t.name)));

  // The codes each reason-taking function builds its errors with, through the functions it calls.
  for (let changed = true; changed; ) {
    changed = false;
    for (const t of takers) {
      const before = t.codes.size;
      const scan = (n: ts.Node): void => {
        const code = authErrorCode(n);
        if (code !== undefined) t.codes.add(code);
        if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) for (const c of takerFor(t.file, n.expression.text, 'call')?.codes ?? []) t.codes.add(c);
        ts.forEachChild(n, scan);
      };
      const body = bodyOf(t.node);
      if (body !== undefined) scan(body);
      if (t.codes.size !== before) changed = true;
    }
  }
  /** The one code a call builds its error with, when the source shows it. */
  const codeOfCall = (taker: ReasonTaker, args: readonly ts.Expression[]): string | undefined => {
    const given = taker.codeIndex === undefined ? undefined : args[taker.codeIndex];
    if (given !== undefined) return ts.isStringLiteral(given) ? given.text : undefined;
    return taker.codes.size === 1 ? [...taker.codes][0] : undefined;
  };
  for (const d of defaults) values(d.initializer, d.rel, d.sf, d.taker.codes.size === 1 ? [...d.taker.codes][0] : undefined);

  // Pass 2: the values written into reasons.
  for (const { rel, sf } of parsed) {
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAssignment(node) && simpleName(node.name) === 'reason') {
        // `new AuthError('<code>', { reason: … })`
        const call = ts.isObjectLiteralExpression(node.parent) ? node.parent.parent : undefined;
        values(node.initializer, rel, sf, call === undefined ? undefined : authErrorCode(call));
      }
      if (ts.isVariableDeclaration(node) && simpleName(node.name) === 'reason' && node.initializer !== undefined) values(node.initializer, rel, sf);
      if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments !== undefined) {
        const callee = node.expression;
        let taker: ReasonTaker | undefined;
        if (ts.isNewExpression(node) && ts.isIdentifier(callee)) taker = takerFor(rel, callee.text, 'new');
        else if (ts.isCallExpression(node) && ts.isIdentifier(callee)) taker = takerFor(rel, callee.text, 'call');
        else if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(callee) && callee.expression.kind === ts.SyntaxKind.ThisKeyword) taker = takerFor(rel, callee.name.text, 'method');
        const arg = taker === undefined ? undefined : node.arguments[taker.index];
        if (taker !== undefined && arg !== undefined) values(arg, rel, sf, codeOfCall(taker, node.arguments));
      }
      if ((ts.isFunctionDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && /Reason$/.test(functionName(node) ?? '')) {
        if (node.body !== undefined && !ts.isBlock(node.body)) values(node.body, rel, sf);
        else if (node.body !== undefined) {
          const returns = (n: ts.Node): void => {
            if (ts.isReturnStatement(n) && n.expression !== undefined) values(n.expression, rel, sf);
            if (!ts.isFunctionLike(n)) ts.forEachChild(n, returns);
          };
          ts.forEachChild(node.body, returns);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { unions, reasons, dynamic };
}
