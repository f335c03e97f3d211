/**
 * Pure access decisions, ported from authnzerver's `check_item_access` and `check_role_limits`
 * (permissions.py). No I/O: the caller supplies who, what and the target's facts.
 */
import type { PolicyDocument } from './model.js';

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

function sharedList(value: readonly string[] | string | undefined): string[] | undefined {
  if (value === undefined) return [];
  if (typeof value !== 'string') return [...value];
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  const parts = trimmed.split(',').map((s) => s.trim());
  // authnzerver parses the CSV as integers and fails the check when that is impossible.
  return parts.every((p) => /^\d+$/.test(p)) ? parts : undefined;
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
      return list.includes(anonymous) || list.includes('*') || (req.userId !== undefined && list.includes(req.userId));
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
export function checkAccess(policy: PolicyDocument, req: AccessRequest, options: DecideOptions = {}): { allowed: boolean; reason: AccessReason } {
  if (!allowedActions(policy, req).has(req.action)) return { allowed: false, reason: 'action_not_permitted' };
  if (!visibilityAllows(req, options)) return { allowed: false, reason: 'visibility' };
  return { allowed: true, reason: 'allowed' };
}

/**
 * `check_role_limits`: no limit of that name for the role → allowed; otherwise compare with the limit
 * kind's operator (strict `lt` / `gt`) after casting both to its type. Bad values → denied.
 */
export function checkLimit(policy: PolicyDocument, role: string, limitName: string, value: number | string): boolean {
  const limit = policy.role_policy[role]?.limits?.[limitName];
  if (!limit) return true;
  const kind = policy.limits[limit.type];
  if (!kind) return false;
  const cast = (v: number | string): number => {
    const n = typeof v === 'number' ? v : Number(v);
    if (typeof v === 'string' && v.trim() === '') return Number.NaN;
    return kind.type === 'int' ? (Number.isFinite(n) ? Math.trunc(n) : Number.NaN) : n;
  };
  const a = cast(value);
  const b = cast(limit.limit);
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  return kind.operator === 'lt' ? a < b : a > b;
}
