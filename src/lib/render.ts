/**
 * Turns an AuthError into an HTTP response: RFC 9457 problem+json, RFC 7235 / 6750 challenges,
 * `Retry-After` for 429/503. Nothing internal (stack, cause, token) is ever written.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, isAuthError, type Challenge } from '../errors.js';

/** The RFC 9457 body this library sends. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Stable machine-readable error code. */
  readonly code: string;
  /** Stable sub-code naming the failed check, when there is one. */
  readonly reason?: string;
}

/** A hook that writes the error response itself (e.g. a custom JSON shape or HTML). */
export type ErrorRenderer = (error: AuthError, req: IncomingMessage, res: ServerResponse) => void;

/** Problem type URI for a code: a stable URN so clients can switch on it without a network lookup. */
export function problemType(code: string): string {
  return `urn:authnz-express:problem:${code}`;
}

/** Builds the problem+json body for an error. */
export function toProblem(error: AuthError): ProblemDetails {
  const problem: ProblemDetails = {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    ...(error.reason === undefined ? {} : { reason: error.reason }),
  };
  return problem;
}

// RFC 6750 §3: error_description and scope are limited to visible ASCII minus `"` and `\`.
function sanitizeParam(value: string): string {
  let out = '';
  for (let i = 0; i < value.length && out.length < 200; i++) {
    const c = value.charCodeAt(i);
    out += c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c ? value[i] : ' ';
  }
  return out;
}

/** Formats one challenge as a `WWW-Authenticate` value. */
export function formatChallenge(challenge: Challenge): string {
  const params = challenge.params;
  if (!params) return challenge.scheme;
  const parts: string[] = [];
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (value !== undefined) parts.push(`${key}="${sanitizeParam(value)}"`);
  }
  return parts.length === 0 ? challenge.scheme : `${challenge.scheme} ${parts.join(', ')}`;
}

/** The OAuth `error` parameter implied by a code (RFC 6750 §3.1), if any. */
export function oauthErrorFor(error: AuthError): string | undefined {
  switch (error.status) {
    case 400:
      return 'invalid_request';
    case 401:
      if (error.code === 'invalid_dpop_proof' || error.code === 'use_dpop_nonce') return error.code;
      return error.code === 'credentials_missing' ? undefined : 'invalid_token';
    case 403:
      return 'insufficient_scope';
    default:
      return undefined;
  }
}

/**
 * Adds `error`/`error_description` to each challenge as RFC 6750 asks for 400/401/403.
 * Challenges the error already carries win over the route defaults.
 */
export function challengesFor(error: AuthError, defaults: readonly Challenge[]): Challenge[] {
  const base = error.challenges.length > 0 ? error.challenges : defaults;
  const oauthError = oauthErrorFor(error);
  if (oauthError === undefined || error.challenges.length > 0) return [...base];
  return base.map((c) => ({
    scheme: c.scheme,
    params: { ...(c.params ?? {}), error: oauthError, error_description: error.detail },
  }));
}

/** Writes the default problem+json response for an error. */
export function writeProblem(error: AuthError, res: ServerResponse, defaults: readonly Challenge[]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(toProblem(error));
  res.statusCode = error.status;
  if (error.status === 401 || error.status === 403 || error.status === 400) {
    const challenges = challengesFor(error, defaults);
    if (challenges.length > 0) res.setHeader('WWW-Authenticate', challenges.map(formatChallenge));
  }
  if (error.headers !== undefined) for (const name of Object.keys(error.headers)) res.setHeader(name, error.headers[name] as string);
  if (error.retryAfter !== undefined) res.setHeader('Retry-After', String(Math.max(0, Math.ceil(error.retryAfter))));
  res.setHeader('Content-Type', 'application/problem+json');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Converts any thrown value into an AuthError; unknown values become a 401 (fail closed). */
export function toAuthError(value: unknown): AuthError {
  if (isAuthError(value)) return value;
  return new AuthError('token_invalid', {
    reason: 'verification_failed',
    detail: 'The credentials could not be verified.',
    cause: value,
  });
}

/**
 * A scheme's rejection of its own credential, carrying that scheme's challenge with
 * `error="invalid_token"` when the error names none (RFC 6750 §3.1). Used by `authenticate()` and by
 * `passportErrorHandler()` so both answer a wrong credential alike.
 */
export function withOwnChallenge(error: AuthError, own: Challenge | undefined): AuthError {
  if (error.challenges.length > 0 || own === undefined) return error;
  return new AuthError(error.code, {
    detail: error.detail,
    reason: error.reason,
    retryAfter: error.retryAfter,
    cause: error.cause,
    ...(error.headers === undefined ? {} : { headers: error.headers }),
    endsChain: error.endsChain,
    challenges: [{ scheme: own.scheme, params: { ...(own.params ?? {}), error: 'invalid_token', error_description: error.detail } }],
  });
}
