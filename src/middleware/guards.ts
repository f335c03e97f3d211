/**
 * Per-route guards that read `req.principal`. They compose: put several after `authenticate()`.
 * No principal: 401 with the route's challenges. Not enough: 403 (RFC 6750 §3.1).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, type Challenge, isAuthError } from '../errors.js';
import { issuerSubject, type Principal, type PrincipalKind } from '../principal.js';
import { getAuthContext } from './context.js';
import type { Middleware } from '../http.js';
import { writeProblem } from '../lib/render.js';
import { guardChannel, type GuardEvent } from '../diagnostics.js';
import { describeValue, enumOption, numberOption, optionError, optionNames, optionsObject, stringOption } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';
import { componentFromText } from '../protocols/http-signatures/structured.js';
import { uncoveredComponents } from '../protocols/http-signatures/verify.js';

type Req = IncomingMessage & { principal?: Principal };

function deny(error: AuthError, req: IncomingMessage, res: ServerResponse, name: string): void {
  if (guardChannel.hasSubscribers) {
    const principal = (req as Req).principal;
    const event: GuardEvent = {
      guard: name,
      status: error.status,
      code: error.code,
      reason: error.reason,
      subject: principal?.subject,
      scheme: principal?.scheme,
    };
    guardChannel.publish(event);
  }
  const context = getAuthContext(req);
  const defaults: readonly Challenge[] = context?.challenges ?? [{ scheme: 'Bearer' }];
  if (context?.onError) {
    try {
      context.onError(error, req, res);
      return;
    } catch {
      // fall back to the default renderer
    }
  }
  writeProblem(error, res, defaults);
}

function forbid(
  req: IncomingMessage,
  code: 'insufficient_scope' | 'insufficient_level' | 'forbidden',
  detail: string,
  scope?: string,
): AuthError {
  const context = getAuthContext(req);
  const scheme = context?.matched?.scheme ?? 'Bearer';
  const realm = context?.matched?.params?.['realm'];
  const params: Record<string, string> = {};
  if (realm !== undefined) params['realm'] = realm;
  params['error'] = 'insufficient_scope';
  params['error_description'] = detail;
  if (scope !== undefined) params['scope'] = scope;
  return new AuthError(code, { detail, reason: code, challenges: [{ scheme, params }] });
}

function unauthenticated(): AuthError {
  return new AuthError('credentials_missing', { detail: 'Authentication is required for this resource.' });
}

/** A check on the principal: true to allow. May be async. */
export type PrincipalPredicate = (principal: Principal, req: IncomingMessage) => boolean | Promise<boolean>;

function guard(name: string, check: (principal: Principal, req: Req) => AuthError | undefined): Middleware {
  return (req, res, next) => {
    const principal = (req as Req).principal;
    if (!principal) {
      deny(unauthenticated(), req, res, name);
      return;
    }
    const error = check(principal, req as Req);
    if (error) deny(error, req, res, name);
    else next();
  };
}

/** A non-empty list of non-empty strings given as one string or an array (for scopes, subjects). */
function stringList(value: unknown, where: string, option: string, what: string): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? [...(value as unknown[])] : undefined;
  if (list === undefined || list.length === 0)
    throw optionError(
      where,
      option,
      `a ${what} or a non-empty array of them`,
      Array.isArray(value) ? 'an empty array' : describeValue(value),
    );
  list.forEach((item, i) => {
    if (typeof item !== 'string' || item === '') throw optionError(where, `${option}[${i}]`, `a non-empty ${what}`, describeValue(item));
  });
  return list as string[];
}

// A plain loop: no callback closure per request on the hot path.
function hasScopes(granted: readonly string[], needed: readonly string[], matchAll: boolean): boolean {
  for (let i = 0; i < needed.length; i++) {
    const has = granted.includes(needed[i] as string);
    if (has !== matchAll) return has;
  }
  return matchAll;
}

/** Options for {@link requireScopes}. */
export interface RequireScopesOptions extends ObservableOptions {
  /** `all` (default): every scope is needed. `any`: one of them is enough. */
  readonly match?: 'all' | 'any';
}

