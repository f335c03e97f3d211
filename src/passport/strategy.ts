/**
 * Passport glue: wraps any {@link AuthScheme} as a Passport strategy so schemes can be used with an
 * application's own Passport instance too. A strategy is just a `name` and an `authenticate(req)`
 * that Passport calls on an object inheriting from it, to which it has added `success`, `fail` and
 * `error` (passport/lib/middleware/authenticate.js); no base class or extra package is needed.
 */
import type { Request } from 'express';
import type { Challenge } from '../errors.js';
import type { AuthError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { AuthScheme } from '../scheme.js';
import { checkAuthorizationHeader } from '../lib/authorization-header.js';
import { setAuthContext } from '../middleware/context.js';
import { toAuthError } from '../lib/render.js';
import { optionNames, optionsObject, positiveInteger, stringOption } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';

/** The shape of a Passport strategy, without depending on Passport's type packages. */
export interface PassportStrategyLike {
  name?: string | undefined;
  authenticate(this: unknown, req: Request, options?: unknown): void;
}

/** The actions Passport adds to the object it calls `authenticate` on. */
interface PassportActions {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(err: unknown): void;
}

/** Options for {@link toPassportStrategy}. */
export interface PassportStrategyOptions extends ObservableOptions {
  /** `realm` parameter added to this scheme's challenge, as `authenticate(…, { realm })` does. */
  readonly realm?: string;
  /**
   * Largest accepted `Authorization` header, in bytes (default 8192, as `authenticate()`; an integer
   * >= 1); larger ones get 400.
   */
  readonly maxAuthorizationBytes?: number;
}

const WHERE = 'toPassportStrategy()';

/** One strategy's turn on a request, in order: its challenge and, when it rejected a credential, why. */
export interface PassportAttempt {
  readonly challenge: Challenge;
  readonly rejection: AuthError | undefined;
}

const ATTEMPTS: unique symbol = Symbol.for('authnz-express.passport-attempts');
interface WithAttempts {
  [ATTEMPTS]?: PassportAttempt[];
}

/** The attempts `toPassportStrategy()` strategies recorded on this request (undefined if none ran). */
export function passportAttempts(req: object): readonly PassportAttempt[] | undefined {
  return (req as WithAttempts)[ATTEMPTS];
}

function record(req: object, attempt: PassportAttempt): PassportAttempt[] {
  const r = req as WithAttempts;
  (r[ATTEMPTS] ??= []).push(attempt);
  return r[ATTEMPTS];
}

/**
 * Builds a Passport strategy from a scheme. Outcomes:
 * - a malformed `Authorization` header (two of them, too large, not auth-scheme syntax, a list of
 *   credentials): `error(err)` with the 400 `authenticate()` answers, before the scheme runs;
 * - no credential of this scheme: `fail()` with no info, so Passport tries the next strategy;
 * - wrong credential (401): `fail(error)`, so the next strategy may still claim the request, unless
 *   the error ends the chain (`endsChain`: a bound or misused credential), which is `error(err)`;
 * - malformed request (400), outage (503) and other non-401 errors: `error(err)`, which stops the chain
 *   so that nothing is let through when a check could not be made;
 * - success: `req.principal` is set (Passport sets `req.user`) so the guards work after
 *   `passport.authenticate()` as after `authenticate()`.
 * Each turn is recorded on the request for {@link passportErrorHandler}, which answers failures with
 * the same problem+json, challenges and 503s as `authenticate()`.
 */
export function toPassportStrategy(scheme: AuthScheme, input: PassportStrategyOptions = {}): PassportStrategyLike {
  const options = optionsObject(input, WHERE, true);
  new Warnings(WHERE, options).unknownOptions(
    options,
    optionNames<PassportStrategyOptions>()({ realm: 1, maxAuthorizationBytes: 1, logger: 1, validate: 1 }),
  );
  if (options.realm !== undefined) stringOption(options.realm, '', WHERE, 'realm');
  const maxBytes = positiveInteger(options.maxAuthorizationBytes, 8192, WHERE, 'maxAuthorizationBytes');
  const challenge: Challenge =
    options.realm === undefined
      ? scheme.challenge
      : { scheme: scheme.challenge.scheme, params: { realm: options.realm, ...(scheme.challenge.params ?? {}) } };
  return {
    name: scheme.name,
    authenticate(this: unknown, req: Request): void {
      const actions = this as PassportActions;
      // The request-level checks of authenticate(): each strategy makes them, so the first one run
      // stops the chain whatever the order of the strategies.
      const headerError = checkAuthorizationHeader(req, maxBytes);
      if (headerError) {
        record(req, { challenge, rejection: undefined });
        actions.error(headerError);
        return;
      }
      let pending: ReturnType<AuthScheme['authenticate']>;
      try {
        pending = scheme.authenticate(req);
      } catch (thrown) {
        // A scheme that throws synchronously stops the chain, as passport-custom did (`error(ex)`).
        actions.error(thrown);
        return;
      }
      pending.then(
        (principal) => {
          const attempts = record(req, { challenge, rejection: undefined });
          if (principal === undefined) {
            actions.fail();
            return;
          }
          setAuthContext(req, { challenges: attempts.map((a) => a.challenge), matched: challenge, onError: undefined });
          (req as Request & { principal?: Principal }).principal = principal;
          actions.success(principal, { scheme: scheme.name });
        },
        (thrown: unknown) => {
          const error = toAuthError(thrown);
          record(req, { challenge, rejection: error.status === 401 ? error : undefined });
          if (error.status === 401 && !error.endsChain) actions.fail(error);
          else actions.error(error);
        },
      );
    },
  };
}
