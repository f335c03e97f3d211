/**
 * Passport's request helpers (`req.logIn`, `req.isAuthenticated`, …) for requests that
 * `authenticate()` handles without running `passport.authenticate()` itself.
 */
import { IncomingMessage } from 'node:http';
import type { Passport } from 'passport';

/** The request helpers Passport's `authenticate` middleware installs (`req.logIn`, `req.isAuthenticated`, …). */
export interface PassportRequestHelpers {
  install(req: IncomingMessage): void;
}

/**
 * Takes the helpers from Passport itself (by running its middleware once over an empty strategy
 * list on a probe object) so requests get exactly what `passport.authenticate()` would give them.
 *
 * Passport stores six properties on every request; on Express requests those stores cost about a
 * tenth of the route's throughput (CPU profile in bench/RESULTS.md). Express gives each app's
 * requests their own prototype (`app.request`), so there they are set once on that prototype, the
 * way `passport.initialize()` makes them available to every request of the app. Plain Node/Connect
 * requests (prototype `IncomingMessage.prototype`, shared by the whole process) get them per request.
 */
export function passportRequestHelpers(passport: InstanceType<typeof Passport>): PassportRequestHelpers {
  const probe: Record<string, unknown> = {};
  const run = passport.authenticate([], { session: false }, () => undefined) as unknown as (
    req: object,
    res: object,
    next: () => void,
  ) => void;
  run(probe, {}, () => undefined);
  const { logIn, logOut, isAuthenticated, isUnauthenticated, _sessionManager: sessionManager } = probe;
  const set = (target: Record<string, unknown>): void => {
    target['login'] = target['logIn'] = target['logIn'] || logIn;
    target['logout'] = target['logOut'] = target['logOut'] || logOut;
    target['isAuthenticated'] = target['isAuthenticated'] || isAuthenticated;
    target['isUnauthenticated'] = target['isUnauthenticated'] || isUnauthenticated;
    target['_sessionManager'] = sessionManager;
  };
  const prepared = new WeakSet<object>();
  return {
    install(req) {
      const proto = Object.getPrototypeOf(req) as Record<string, unknown> | null;
      if (proto === null || (proto as object) === IncomingMessage.prototype) {
        set(req as unknown as Record<string, unknown>);
      } else if (!prepared.has(proto)) {
        prepared.add(proto);
        set(proto);
      }
    },
  };
}