/**
 * Requires scopes on the principal. 403 `insufficient_scope` with the needed `scope=` otherwise.
 * @example app.get('/orders', auth, requireScopes(['orders:read', 'orders:list'], { match: 'any' }), h)
 */
export function requireScopes(scopes: string | readonly string[], input: RequireScopesOptions = {}): Middleware {
  const options = optionsObject(input, 'requireScopes()', true);
  new Warnings('requireScopes()', options).unknownOptions(
    options,
    optionNames<RequireScopesOptions>()({ match: 1, logger: 1, validate: 1 }),
  );
  const needed = stringList(scopes, 'requireScopes()', 'scopes', 'scope string');
  const matchAll = enumOption(options.match, ['all', 'any'], 'all', 'requireScopes()', 'match') === 'all';
  const scopeParam = needed.join(' ');
  const detail = matchAll ? `Requires scope ${scopeParam}.` : `Requires one of the scopes ${scopeParam}.`;
  return guard('requireScopes', (principal, req) =>
    hasScopes(principal.scopes, needed, matchAll) ? undefined : forbid(req, 'insufficient_scope', detail, scopeParam),
  );
}

/** Requires an assurance level of at least `min`. */
export function requireLevel(min: number): Middleware {
  numberOption(min, undefined, 'requireLevel()', 'min');
  return guard('requireLevel', (principal, req) =>
    principal.level >= min ? undefined : forbid(req, 'insufficient_level', `Requires assurance level ${min} or higher.`),
  );
}

/** Requires the principal to be of one of the given kinds. */
export function requireKind(...kinds: PrincipalKind[]): Middleware {
  if (kinds.length === 0) throw optionError('requireKind()', 'kinds', 'at least one of "service", "user"', 'none');
  kinds.forEach((kind, i) => enumOption(kind, ['service', 'user'], undefined, 'requireKind()', `kinds[${i}]`));
  return guard('requireKind', (principal, req) =>
    kinds.includes(principal.kind) ? undefined : forbid(req, 'forbidden', `Only for callers of kind ${kinds.join(' or ')}.`),
  );
}

/** A subject of one issuer, for {@link requireSubject}: `sub` is unique per issuer only. */
export interface IssuerSubject {
  /** The exact issuer (`principal.details.issuer`). */
  readonly issuer: string;
  /** The subject as that issuer names it (`sub`, or the client id). */
  readonly subject: string;
}

/**
 * Requires the principal's subject to be one of the given subjects. A plain string is compared with
 * `principal.subject`; an `{ issuer, subject }` pair also requires `principal.details.issuer` to be
 * that issuer, and matches the subject as the issuer names it or in its issuer-qualified form (the
 * subject of schemes that trust several issuers, see {@link issuerSubject}).
 * @example app.get('/admin', auth, requireSubject({ issuer: 'https://tenant-a.example/', subject: 'alice' }), h)
 */
export function requireSubject(...subjects: Array<string | IssuerSubject>): Middleware {
  const where = 'requireSubject()';
  if (subjects.length === 0) throw optionError(where, 'subjects', 'a subject or a non-empty array of them', 'an empty array');
  const plain = new Set<string>();
  const pairs = new Map<string, Set<string>>();
  subjects.forEach((item, i) => {
    if (typeof item === 'object' && item !== null) {
      const [issuer, subject] = [item.issuer, item.subject];
      if (typeof issuer !== 'string' || issuer === '' || typeof subject !== 'string' || subject === '')
        throw optionError(where, `subjects[${i}]`, 'a non-empty subject or { issuer, subject } of non-empty strings', describeValue(item));
      const forIssuer = pairs.get(issuer) ?? new Set<string>();
      forIssuer.add(subject).add(issuerSubject(issuer, subject));
      pairs.set(issuer, forIssuer);
    } else if (typeof item === 'string' && item !== '') plain.add(item);
    else throw optionError(where, `subjects[${i}]`, 'a non-empty subject', describeValue(item));
  });
  const allowed = (principal: Principal): boolean => {
    if (plain.has(principal.subject)) return true;
    const issuer = principal.details.issuer;
    return issuer !== undefined && pairs.get(issuer)?.has(principal.subject) === true;
  };
  return guard('requireSubject', (principal, req) =>
    allowed(principal) ? undefined : forbid(req, 'forbidden', 'This caller may not use this resource.'),
  );
}

