/**
 * Pure access decisions, ported from authnzerver's `check_item_access` and `check_role_limits`
 * (permissions.py). No I/O: the caller supplies who, what and the target's facts.
 */
import type { PolicyDocument } from './model.js';
import { pyFloat, pyInt } from './pynum.js';

/** The facts about the target item. */
export interface AccessTarget {
  /** Item type, e.g. `dataset`. */
  readonly name: string;
  /** Subject that owns it. */
  readonly ownerId?: string;
  /** Visibility, e.g. `public`, `unlisted`, `private`, `shared`. */
  readonly visibility: string;
  /** For `shared`: subjects it is shared with (array or authnzerver's CSV); `anonymousId` in it means everyone. */
  readonly sharedWith?: readonly string[] | string;
}

/** One access question. */
export interface AccessRequest {
  /** The caller's subject. */
  readonly userId: string | undefined;
  /** The caller's role. */
  readonly role: string;
  /** The action, e.g. `view`. */
  readonly action: string;
  readonly target: AccessTarget;
}

/** Why a decision came out as it did (stable, for logs and tests). */
export type AccessReason = 'allowed' | 'visibility' | 'action_not_permitted';

/** Options for the decision. */
export interface DecideOptions {
  /** Subject meaning "everyone" in `sharedWith` (default `2`, authnzerver's anonymous user, and `*`). */
  readonly anonymousId?: string;
}

const PRIVILEGED = new Set(['superuser', 'staff']);

/**
 * The shared-with list as canonical ids, or undefined when authnzerver's parse would fail. An array
 * is taken as given; a string is authnzerver's CSV: empty or "none" (any case) means owner only,
 * otherwise every item must pass Python's `int()` (so `04`, `+4`, ` 4 ` are user 4; `4,` fails).
 */
function sharedList(value: readonly string[] | string | undefined): string[] | undefined {
  if (value === undefined) return [];
  if (typeof value !== 'string') return [...value];
  if (value === '' || value.toLowerCase() === 'none') return [];
  const ids: string[] = [];
  for (const part of value.split(',')) {
    const id = pyInt(part);
    if (id === undefined) return undefined;
    ids.push(id.toString());
  }
  return ids;
}

/** A subject as authnzerver's integer user id would compare (`04` is 4), else unchanged. */
function canonicalId(id: string): string {
  return pyInt(id)?.toString() ?? id;
}

/** Step 1: the visibility gate. */
export function visibilityAllows(req: AccessRequest, options: DecideOptions = {}): boolean {
  if (PRIVILEGED.has(req.role)) return true;
  const isOwner = req.userId !== undefined && req.userId === req.target.ownerId;
  switch (req.target.visibility) {
    case 'public':
    case 'unlisted':
      return true;
    case 'private':
      return isOwner;
    case 'shared': {
      if (isOwner) return true;
      const list = sharedList(req.target.sharedWith);
      if (list === undefined) return false;
      const anonymous = options.anonymousId ?? '2';
      const listed = (id: string): boolean =>
        list.includes(id) || (typeof req.target.sharedWith === 'string' && list.includes(canonicalId(id)));
      return listed(anonymous) || list.includes('*') || (req.userId !== undefined && listed(req.userId));
    }
    default:
      return false;
  }
}

/** Step 2: the actions the role may take on this target. Unknown names give the empty set. */
export function allowedActions(policy: PolicyDocument, req: AccessRequest): ReadonlySet<string> {
  const item = policy.item_policy[req.target.name];
  const role = policy.role_policy[req.role];
  if (!item || !role) return new Set();
  if (item.invalid_roles.includes(req.role) || !item.valid_visibilities.includes(req.target.visibility)) return new Set();
  const isOwner = req.userId !== undefined && req.userId === req.target.ownerId;
  let actions: readonly string[];
  if (isOwner) actions = role.can_own_items.includes(req.target.name) ? role.allowed_actions_for_owned : [];
  else actions = role.allowed_actions_for_other[req.target.visibility] ?? [];
  return new Set(actions.filter((a) => item.valid_role_actions.includes(a)));
}

/** The whole decision: allowed iff the action is in the set and the visibility gate passes. */
export function checkAccess(
  policy: PolicyDocument,
  req: AccessRequest,
  options: DecideOptions = {},
): { allowed: boolean; reason: AccessReason } {
  if (!allowedActions(policy, req).has(req.action)) return { allowed: false, reason: 'action_not_permitted' };
  if (!visibilityAllows(req, options)) return { allowed: false, reason: 'visibility' };
  return { allowed: true, reason: 'allowed' };
}

/**
 * `check_role_limits`: a role missing from the policy, or without a `limits` member, fails (Python
 * raises KeyError, and authnzerver denies); no limit of that name for the role → allowed; otherwise
 * both values are cast to the limit kind's type as Python's `int()` / `float()` cast them (so
 * `'599.5'`, `'1e2'` and `'0x10'` fail an int limit, `'04'`, `'+4'` and `' 4 '` read as 4) and
 * compared with its operator (strict `lt` / `gt`). Values that cannot be cast → denied.
 */
export function checkLimit(policy: PolicyDocument, role: string, limitName: string, value: number | string): boolean {
  const rolePolicy = Object.hasOwn(policy.role_policy, role) ? policy.role_policy[role] : undefined;
  if (!rolePolicy?.limits) return false;
  const limit = Object.hasOwn(rolePolicy.limits, limitName) ? rolePolicy.limits[limitName] : undefined;
  if (!limit) return true;
  const kind = Object.hasOwn(policy.limits, limit.type) ? policy.limits[limit.type] : undefined;
  if (!kind) return false;
  if (kind.type === 'int') {
    // int(float) truncates; int(nan) and int(inf) raise. Python ints are unbounded: compare as BigInt.
    const toInt = (v: number | string): bigint | undefined =>
      typeof v === 'string' ? pyInt(v) : Number.isFinite(v) ? BigInt(Math.trunc(v)) : undefined;
    const a = toInt(value);
    const b = toInt(limit.limit);
    if (a === undefined || b === undefined) return false;
    return kind.operator === 'lt' ? a < b : a > b;
  }
  const a = typeof value === 'string' ? pyFloat(value) : value;
  if (a === undefined) return false;
  // NaN compares false either way, as in Python.
  return kind.operator === 'lt' ? a < limit.limit : a > limit.limit;
}
