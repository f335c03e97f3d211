/** Access policy in authnzerver's schema: load once, validate, decide with pure functions. */
import { readFileSync } from 'node:fs';
import { parsePolicyText, validatePolicy, type PolicyDocument } from './model.js';

export { PolicyError, isPolicyError, validatePolicy, parsePolicyText } from './model.js';
export type { PolicyDocument, ItemPolicy, RolePolicy, LimitKind } from './model.js';
export { checkAccess, checkLimit, allowedActions, visibilityAllows } from './decide.js';
export type { AccessRequest, AccessTarget, AccessReason, DecideOptions } from './decide.js';

/**
 * Loads and validates a policy once (call at start-up). Accepts a file path, JSON text or a parsed object.
 * @throws PolicyError naming the faulty field path, or the line for JSON syntax errors.
 */
export function loadPolicy(source: string | object, options: { fromFile?: boolean } = {}): PolicyDocument {
  if (typeof source !== 'string') return validatePolicy(source);
  const isText = options.fromFile === false || source.trimStart().startsWith('{');
  return validatePolicy(parsePolicyText(isText ? source : readFileSync(source, 'utf8')));
}
