/**
 * The Connect/Express function shapes every factory returns, kept apart from any one factory so that
 * schemes, limits and middleware share them without importing each other.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A Connect/Express middleware. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** An Express error middleware (four parameters: Express recognises error handlers by arity). */
export type ErrorMiddleware = (err: unknown, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
