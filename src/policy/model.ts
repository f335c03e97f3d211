/**
 * The access policy document in authnzerver's JSON schema (`default-permissions-model.json`):
 * roles, items, actions, visibilities, limits, item_policy and role_policy. Validated once at load;
 * errors name the faulty field path (and the line for JSON syntax errors).
 */
import { AuthnzError } from '../errors.js';
import { brandedGuard } from '../lib/brand.js';

/** A limit kind: value type and comparison. */
export interface LimitKind {
  readonly type: 'int' | 'float';
  readonly operator: 'lt' | 'gt';
}

/** Per item type: which actions exist for it, which visibilities, which roles may never act. */
export interface ItemPolicy {
  readonly valid_role_actions: readonly string[];
  readonly valid_visibilities: readonly string[];
  readonly invalid_roles: readonly string[];
}

/** Per role: limits, ownable item types and allowed actions. */
export interface RolePolicy {
  readonly limits?: Readonly<Record<string, { readonly type: string; readonly limit: number }>>;
  readonly can_own_items: readonly string[];
  readonly allowed_actions_for_owned: readonly string[];
  readonly allowed_actions_for_other: Readonly<Record<string, readonly string[]>>;
}

/** A validated policy document. */
export interface PolicyDocument {
  readonly roles: readonly string[];
  readonly items: readonly string[];
  readonly actions: readonly string[];
  readonly visibilities: readonly string[];
  readonly limits: Readonly<Record<string, LimitKind>>;
  readonly item_policy: Readonly<Record<string, ItemPolicy>>;
  readonly role_policy: Readonly<Record<string, RolePolicy>>;
}

/** A policy document that failed validation; `path` names the faulty field (e.g. `role_policy.staff.can_own_items[1]`). */
export class PolicyError extends AuthnzError<'policy_invalid'> {
  /** The JSON path of the faulty field, or `(json)` for a syntax error. */
  readonly path: string;
  constructor(path: string, message: string) {
    super('policy_invalid', `${path}: ${message}`);
    this.path = path;
  }
}

/** True for a {@link PolicyError} from any copy of the library (brand, not `instanceof`). */
export const isPolicyError = brandedGuard(PolicyError, 'PolicyError');

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: Json, path: string): Record<string, Json> {
  if (!isObject(v)) throw new PolicyError(path, 'must be an object');
  return v;
}

function names(v: Json, path: string, allowed?: readonly string[], what?: string): string[] {
  if (!Array.isArray(v)) throw new PolicyError(path, 'must be an array of strings');
  return v.map((item: Json, i) => {
    if (typeof item !== 'string' || item === '') throw new PolicyError(`${path}[${i}]`, 'must be a non-empty string');
    if (allowed && !allowed.includes(item)) throw new PolicyError(`${path}[${i}]`, `unknown ${what ?? 'name'} "${item}"`);
    return item;
  });
}

function knownKey(key: string, allowed: readonly string[], path: string, what: string): void {
  if (!allowed.includes(key)) throw new PolicyError(path, `unknown ${what} "${key}"`);
}

/** Line and column of a character offset, for JSON syntax errors. */
function lineOf(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/* eslint-disable no-control-regex -- JSON strings may not contain raw control characters */
const JSON_VALUE_START =
  /^(?:"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/;
/* eslint-enable no-control-regex */

/** Offset of the first JSON syntax error (a minimal recursive-descent scan; only run after JSON.parse failed). */
function syntaxErrorOffset(text: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail();
          value();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === close) {
          i++;
          return;
        } else fail();
      }
    }
    const m = JSON_VALUE_START.exec(text.slice(i));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  try {
    value();
    ws();
    return i;
  } catch (offset) {
    return typeof offset === 'number' ? offset : 0;
  }
}

