/**
 * `passportErrorHandler()`: Express error middleware that answers failures of
 * `passport.authenticate([...], { session: false, failWithError: true })` over
 * `toPassportStrategy()` strategies exactly as `authenticate()` does (problem+json, one challenge per
 * scheme, the rejecting scheme's `invalid_token` challenge, 400s, 503 with Retry-After).
 */
import { AuthError, isAuthError } from '../errors.js';
import { setAuthContext } from '../middleware/context.js';
import { withOwnChallenge, writeProblem } from '../lib/render.js';
import { passportAttempts } from './strategy.js';
import type { ErrorMiddleware } from '../http.js';

/** Passport's `AuthenticationError`, passed to `next()` with `failWithError: true` when every strategy failed. */
function isPassportAuthenticationError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AuthenticationError' && typeof (err as { status?: unknown }).status === 'number';
}

/**
 * Renders what `passport.authenticate(names, { session: false, failWithError: true })` passes on:
 * - every strategy failed: the first scheme that rejected its credential answers (401 with its
 *   `invalid_token` challenge), else 401 `credentials_missing` with every scheme's challenge;
 * - a strategy's `error()` (400 malformed request, 503 dependency unavailable with `Retry-After`, a
 *   401 that ends the chain): that error, rendered.
 * Other errors, and requests no `toPassportStrategy()` strategy saw, go on to the next error handler.
 * @example app.use(passportErrorHandler()); // after the routes
 */
export function passportErrorHandler(): ErrorMiddleware {
  return function passportErrorHandler(err, req, res, next) {
    const attempts = passportAttempts(req);
    if (attempts === undefined || attempts.length === 0) {
      next(err);
      return;
    }
    const challenges = attempts.map((a) => a.challenge);
    let error: AuthError;
    // A 401 that ended the chain came from the last strategy that ran: it answers with its own challenge.
    if (isAuthError(err)) error = err.endsChain ? withOwnChallenge(err, attempts[attempts.length - 1]?.challenge) : err;
    else if (isPassportAuthenticationError(err)) {
      const rejected = attempts.find((a) => a.rejection !== undefined);
      error = rejected?.rejection
        ? withOwnChallenge(rejected.rejection, rejected.challenge)
        : new AuthError('credentials_missing', { detail: 'Authentication is required for this resource.' });
    } else {
      next(err);
      return;
    }
    setAuthContext(req, { challenges, matched: undefined, onError: undefined });
    writeProblem(error, res, challenges);
  };
}
