/**
 * The one error type every layer throws. A stable `code` tells clients and logs what happened;
 * `cause` keeps internal detail for logs and is never rendered.
 */

import { brandedGuard } from './lib/brand.js';

/**
 * The base of every error this library throws at run time: a stable `code` (a string-literal union
 * per subclass, listed in docs/errors.md) and a brand, so `isAuthnzError()` recognises errors from
 * any copy of the library (ESM and CJS builds in one process, two installed versions).
 * Configuration mistakes found when a factory or constructor runs are `TypeError`s instead, as in
 * jose: they are programming errors, not outcomes to branch on.
 */
export abstract class AuthnzError<Code extends string = string> extends Error {
  /** Stable machine-readable code; renaming one is a breaking change. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** True for any error of this library (see {@link AuthnzError}), from any copy of it. */
export const isAuthnzError = brandedGuard(AuthnzError, 'AuthnzError');

/** Stable, machine-readable error codes. Adding a code is a minor change; renaming one is breaking. */
export type AuthErrorCode =
  | 'credentials_missing'
  | 'token_invalid'
  | 'token_expired'
  | 'replay'
  | 'insufficient_scope'
  | 'insufficient_level'
  | 'forbidden'
  | 'request_malformed'
  | 'rate_limited'
  | 'locked_out'
  | 'dependency_unavailable'
  /** RFC 9449 §7.1: the DPoP proof is missing, malformed or does not fit the request or token. */
  | 'invalid_dpop_proof'
  /** RFC 9449 §9: the resource server wants a proof with its current `DPoP-Nonce`. */
  | 'use_dpop_nonce'
  /**
   * The service's own configuration contradicts what a dependency publishes (e.g. an issuer whose
   * discovery document names another issuer): 500, logged, and not worth retrying until fixed.
   */
  | 'configuration_error';

/*
 * The reason vocabulary (docs/conventions.md): each group is the closed list of one area; the
 * library's own calls accept only `KnownReason`, while `AuthReason` stays open for custom schemes.
 */

/** Reasons of JWT/JWS checks shared by every JWT verifier (time claims, audience, issuer, type, signature, keys). */
export type ClaimReason =
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'too_old'
  | 'lifetime_too_long'
  | 'claim_invalid'
  | 'claim_missing'
  | 'audience_invalid'
  | 'issuer_unknown'
  | 'type_invalid'
  | 'algorithm_not_allowed'
  | 'signature_invalid'
  | 'key_unknown'
  | 'replayed'
  | 'malformed'
  | 'too_large'
  | 'header_invalid'
  | 'payload_invalid'
  | 'critical_header';
/** Reasons of the token schemes: APIJwt, asymmetric JWT, kmsauth, JWT access tokens. */
export type TokenReason =
  // APIJwt
  | 'missing'
  | 'subject_missing'
  | 'value_not_allowed'
  | 'cnf_unsupported'
  | 'revoked'
  // asymmetric JWT
  | 'username_invalid'
  | 'nonce_invalid'
  | 'nonce_too_long'
  | 'time_window'
  // JWT access tokens
  | 'no_subject'
  // kmsauth
  | 'token_missing'
  | 'basic_encoding'
  | 'username_format'
  | 'user_type_not_allowed'
  | 'version'
  | 'token_not_string'
  | 'user_type'
  | 'token_encoding'
  | 'wrong_key'
  | 'decrypt'
  | 'validity';
/** Reasons of DPoP proofs and sender-constrained tokens. */
export type DpopReason =
  | 'dpop_required'
  | 'dpop_bound'
  | 'dpop_not_bound'
  | 'proof_missing'
  | 'proof_multiple'
  | 'jwk'
  | 'jkt'
  | 'jti'
  | 'htm'
  | 'htu'
  | 'ath'
  | 'nonce'
  | 'nonce_missing'
  | 'nonce_stale'
  | 'host_invalid'
  | 'request_target'
  | 'path_dot_segments'
  // certificate-bound tokens (RFC 8705 §3)
  | 'certificate_missing'
  | 'certificate_mismatch';
/** Reasons of RFC 9421 HTTP Message Signatures and RFC 9530 Content-Digest. */
export type SignatureReason =
  | 'signature_input_invalid'
  | 'signature_header_invalid'
  | 'signature_missing'
  | 'component_invalid'
  | 'component_missing'
  | 'component_not_covered'
  | 'created_missing'
  | 'authority_invalid'
  | 'digest_invalid'
  | 'digest_mismatch'
  | 'digest_algorithm'
  | 'body_too_large'
  | 'body_unavailable';
/** Reasons of reading the request: headers, credentials' syntax and size. */
export type RequestReason =
  | 'authorization_syntax'
  | 'authorization_list'
  | 'authorization_too_large'
  | 'duplicate_authorization'
  | 'duplicate_api_key'
  | 'empty_api_key'
  | 'format';
/** Reasons of API keys, introspection, the authnzerver bridge and the guards. */
export type CredentialReason =
  // API keys
  | 'invalid'
  | 'ip_not_allowed'
  // introspection
  | 'inactive'
  | 'scope'
  | 'issuer_invalid'
  // authnzerver
  | 'apikey_rejected'
  | 'no_user'
  | 'session_unknown'
  | 'user_inactive'
  // a scheme threw something that is not an AuthError
  | 'verification_failed'
  // guards (the reason repeats the code)
  | 'insufficient_scope'
  | 'insufficient_level'
  | 'forbidden';
/** Reasons of client certificates (mutual TLS, forwarded certificate headers, SPIFFE IDs). */
export type CertificateReason =
  'certificate_untrusted' | 'certificate_header_untrusted' | 'certificate_header_malformed' | 'spiffe_id_invalid' | 'identity_not_allowed';
/** Reasons of limits and lock-outs. */
export type LimitReason = 'rate_limited' | 'pre_auth_limit' | 'locked_out' | 'attempts_in_flight' | 'replay_store_full';
/** Reasons of dependency outages (503) and configuration contradictions (500). */
export type DependencyReason =
  | 'redis_error'
  | 'redis_timeout'
  | 'redis_not_ready'
  | 'redis_replication'
  | 'postgres_error'
  | 'postgres_timeout'
  | 'rate_limit_store_error'
  | 'rate_limit_store_timeout'
  | 'introspection_unavailable'
  | 'introspection_cache'
  | `introspection_status_${number}`
  | 'authnzerver_timeout'
  | 'authnzerver_unreachable'
  | 'authnzerver_bad_reply'
  | 'authnzerver_rate_limited'
  | 'authnzerver_reqid_mismatch'
  | `authnzerver_status_${number}`
  | 'jwks_unavailable'
  | 'key_lookup_unavailable'
  | 'discovery_unavailable'
  | 'discovery_issuer_mismatch'
  | 'revocation_unavailable'
  | 'kms_unavailable';

/** Reasons of HTTP Message Signatures key directories (Web Bot Auth `Signature-Agent`). */
export type DirectoryReason =
  | 'directory_not_allowed'
  | 'directory_private_address'
  | 'directory_redirect'
  | 'directory_too_large'
  | 'directory_invalid'
  | 'directory_signature_invalid'
  | 'directory_unavailable';

/** Every reason the library itself gives. */
export type KnownReason =
  | ClaimReason
  | TokenReason
  | DpopReason
  | SignatureReason
  | RequestReason
  | CredentialReason
  | CertificateReason
  | LimitReason
  | DependencyReason
  | DirectoryReason;

/** A `reason` on an {@link AuthError}: one of the library's own, or a custom scheme's. */
export type AuthReason = KnownReason | (string & {});

/** One `WWW-Authenticate` challenge: an auth-scheme name and its auth-params. */
export interface Challenge {
  /** The auth-scheme, e.g. `Bearer`, `JWT`, `ApiKey`, `Basic`. */
  readonly scheme: string;
  /** auth-params such as `realm`, `error`, `scope`; rendered as quoted strings in insertion order. */
  readonly params?: Readonly<Record<string, string>>;
}

const STATUS_BY_CODE: Readonly<Record<AuthErrorCode, number>> = {
  credentials_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  replay: 401,
  insufficient_scope: 403,
  insufficient_level: 403,
  forbidden: 403,
  request_malformed: 400,
  rate_limited: 429,
  locked_out: 429,
  dependency_unavailable: 503,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  configuration_error: 500,
};

const TITLE_BY_CODE: Readonly<Record<AuthErrorCode, string>> = {
  credentials_missing: 'Authentication required',
  token_invalid: 'Invalid credentials',
  token_expired: 'Expired credentials',
  replay: 'Credentials already used',
  insufficient_scope: 'Insufficient scope',
  insufficient_level: 'Insufficient assurance level',
  forbidden: 'Forbidden',
  request_malformed: 'Malformed request',
  rate_limited: 'Too many requests',
  locked_out: 'Too many failed attempts',
  dependency_unavailable: 'Authentication temporarily unavailable',
  invalid_dpop_proof: 'Invalid DPoP proof',
  use_dpop_nonce: 'DPoP nonce required',
  configuration_error: 'Authentication misconfigured',
};

/** Options for {@link AuthError}. */
export interface AuthErrorOptions {
  /** A short, client-safe explanation. Never include secrets, tokens or internal messages. */
  readonly detail?: string;
  /** A stable sub-code naming the failed check, e.g. `signature`, `expired`, `audience`. */
  readonly reason?: AuthReason;
  /** Challenges to send with a 401/403; when absent the middleware fills in the route's schemes. */
  readonly challenges?: readonly Challenge[];
  /** Seconds for `Retry-After` (503 and 429). */
  readonly retryAfter?: number;
  /** The internal cause, for logs only. */
  readonly cause?: unknown;
  /** Extra response headers the client needs to recover (e.g. `DPoP-Nonce`); never secrets. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The credential was refused for being bound or misused (a sender-constrained token without its
   * proof, a confirmation method the scheme cannot check): no later scheme on the route may accept
   * the request, so `authenticate()` answers with this 401 instead of trying the next scheme.
   * Default false.
   */
  readonly endsChain?: boolean;
}

/** The error every authentication and authorization failure becomes. */
export class AuthError extends AuthnzError<AuthErrorCode> {
  /** HTTP status implied by the code. */
  readonly status: number;
  /** Client-safe explanation (rendered as `detail`). */
  readonly detail: string;
  /** Stable sub-code naming the failed check, if any. */
  readonly reason: AuthReason | undefined;
  /** Challenges for `WWW-Authenticate`; empty means "use the route's defaults". */
  readonly challenges: readonly Challenge[];
  /** Seconds for `Retry-After`, if any. */
  readonly retryAfter: number | undefined;
  /** Extra response headers (e.g. `DPoP-Nonce`), written by the renderer. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** True when no later scheme may accept the request (see {@link AuthErrorOptions.endsChain}). */
  readonly endsChain: boolean;

