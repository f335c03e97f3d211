/**
 * `requireAccess(action, target, { policy })`: a guard deciding with the access policy (authnzerver's
 * model). The role comes from the principal (`details.role`, else a `role:<name>` scope, else
 * `defaultRole`); the target facts come from the request.
 */
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../principal.js';
import { checkAccess, type AccessTarget, type DecideOptions } from '../policy/decide.js';
import type { PolicyDocument } from '../policy/model.js';
import { authorize } from './guards.js';
import type { Middleware } from '../http.js';

/**
 * The target: fixed facts, or read from the request (may be async, e.g. a DB lookup). `Req` is the
 * request type the function expects: annotate its parameter (`(req: Request) => …` with Express's
 * `Request`) to read `req.params`; the guard passes the request it receives from the framework.
 */
export type TargetSource<Req extends IncomingMessage = IncomingMessage> =
  | AccessTarget
  | ((req: Req, principal: Principal) => AccessTarget | Promise<AccessTarget>);

/** Options for {@link requireAccess}. */
export interface RequireAccessOptions extends DecideOptions {
  /** The validated policy (from `loadPolicy`, at start-up). */
  readonly policy: PolicyDocument;
  /** Maps a principal to a policy role (default: `details.role`, a `role:<name>` scope, or `defaultRole`). */
  readonly roleOf?: (principal: Principal) => string;
  /** Role when the principal names none (default `authenticated`). */
  readonly defaultRole?: string;
}

/** The default role mapping. */
export function principalRole(principal: Principal, defaultRole = 'authenticated'): string {
  const fromDetails = principal.details['role'];
  if (typeof fromDetails === 'string' && fromDetails !== '') return fromDetails;
  const scope = principal.scopes.find((s) => s.startsWith('role:'));
  return scope ? scope.slice(5) : defaultRole;
}

/**
 * Allows the request when the policy permits `action` on the target; 403 `forbidden` otherwise,
 * 401 without a principal. A target function that throws denies (fail closed).
 * @example app.get('/datasets/:id', auth, requireAccess('view', (req: Request<{ id: string }>) => datasets.facts(req.params.id), { policy }), h)
 */
export function requireAccess<Req extends IncomingMessage = IncomingMessage>(action: string, target: TargetSource<Req>, options: RequireAccessOptions): Middleware {
  const { policy } = options;
  if (!policy.actions.includes(action)) throw new TypeError(`requireAccess(): unknown action "${action}"`);
  if (typeof target !== 'function' && !policy.items.includes(target.name)) throw new TypeError(`requireAccess(): unknown item "${target.name}"`);
  const roleOf = options.roleOf ?? ((p: Principal) => principalRole(p, options.defaultRole));
  return authorize(
    async (principal, req) => {
      // Mounted on a route of the framework `Req` belongs to, so the request is of that type.
      const facts = typeof target === 'function' ? await target(req as Req, principal) : target;
      return checkAccess(policy, { userId: principal.subject, role: roleOf(principal), action, target: facts }, options).allowed;
    },
    { description: `Not permitted to ${action} this item.` },
  );
}