/** The covered components of an HTTP signature principal, or undefined for principals of other schemes. */
function signedComponents(principal: Principal): readonly string[] | undefined {
  const components = principal.details.components;
  return principal.scheme === 'http-signature' && Array.isArray(components) ? (components as readonly string[]) : undefined;
}

/**
 * Requires a request signed with HTTP Message Signatures (`httpSignatureScheme`) whose signature
 * covers every one of `components` (names such as `content-digest`, or serialized identifiers such
 * as `"@query-param";name="id"`; `@path` with `@query` stand for `@target-uri`, as in the scheme's
 * `requiredComponents`). 403 `forbidden` otherwise, also for principals of other schemes.
 * @example app.post('/transfers', auth, requireSignedComponents(['content-digest', 'content-type']), h)
 * @throws TypeError `requireSignedComponents(): "components[<i>]" must be …` for an unknown component.
 */
export function requireSignedComponents(components: string | readonly string[]): Middleware {
  const where = 'requireSignedComponents()';
  const needed = stringList(components, where, 'components', 'component name').map((name, i) => {
    try {
      return componentFromText(name);
    } catch {
      throw optionError(where, `components[${i}]`, 'a component name such as "@method" or "content-digest"', describeValue(name));
    }
  });
  const detail = `This resource needs a signature covering ${needed.map((c) => c.serialized).join(' ')}.`;
  return guard('requireSignedComponents', (principal, req) => {
    const covered = signedComponents(principal);
    return covered !== undefined && uncoveredComponents(covered, needed).length === 0 ? undefined : forbid(req, 'forbidden', detail);
  });
}

/**
 * Requires a request signed with HTTP Message Signatures whose signature carries the `tag`
 * parameter `tag` (RFC 9421 §2.3). 403 `forbidden` otherwise, also for principals of other schemes.
 * @example app.get('/agents', auth, requireSignatureTag('web-bot-auth'), h)
 */
export function requireSignatureTag(tag: string): Middleware {
  if (typeof tag !== 'string' || tag === '') throw optionError('requireSignatureTag()', 'tag', 'a non-empty string', describeValue(tag));
  const expected = tag;
  return guard('requireSignatureTag', (principal, req) =>
    signedComponents(principal) !== undefined && principal.details.tag === expected
      ? undefined
      : forbid(req, 'forbidden', `This resource needs a signature with the tag "${expected}".`),
  );
}

/** Options for {@link authorize}. */
export interface AuthorizeOptions extends ObservableOptions {
  /** Client-safe text for the 403 detail. */
  readonly description?: string;
}

/**
 * Allows the request when `predicate(principal, req)` is true. A predicate that throws or rejects
 * denies (fail closed); an AuthError it throws is rendered as is.
 */
export function authorize(predicate: PrincipalPredicate, input: AuthorizeOptions = {}): Middleware {
  if (typeof predicate !== 'function')
    throw optionError('authorize()', 'predicate', 'a function (principal, req) => boolean', describeValue(predicate));
  const options = optionsObject(input, 'authorize()', true);
  new Warnings('authorize()', options).unknownOptions(options, optionNames<AuthorizeOptions>()({ description: 1, logger: 1, validate: 1 }));
  const detail = stringOption(options.description, 'This caller may not perform this action.', 'authorize()', 'description');
  return (req, res, next) => {
    const principal = (req as Req).principal;
    if (!principal) {
      deny(unauthenticated(), req, res, 'authorize');
      return;
    }
    const denyWith = (thrown: unknown): void => {
      deny(isAuthError(thrown) ? thrown : forbid(req, 'forbidden', detail), req, res, 'authorize');
    };
    let result: boolean | Promise<boolean>;
    try {
      result = predicate(principal, req);
    } catch (thrown) {
      denyWith(thrown);
      return;
    }
    if (typeof result === 'boolean') {
      if (result) next();
      else denyWith(undefined);
      return;
    }
    Promise.resolve(result).then(
      (ok) => (ok === true ? next() : denyWith(undefined)),
      (thrown: unknown) => denyWith(isAuthError(thrown) ? thrown : undefined),
    );
  };
}
