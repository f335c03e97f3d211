/**
 * Passport glue: wraps any {@link AuthScheme} as a Passport strategy so schemes can be used with an
 * application's own Passport instance too. A strategy is just a `name` and an `authenticate(req)`
 * that Passport calls on an object inheriting from it, to which it has added `success`, `fail` and
 * `error` (passport/lib/middleware/authenticate.js); no base class or extra package is needed.
 */
import type { Request } from 'express';
import type { AuthScheme } from '../scheme.js';
import { toAuthError } from '../middleware/render.js';

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

/**
 * Builds a Passport strategy from a scheme. Outcomes:
 * - no credential of this scheme: `fail()` with no info, so Passport tries the next strategy;
 * - wrong credential (401): `fail(error)`, so the next strategy may still claim the request;
 * - malformed request (400), outage (503) and other non-401 errors: `error(err)`, which stops the chain
 *   so that nothing is let through when a check could not be made.
 */
export function toPassportStrategy(scheme: AuthScheme): PassportStrategyLike {
  return {
    name: scheme.name,
    authenticate(this: unknown, req: Request): void {
      const actions = this as PassportActions;
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
          if (principal === undefined) actions.fail();
          else actions.success(principal, { scheme: scheme.name });
        },
        (thrown: unknown) => {
          const error = toAuthError(thrown);
          if (error.status === 401) actions.fail(error);
          else actions.error(error);
        },
      );
    },
  };
}
