/**
 * Passport glue: wraps any {@link AuthScheme} as a passport-custom strategy so schemes can be used
 * with an application's own Passport instance too.
 */
import { Strategy as CustomStrategy } from 'passport-custom';
import type { Request } from 'express';
import type { AuthScheme } from '../scheme.js';
import { toAuthError } from '../middleware/render.js';

/** The shape of a Passport strategy, without depending on Passport's type packages. */
export interface PassportStrategyLike {
  name?: string | undefined;
  authenticate(this: unknown, req: Request, options?: unknown): void;
}

/**
 * Builds a Passport strategy from a scheme. Outcomes:
 * - no credential of this scheme: `fail()` with no info, so Passport tries the next strategy;
 * - wrong credential (401): `fail(error)`, so the next strategy may still claim the request;
 * - malformed request (400), outage (503) and other non-401 errors: `error(err)`, which stops the chain
 *   so that nothing is let through when a check could not be made.
 */
export function toPassportStrategy(scheme: AuthScheme): PassportStrategyLike {
  const strategy = new CustomStrategy((req: Request, done) => {
    scheme.authenticate(req).then(
      (principal) => {
        if (principal === undefined) done(null, false);
        else done(null, principal, { scheme: scheme.name });
      },
      (thrown: unknown) => {
        const error = toAuthError(thrown);
        if (error.status === 401) done(null, false, error);
        else done(error);
      },
    );
  });
  // passport-custom strategies are all called "custom"; give each its scheme's name.
  (strategy as { name: string }).name = scheme.name;
  return strategy as unknown as PassportStrategyLike;
}
