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
import { enumOption, functionOption, optionNames, optionsObject, required, stringOption } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';

const WHERE = 'requireAccess()';
const KNOWN = optionNames<RequireAccessOptions>()({ policy: 1, roleOf: 1, defaultRole: 1, anonymousId: 1, logger: 1, validate: 1 });

const isPolicy = (value: unknown): value is PolicyDocument =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as PolicyDocument).actions) &&
  Array.isArray((value as PolicyDocument).items);

/**
 * The target: fixed facts, or read from the request (may be async, e.g. a DB lookup). `Req` is the
 * request type the function expects: annotate its parameter (`(req: Request) => …` with Express's
 * `Request`) to read `req.params`; the guard passes the request it receives from the framework.
 */
export type TargetSource<Req extends IncomingMessage = IncomingMessage> =
  AccessTarget | ((req: Req, principal: Principal) => AccessTarget | Promise<AccessTarget>);

/** Options for {@link requireAccess}. */
export interface RequireAccessOptions extends DecideOptions, ObservableOptions {
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
export function requireAccess<Req extends IncomingMessage = IncomingMessage>(
  action: string,
  target: TargetSource<Req>,
  input: RequireAccessOptions,
): Middleware {
  const options = optionsObject(input, WHERE, false);
  new Warnings(WHERE, options).unknownOptions(options, KNOWN);
  const policy = required(options.policy, isPolicy, WHERE, 'policy', 'a policy from loadPolicy()');
  enumOption(action, policy.actions, undefined, WHERE, 'action');
  if (typeof target !== 'function') enumOption(target.name, policy.items, undefined, WHERE, 'target.name');
  const defaultRole = stringOption(options.defaultRole, 'authenticated', WHERE, 'defaultRole');
  const roleOf =
    functionOption<(principal: Principal) => string>(options.roleOf, WHERE, 'roleOf', 'a function (principal) => role') ??
    ((p: Principal) => principalRole(p, defaultRole));
  return authorize(
    async (principal, req) => {
      // Mounted on a route of the framework `Req` belongs to, so the request is of that type.
      const facts = typeof target === 'function' ? await target(req as Req, principal) : target;
      return checkAccess(policy, { userId: principal.subject, role: roleOf(principal), action, target: facts }, options).allowed;
    },
    { description: `Not permitted to ${action} this item.` },
  );
}
