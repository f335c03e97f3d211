/**
 * The one identity type every scheme produces and every guard reads.
 */

/** Who is calling: another service or a human user. */
export type PrincipalKind = 'service' | 'user';

/** Scheme identifiers used in {@link Principal.scheme}; custom schemes may use their own string. */
export type SchemeId =
  'apijwt' | 'asymmetric-jwt' | 'kmsauth' | 'apikey' | 'introspection' | 'authnzerver' | 'http-signature' | (string & Record<never, never>);

/** Verified, scheme-specific facts. Every field is optional because schemes know different things. */
export interface PrincipalDetails {
  /** Token issuer (`iss`), authorization server, or KMS key owner. */
  readonly issuer?: string;
  /** Key id, key alias or API key id that verified the credential. */
  readonly keyId?: string;
  /** AWS account or tenant the key belongs to. */
  readonly account?: string;
  /** Expiry of the credential, epoch seconds. */
  readonly expiresAt?: number;
  /** Intended target/audience of the credential. */
  readonly target?: string;
  /** Authentication factor reported by the issuer (e.g. `password`, `yubikey`). */
  readonly factor?: string;
  /** OAuth client id, where the scheme has one. */
  readonly clientId?: string;
  /** The verified claims or facts as received, frozen. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** HTTP Message Signatures: the label of the verified signature. */
  readonly label?: string;
  /** HTTP Message Signatures: the `tag` parameter of the verified signature. */
  readonly tag?: string;
  /** HTTP Message Signatures: the covered components, serialized (`"@method"`, `"content-digest"`). */
  readonly components?: readonly string[];
  /** HTTP Message Signatures: the `created` parameter, epoch seconds. */
  readonly created?: number;
  /** Further scheme-specific facts. */
  readonly [key: string]: unknown;
}

/** An authenticated caller. Immutable: guards and handlers can share it safely. */
export interface Principal {
  /** Who: service name, username or token subject. */
  readonly subject: string;
  /** Service or user. */
  readonly kind: PrincipalKind;
  /** Which scheme authenticated it. */
  readonly scheme: SchemeId;
  /** Granted scopes. */
  readonly scopes: readonly string[];
  /** Assurance level; schemes without one use a configured default. */
  readonly level: number;
  /** Verified scheme-specific facts. */
  readonly details: PrincipalDetails;
}

/** What {@link createPrincipal} takes. */
export interface PrincipalInit {
  subject: string;
  kind: PrincipalKind;
  scheme: SchemeId;
  scopes?: readonly string[];
  level?: number;
  details?: PrincipalDetails;
}

/** Builds a frozen principal. Scopes and details are copied so callers cannot mutate them later. */
export function createPrincipal(init: PrincipalInit): Principal {
  return Object.freeze({
    subject: init.subject,
    kind: init.kind,
    scheme: init.scheme,
    scopes: Object.freeze(init.scopes ? [...init.scopes] : []),
    level: init.level ?? 0,
    details: Object.freeze({ ...(init.details ?? {}) }),
  });
}

/**
 * The subject of a principal from a scheme that trusts several issuers: `sub` is unique per issuer
 * only (OpenID Connect Core §2, RFC 9068 §2.2), so `alice` of one tenant's provider is not `alice`
 * of another's. The form is `<issuer>#<subject>`; issuers of such schemes have no `#` (an OpenID
 * issuer has no fragment), so the first `#` separates the two.
 * @example issuerSubject('https://tenant-a.example/', 'alice') // 'https://tenant-a.example/#alice'
 */
export function issuerSubject(issuer: string, subject: string): string {
  return `${issuer}#${subject}`;
}

const SUBJECT_ISSUER = Symbol.for('authnz-express.subjectIssuer');

/**
 * Marks a scheme by how its principals name subjects, so that `authenticate()` can refuse a route
 * where two users of different issuers could get one subject: `issuer` when they carry the bare
 * `sub` of that one issuer, `''` when they carry issuer-qualified subjects ({@link issuerSubject}),
 * undefined to leave `target` unmarked (a mapping of the application's own). Returns `target`.
 */
export function namingSubjectsOf<T extends object>(target: T, issuer: string | undefined): T {
  if (issuer !== undefined) Object.defineProperty(target, SUBJECT_ISSUER, { value: issuer, enumerable: false });
  return target;
}

/** How a scheme's principals name subjects (see {@link namingSubjectsOf}): an issuer, `''` (qualified), or undefined. */
export function subjectIssuerOf(target: object): string | undefined {
  const issuer = (target as { [SUBJECT_ISSUER]?: unknown })[SUBJECT_ISSUER];
  return typeof issuer === 'string' ? issuer : undefined;
}

/**
 * The principal `authenticate()` left on `req`, typed for any request object: Express's, Connect's or
 * a plain `node:http` `IncomingMessage` (where `req.principal` is not declared). Undefined when no
 * scheme authenticated the request (an `optional` route, or before `authenticate()` ran).
 * @example const who = getPrincipal(req)?.subject;
 */
export function getPrincipal(req: object): Principal | undefined {
  const principal = (req as { principal?: unknown }).principal;
  // authenticate() only ever sets frozen principals; anything else on that property is not ours.
  return typeof principal === 'object' &&
    principal !== null &&
    Object.isFrozen(principal) &&
    typeof (principal as Principal).subject === 'string'
    ? (principal as Principal)
    : undefined;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The authenticated caller, set by `authenticate()`; undefined on anonymous optional routes. */
      principal?: import('./principal.js').Principal;
    }
  }
}