/** Parses JSON text, reporting syntax errors with their line. */
export function parsePolicyText(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const m = /position (\d+)/.exec(message);
    // Newer V8 messages carry no position: find it with a small scanner.
    const offset = m ? Number(m[1]) : syntaxErrorOffset(text);
    throw new PolicyError('(json)', `${message.split('\n')[0] ?? 'invalid JSON'} (${lineOf(text, offset)})`);
  }
}

/** Validates a parsed policy document; throws {@link PolicyError} naming the first faulty field. */
export function validatePolicy(input: Json): PolicyDocument {
  const doc = object(input, '$');
  const roles = names(doc['roles'], 'roles');
  const items = names(doc['items'], 'items');
  const actions = names(doc['actions'], 'actions');
  const visibilities = names(doc['visibilities'], 'visibilities');
  const limits: Record<string, LimitKind> = {};
  for (const [name, raw] of Object.entries(object(doc['limits'] ?? {}, 'limits'))) {
    const kind = object(raw, `limits.${name}`);
    if (kind['type'] !== 'int' && kind['type'] !== 'float') throw new PolicyError(`limits.${name}.type`, 'must be "int" or "float"');
    if (kind['operator'] !== 'lt' && kind['operator'] !== 'gt') throw new PolicyError(`limits.${name}.operator`, 'must be "lt" or "gt"');
    limits[name] = { type: kind['type'], operator: kind['operator'] };
  }
  const item_policy: Record<string, ItemPolicy> = {};
  for (const [item, raw] of Object.entries(object(doc['item_policy'], 'item_policy'))) {
    const p = `item_policy.${item}`;
    knownKey(item, items, p, 'item');
    const o = object(raw, p);
    item_policy[item] = {
      valid_role_actions: names(o['valid_role_actions'], `${p}.valid_role_actions`, actions, 'action'),
      valid_visibilities: names(o['valid_visibilities'], `${p}.valid_visibilities`, visibilities, 'visibility'),
      invalid_roles: names(o['invalid_roles'] ?? [], `${p}.invalid_roles`, roles, 'role'),
    };
  }
  const role_policy: Record<string, RolePolicy> = {};
  for (const [role, raw] of Object.entries(object(doc['role_policy'], 'role_policy'))) {
    const p = `role_policy.${role}`;
    knownKey(role, roles, p, 'role');
    const o = object(raw, p);
    const roleLimits: Record<string, { type: string; limit: number }> = {};
    for (const [name, lraw] of Object.entries(object(o['limits'] ?? {}, `${p}.limits`))) {
      const l = object(lraw, `${p}.limits.${name}`);
      if (typeof l['type'] !== 'string' || !(l['type'] in limits))
        throw new PolicyError(`${p}.limits.${name}.type`, `unknown limit kind "${String(l['type'])}"`);
      if (typeof l['limit'] !== 'number' || !Number.isFinite(l['limit']))
        throw new PolicyError(`${p}.limits.${name}.limit`, 'must be a finite number');
      roleLimits[name] = { type: l['type'], limit: l['limit'] };
    }
    const other: Record<string, readonly string[]> = {};
    for (const [vis, acts] of Object.entries(object(o['allowed_actions_for_other'] ?? {}, `${p}.allowed_actions_for_other`))) {
      knownKey(vis, visibilities, `${p}.allowed_actions_for_other.${vis}`, 'visibility');
      other[vis] = names(acts, `${p}.allowed_actions_for_other.${vis}`, actions, 'action');
    }
    role_policy[role] = {
      // Kept absent when the document has none: authnzerver then fails every limit check (KeyError).
      ...(o['limits'] === undefined ? {} : { limits: roleLimits }),
      can_own_items: names(o['can_own_items'] ?? [], `${p}.can_own_items`, items, 'item'),
      allowed_actions_for_owned: names(o['allowed_actions_for_owned'] ?? [], `${p}.allowed_actions_for_owned`, actions, 'action'),
      allowed_actions_for_other: other,
    };
  }
  return deepFreeze({ roles, items, actions, visibilities, limits, item_policy, role_policy });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
