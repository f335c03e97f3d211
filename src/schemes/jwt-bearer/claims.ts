/**
 * The facts of a verified JWT access token, read from the claim shapes found in the wild:
 * `scope` (space-separated, RFC 9068 / RFC 8693), `scp` (array or string: Entra ID, Okta),
 * `permissions` (array: Auth0 RBAC); `sub`; `client_id` (RFC 9068) or `azp` (OpenID);
 * `cnf.jkt` (RFC 9449 §6.1, the DPoP key the token is bound to) or `cnf["x5t#S256"]` (RFC 8705 §3.1,
 * the client certificate it is bound to).
 */
import { endingChain, invalidCredentials } from '../../errors.js';

/** What a verified access token says, for the principal mapping and the DPoP binding. */
export interface VerifiedAccessToken {
  /** The issuer entry that verified it (`iss`). */
  readonly issuer: string;
  /** `sub`, else the client id (client-credentials tokens of some providers have no `sub`). */
  readonly subject: string | undefined;
  /** `client_id`, else `azp`. */
  readonly clientId: string | undefined;
  /** `service` when the token has no `sub` or `sub` is the client id (client credentials), else `user`. */
  readonly kind: 'service' | 'user';
  /** Union of `scope`, `scp` and `permissions`, in that order, without repeats (within the issuer's `allowedScopes`). */
  readonly scopes: readonly string[];
  /** `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** `cnf.jkt`: RFC 7638 thumbprint of the DPoP key the token is bound to, if any. */
  readonly jkt: string | undefined;
  /** `cnf["x5t#S256"]`: SHA-256 thumbprint (base64url) of the client certificate the token is bound to, if any (RFC 8705 §3.1). */
  readonly x5t: string | undefined;
  /** `kid` of the key that verified it, if the header named one. */
  readonly keyId: string | undefined;
  /** The protected header, frozen. */
  readonly header: Readonly<Record<string, unknown>>;
  /** Every claim as received, frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
}

function addWords(out: string[], text: string): void {
  for (const word of text.split(' ')) if (word !== '' && !out.includes(word)) out.push(word);
}

/**
 * Scopes from `scope`, `scp` and `permissions`.
 * @throws AuthError 401 `claim_invalid` when one of them has the wrong type (never silently empty).
 */
export function scopesOf(c: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  const { scope, scp, permissions } = c;
  if (scope !== undefined) {
    if (typeof scope !== 'string') throw invalidCredentials('claim_invalid', 'The token scope claim is not a string.');
    addWords(out, scope);
  }
  for (const [name, value] of [
    ['scp', scp],
    ['permissions', permissions],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value === 'string' && name === 'scp') addWords(out, value);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      for (const v of value as string[]) if (v !== '' && !out.includes(v)) out.push(v);
    } else throw invalidCredentials('claim_invalid', `The token ${name} claim has the wrong type.`);
  }
  return out;
}

/** What a token is bound to (RFC 7800 `cnf`): one DPoP key or one client certificate, never both. */
export interface Confirmation {
  /** `cnf.jkt`: RFC 7638 thumbprint of the DPoP key (RFC 9449 §6). */
  readonly jkt?: string;
  /** `cnf["x5t#S256"]`: SHA-256 thumbprint of the client certificate, base64url (RFC 8705 §3.1). */
  readonly x5t?: string;
}

/** A base64url SHA-256 digest: 32 bytes, 43 characters without padding. */
const SHA256_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/**
 * What a token is bound to, from its `cnf` (RFC 7800) claim or introspection member: `cnf.jkt`
 * (RFC 9449 §6) or `cnf["x5t#S256"]` (RFC 8705 §3), or undefined when there is no `cnf`. Any other
 * confirmation method (`jwk`, `kid`, a method not known yet), two methods at once (a token is bound
 * one way), and a `cnf` that names none cannot be checked: the token is refused, and the refusal ends
 * the chain so that no other scheme on the route accepts it as a bearer token.
 * @throws AuthError 401 `claim_invalid` for a malformed `cnf` or `jkt`, `claim_invalid` ending the
 *   chain for a malformed `x5t#S256`, `cnf_unsupported` (ends the chain).
 */
export function confirmationOf(cnf: unknown): Confirmation | undefined {
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf))
    throw invalidCredentials('claim_invalid', 'The token has an invalid cnf claim.');
  const methods = Object.keys(cnf);
  const method = methods[0];
  if (methods.length !== 1 || (method !== 'jkt' && method !== 'x5t#S256')) {
    throw endingChain(invalidCredentials('cnf_unsupported', 'The token is bound by a confirmation method this service cannot check.'));
  }
  const value = (cnf as Record<string, unknown>)[method];
  if (method === 'jkt') {
    if (typeof value !== 'string' || value === '') throw invalidCredentials('claim_invalid', 'The token has an invalid cnf.jkt claim.');
    return { jkt: value };
  }
  // Bound, but to nothing this service could ever match: no other scheme may take it either.
  if (typeof value !== 'string' || !SHA256_THUMBPRINT.test(value))
    throw endingChain(invalidCredentials('claim_invalid', 'The token has an invalid cnf x5t#S256 claim.'));
  return { x5t: value };
}

/**
 * Reads the facts of a token whose signature and claims were verified; with `allowedScopes`, the
 * scopes outside it are left out (the issuer may not grant them here).
 */
export function accessTokenFacts(
  header: Readonly<Record<string, unknown>>,
  c: Readonly<Record<string, unknown>>,
  issuer: string,
  allowedScopes?: ReadonlySet<string>,
): VerifiedAccessToken {
  const scopes = scopesOf(c);
  const sub = typeof c['sub'] === 'string' ? c['sub'] : undefined;
  const clientId = typeof c['client_id'] === 'string' ? c['client_id'] : typeof c['azp'] === 'string' ? c['azp'] : undefined;
  const confirmation = confirmationOf(c['cnf']);
  const kid = header['kid'];
  return Object.freeze({
    issuer,
    subject: sub ?? clientId,
    clientId,
    kind: sub === undefined || sub === clientId ? 'service' : 'user',
    scopes: Object.freeze(allowedScopes === undefined ? scopes : scopes.filter((scope) => allowedScopes.has(scope))),
    expiresAt: c['exp'] as number,
    jkt: confirmation?.jkt,
    x5t: confirmation?.x5t,
    keyId: typeof kid === 'string' ? kid : undefined,
    header: Object.freeze({ ...header }),
    claims: Object.freeze({ ...c }),
  } satisfies VerifiedAccessToken);
}
