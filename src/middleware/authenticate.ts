/**
 * `authenticate(schemes, options)`: Connect-style middleware that tries several schemes in order,
 * with Passport's multi-strategy semantics (no sessions), and leaves one frozen `req.principal`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from '../http.js';
import { Passport } from 'passport';
import type { Challenge } from '../errors.js';
import { AuthError, isAuthError } from '../errors.js';
import { subjectIssuerOf, type Principal } from '../principal.js';
import type { AuthScheme } from '../scheme.js';
import { checkAuthorizationHeader } from '../lib/authorization-header.js';
import { passportRequestHelpers } from '../passport/request.js';
import { setAuthContext, type AuthContext } from './context.js';
import { toAuthError, withOwnChallenge, writeProblem, type ErrorRenderer } from '../lib/render.js';
import { authenticateChannel, type AuthenticateEvent } from '../diagnostics.js';
import { configurationError, hasMethods, optionError, optionNames, optionsObject, positiveInteger } from '../lib/options.js';
import { dependencyFailedAll, reportsOf, Warnings, type ObservableOptions } from '../lib/warnings.js';

const WHERE = 'authenticate()';
const KNOWN = optionNames<AuthenticateOptions>()({ optional: 1, realm: 1, maxAuthorizationBytes: 1, onError: 1, logger: 1, validate: 1 });

/** Options for {@link authenticate}. */
export interface AuthenticateOptions extends ObservableOptions {
  /** Let requests without any credential through with no principal. Bad credentials are still rejected. */
  readonly optional?: boolean;
  /** `realm` added to every challenge. */
  readonly realm?: string;
  /** Largest accepted `Authorization` header, in bytes (default 8192; an integer >= 1); larger ones get 400. */
  readonly maxAuthorizationBytes?: number;
  /** Writes error responses instead of the default problem+json renderer. */
  readonly onError?: ErrorRenderer;
}

function withRealm(challenge: Challenge, realm: string | undefined): Challenge {
  if (realm === undefined) return challenge;
  return { scheme: challenge.scheme, params: { realm, ...(challenge.params ?? {}) } };
}

/**
 * Builds the authentication middleware for a route.
 *
 * - no credential of any scheme: 401 with one `WWW-Authenticate` challenge per scheme
 *   (or, with `optional`, the request continues with no principal);
 * - a wrong credential: 401 `invalid_token` for that scheme, with a reason;
 * - a malformed request: 400 `invalid_request`;
 * - a dependency that cannot answer: 503 with `Retry-After` — never a pass.
 *
 * @example
 * app.get('/orders', authenticate([apiJwtScheme({ publicKeys })]), requireScopes('orders:read'), handler);
 */
