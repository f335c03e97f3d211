/**
 * Per-request facts that `authenticate()` leaves for the guards: which challenges the route
 * accepts and which one authenticated the caller. Kept under a symbol so it never collides with
 * application properties.
 */
import type { Challenge } from '../errors.js';
import type { ErrorRenderer } from '../lib/render.js';

/** Symbol under which the auth context is stored on the request. */
export const AUTH_CONTEXT: unique symbol = Symbol.for('authnz-express.context');

/** What `authenticate()` records on a request. */
export interface AuthContext {
  /** Challenges of every scheme the route accepts. */
  readonly challenges: readonly Challenge[];
  /** Challenge of the scheme that authenticated the caller, if any. */
  readonly matched: Challenge | undefined;
  /** The error renderer configured on `authenticate()`, reused by the guards. */
  readonly onError: ErrorRenderer | undefined;
}

interface WithContext {
  [AUTH_CONTEXT]?: AuthContext;
}

/** Reads the auth context of a request, if `authenticate()` ran. */
export function getAuthContext(req: object): AuthContext | undefined {
  return (req as WithContext)[AUTH_CONTEXT];
}

/** Stores the auth context on a request. */
export function setAuthContext(req: object, context: AuthContext): void {
  (req as WithContext)[AUTH_CONTEXT] = context;
}