  constructor(code: AuthErrorCode, options: AuthErrorOptions = {}) {
    super(code, options.detail ?? TITLE_BY_CODE[code], options);
    this.status = STATUS_BY_CODE[code];
    this.detail = options.detail ?? TITLE_BY_CODE[code];
    this.reason = options.reason;
    this.challenges = options.challenges ?? [];
    this.retryAfter = options.retryAfter ?? (code === 'dependency_unavailable' ? 5 : undefined);
    this.headers = options.headers;
    this.endsChain = options.endsChain === true;
  }

  /** Human title for the code (RFC 9457 `title`). */
  get title(): string {
    return TITLE_BY_CODE[this.code];
  }
}

/**
 * True for {@link AuthError}s, recognised by the `Symbol.for('authnz-express.AuthError')` brand
 * rather than `instanceof`, so errors from another copy of the library (ESM and CJS builds in one
 * process, two installed versions) are recognised too.
 */
export const isAuthError: (value: unknown) => value is AuthError = brandedGuard(AuthError, 'AuthError');

/** The HTTP status a code maps to. */
export function statusForCode(code: AuthErrorCode): number {
  return STATUS_BY_CODE[code];
}

/** Shorthand: credentials of a scheme were present but wrong (401 `invalid_token`). */
export function invalidCredentials(reason: KnownReason, detail?: string, cause?: unknown): AuthError {
  return new AuthError('token_invalid', { reason, detail: detail ?? 'The credentials could not be verified.', cause });
}

/**
 * The same error, marked to end the scheme chain of `authenticate()` (see
 * {@link AuthErrorOptions.endsChain}); anything that is not an {@link AuthError} is returned as is.
 */
export function endingChain(thrown: unknown): unknown {
  if (!isAuthError(thrown) || thrown.endsChain) return thrown;
  return new AuthError(thrown.code, {
    detail: thrown.detail,
    reason: thrown.reason,
    challenges: thrown.challenges,
    retryAfter: thrown.retryAfter,
    cause: thrown.cause,
    ...(thrown.headers === undefined ? {} : { headers: thrown.headers }),
    endsChain: true,
  });
}

/** Shorthand: the request itself is malformed (400 `invalid_request`). */
export function malformedRequest(reason: KnownReason, detail: string): AuthError {
  return new AuthError('request_malformed', { reason, detail });
}

/** Shorthand: a dependency (store, KMS, key endpoint) could not answer (503, fail closed). */
export function dependencyUnavailable(reason: KnownReason, cause?: unknown, retryAfter = 5): AuthError {
  return new AuthError('dependency_unavailable', {
    reason,
    detail: 'A service needed to check the credentials did not answer; try again later.',
    cause,
    retryAfter,
  });
}

/**
 * Shorthand: this service is configured in a way its dependency contradicts (500, fail closed, no
 * `Retry-After`: retrying does not help until the configuration is fixed). The detail says nothing
 * about the configuration; the cause and the log line do.
 */
export function misconfigured(reason: KnownReason, cause?: unknown): AuthError {
  return new AuthError('configuration_error', {
    reason,
    detail: 'This service cannot check credentials until its configuration is fixed.',
    cause,
  });
}