export function authenticate(schemes: readonly AuthScheme[], input: AuthenticateOptions = {}): Middleware {
  if (!Array.isArray(schemes as unknown) || schemes.length === 0) throw optionError(WHERE, 'schemes', 'a non-empty array of schemes');
  schemes.forEach((scheme, i) => {
    if (!hasMethods<AuthScheme>('authenticate')(scheme) || typeof scheme.name !== 'string')
      throw optionError(WHERE, `schemes[${i}]`, 'a scheme (e.g. apiJwtScheme({...}))');
  });
  const names = schemes.map((s) => s.name);
  if (new Set(names).size !== names.length)
    throw configurationError(WHERE, `scheme names must be unique (got ${names.join(', ')}); give one a "name"`);
  // `sub` is unique per issuer only: two schemes giving bare subjects of two issuers would make
  // tenant B's "alice" tenant A's on this route (guards and lookups compare the subject alone).
  // Bare subjects beside qualified ones are no better: an issuer could mint `sub: "<other iss>#alice"`.
  const marks = schemes.map(subjectIssuerOf);
  const issuers = new Set(marks.filter((issuer) => issuer !== undefined && issuer !== ''));
  if (issuers.size > 1 || (issuers.size === 1 && marks.includes(''))) {
    const named = [...issuers, ...(marks.includes('') ? ['issuer-qualified subjects'] : [])].join(', ');
    throw configurationError(
      WHERE,
      `the schemes name bare subjects of one issuer beside subjects of others (${named}), so one issuer's "alice" could be another's; trust them in one jwtBearerScheme({ issuers: [...] }) (subjects "<iss>#<sub>"), or give each scheme a mapPrincipal that qualifies its subjects`,
    );
  }
  const options = optionsObject(input, WHERE, true);
  const warnings = new Warnings(WHERE, options);
  warnings.unknownOptions(options, KNOWN);
  if (options.onError !== undefined && typeof options.onError !== 'function')
    throw optionError(WHERE, 'onError', 'a function (error, req, res) => void');
  if (options.realm !== undefined && typeof options.realm !== 'string') throw optionError(WHERE, 'realm', 'a string');

  // A private Passport instance, so the application's own strategies and settings are untouched.
  // Schemes run as the strategies of toPassportStrategy() would under it (see `attempt` below).
  const helpers = passportRequestHelpers(new Passport());

  const count = schemes.length;
  // One primary challenge per scheme (indexed like `schemes`), and every challenge the route
  // answers with when no credential was sent (a scheme may offer several, e.g. Bearer and DPoP).
  const primaries = schemes.map((s) => withRealm(s.challenge, options.realm));
  const challenges = schemes.flatMap((s) => (s.challenges ?? [s.challenge]).map((c) => withRealm(c, options.realm)));
  // Headers of every scheme's challenge (e.g. Accept-Signature), for the 401 without a credential.
  const headerList = schemes.flatMap((s) => (s.challengeHeaders === undefined ? [] : [s.challengeHeaders]));
  const missingHeaders = headerList.length === 0 ? undefined : Object.freeze(Object.assign({}, ...headerList) as Record<string, string>);
  const maxBytes = positiveInteger(options.maxAuthorizationBytes, 8192, WHERE, 'maxAuthorizationBytes');
  const optional = options.optional === true;
  const onError = options.onError;
  const baseContext: AuthContext = { challenges, matched: undefined, onError };
  // One context per scheme that can match, built once instead of per request.
  const matchedContexts: readonly AuthContext[] = primaries.map((matched) => ({ challenges, matched, onError }));

  // The context is stored once per request, when the outcome is known: the guards and renderers
  // that read it only run after that (a second store on an Express request costs measurable time).
  /** Publishes the outcome, only when someone listens (`started` is 0 otherwise and never read). */
  const publish = (
    started: number,
    outcome: AuthenticateEvent['outcome'],
    scheme: number,
    error?: AuthError,
    principal?: Principal,
  ): void => {
    const event: AuthenticateEvent = {
      outcome,
      scheme: names[scheme],
      status: error ? error.status : 200,
      code: error?.code,
      reason: error?.reason,
      subject: principal?.subject,
      kind: principal?.kind,
      durationMs: performance.now() - started,
    };
    authenticateChannel.publish(event);
  };

  const fail = (error: AuthError, req: IncomingMessage, res: ServerResponse, started: number, scheme = -1): void => {
    if (started !== 0) publish(started, 'failure', scheme, error);
    // An operator needs to see why requests get 503: the reason and the internal cause, never the credential.
    if (error.code === 'dependency_unavailable') {
      // To the scheme's logger and this one, whichever were given; with neither, one line to stderr.
      const reports = [...reportsOf(schemes[scheme] ?? baseContext), warnings];
      dependencyFailedAll(
        reports,
        names[scheme] ?? 'authenticate',
        error.reason ?? 'dependency_unavailable',
        `${names[scheme] ?? 'a scheme'} answered 503 (${error.reason ?? 'dependency_unavailable'})`,
        error.cause,
      );
    }
    setAuthContext(req, baseContext);
    if (onError) {
      try {
        onError(error, req, res);
        return;
      } catch {
        // A broken custom renderer must not turn into a 500 with internals: fall back to the default.
      }
    }
    writeProblem(error, res, challenges);
  };

  const succeed = (req: IncomingMessage, user: Principal, index: number, next: (err?: unknown) => void, started: number): void => {
    if (started !== 0) publish(started, 'success', index, undefined, user);
    setAuthContext(req, matchedContexts[index] ?? baseContext);
    const r = req as IncomingMessage & { principal?: Principal; user?: unknown };
    r.principal = user;
    r.user = user;
    next();
  };

  // Every scheme failed: report the first that recognised its credential but rejected it.
  const allFailed = (
    infos: readonly unknown[] | undefined,
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
    started: number,
  ): void => {
    if (infos !== undefined) {
      for (let i = 0; i < infos.length; i++) {
        const item = infos[i];
        if (isAuthError(item)) {
          fail(withOwnChallenge(item, primaries[i]), req, res, started, i);
          return;
        }
      }
    }
    if (optional) {
      if (started !== 0) publish(started, 'anonymous', -1);
      setAuthContext(req, baseContext);
      next();
      return;
    }
    fail(
      new AuthError('credentials_missing', {
        detail: 'Authentication is required for this resource.',
        ...(missingHeaders === undefined ? {} : { headers: missingHeaders }),
      }),
      req,
      res,
      started,
    );
  };

  /**
   * Tries the schemes in order with Passport's semantics for `passport.authenticate(names,
   * { session: false }, callback)` over the strategies of `toPassportStrategy()`, without
   * Passport's per-request strategy objects and closures (the profile's largest cost of ours):
   * "not mine" and 401 fall through to the next scheme, any other error, a 401 that ends the chain
   * (`AuthError.endsChain`: a bound or misused credential) or a throw stops the chain, the first
   * principal wins. Passport's request helpers are installed as Passport does.
   */
  const attempt = async (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void, started: number): Promise<void> => {
    let infos: unknown[] | undefined;
    for (let i = 0; i < count; i++) {
      const scheme = schemes[i] as AuthScheme;
      let pending: Promise<Principal | undefined>;
      try {
        pending = scheme.authenticate(req);
      } catch (thrown) {
        // A synchronous throw is Passport's strategy.error(): the chain stops whatever the status.
        fail(toAuthError(thrown), req, res, started, i);
        return;
      }
      let principal: Principal | undefined;
      try {
        principal = await pending;
      } catch (thrown) {
        const error = toAuthError(thrown);
        if (error.endsChain) {
          // A bound or misused credential: a later scheme accepting it would undo the refusal.
          fail(withOwnChallenge(error, primaries[i]), req, res, started, i);
          return;
        }
        if (error.status !== 401) {
          fail(error, req, res, started, i);
          return;
        }
        (infos ??= new Array<unknown>(count))[i] = error;
        continue;
      }
      if (principal) {
        succeed(req, principal, i, next, started);
        return;
      }
    }
    allFailed(infos, req, res, next, started);
  };

  return function authenticateMiddleware(req, res, next) {
    // 0 = nobody listens: no clock read and no event object (bench/RESULTS.md, diagnostics channels).
    const started = authenticateChannel.hasSubscribers ? performance.now() || Number.MIN_VALUE : 0;
    const headerError = checkAuthorizationHeader(req, maxBytes);
    if (headerError) {
      fail(headerError, req, res, started);
      return;
    }
    helpers.install(req);
    // A downstream `next()` that throws (outside Express's own try/catch) must not become an
    // unhandled rejection, which ends the process: hand it on as Express 5 does for promises.
    attempt(req, res, next, started).catch(next);
  };
}
