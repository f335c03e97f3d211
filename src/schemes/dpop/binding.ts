/**
 * The request side of DPoP (RFC 9449 §7) for any scheme whose tokens may carry `cnf.jkt`: reads
 * `Authorization: Bearer|DPoP`, and once the scheme has verified the token, checks the `DPoP` proof
 * against the request (method, URL as the client addressed it, `ath`, `iat`), the token's binding
 * (`cnf.jkt` = the proof key's thumbprint), the server nonce if enabled, and finally records `jti`
 * in a nonce store so a proof is accepted once.
 */
import { createHash } from 'node:crypto';
import { AuthError, type Challenge, isAuthError } from '../../errors.js';
import type { JwsAlgorithm } from '../../jwt/compact.js';
import { MemoryNonceStore, type NonceStore } from '../../stores/nonce.js';
import { readToken68, type AuthRequest } from '../../scheme.js';
import type { DpopNonceSource } from './nonce.js';
import { DPOP_ALGORITHMS, DpopKeyCache, verifyDpopProofOffLoop } from './proof.js';

/** `allowed`: Bearer and DPoP; `required`: DPoP only; `disabled`: Bearer only. Bound tokens are never accepted as Bearer. */
export type DpopMode = 'allowed' | 'required' | 'disabled';

/** DPoP options of `jwtBearerScheme` and `introspectionScheme`. */
export interface DpopOptions {
  /** Default `allowed` for `jwtBearerScheme`, `disabled` for `introspectionScheme`. */
  readonly mode?: DpopMode;
  /** Proof algorithms accepted (default every asymmetric one: ES256, ES384, EdDSA, PS*, RS*). */
  readonly algorithms?: readonly JwsAlgorithm[];
  /** Oldest accepted proof by its `iat`, seconds (default 60). */
  readonly maxProofAgeSeconds?: number;
  /** Clock skew allowed for a proof's `iat` in the future, seconds (default 5). */
  readonly clockToleranceSeconds?: number;
  /**
   * Where each proof's `jti` is recorded so it is accepted once (default: a `MemoryNonceStore` of
   * 100,000 entries; use `RedisNonceStore` from `authnz-express/redis` for several instances).
   */
  readonly replayStore?: NonceStore;
  /** Server nonces (`use_dpop_nonce`): e.g. `new HmacDpopNonces({ secret })`. Default: none. */
  readonly nonces?: DpopNonceSource;
  /**
   * The URL clients address, when it is not what this process sees (a proxy that rewrites host or
   * path): a base such as `https://api.example.com/v1` (the request path is appended), or a function
   * returning the full URL. Default: Express's `req.protocol` and host (both honour `trust proxy`)
   * and `req.originalUrl`.
   */
  readonly url?: string | ((req: AuthRequest) => string);
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

/** The token of a request and how it was presented. */
export interface PresentedToken {
  readonly token: string;
  /** True for `Authorization: DPoP`. */
  readonly dpop: boolean;
}

/** What Express adds to a request; read when present. */
interface ExpressLike extends AuthRequest {
  readonly protocol?: string;
  readonly hostname?: string;
  readonly originalUrl?: string;
}

function hostOnly(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? host);
}

/** The URL the client addressed, as far as this process can tell (see {@link DpopOptions.url}). */
export function requestUrl(req: AuthRequest, base?: string): string {
  const r = req as ExpressLike;
  const path = r.originalUrl ?? r.url ?? '/';
  if (base !== undefined) return `${base.replace(/\/+$/, '')}${path}`;
  const encrypted = (r.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const protocol = r.protocol ?? (encrypted ? 'https' : 'http');
  const header = typeof r.headers.host === 'string' ? r.headers.host : '';
  let host = header;
  // Express's hostname honours `trust proxy` but drops the port: keep the Host header when it names the
  // same host, else the (trusted) X-Forwarded-Host that Express took the name from.
  if (r.hostname !== undefined && hostOnly(header) !== r.hostname) {
    const forwarded = String(r.headers['x-forwarded-host'] ?? '').split(',')[0]?.trim() ?? '';
    host = hostOnly(forwarded) === r.hostname ? forwarded : r.hostname;
  }
  return `${protocol}://${host}${path}`;
}

function countHeader(raw: readonly string[] | undefined, name: string): number {
  if (!raw) return 0;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === name) n++;
  return n;
}

/** DPoP for one scheme: reading the credential, challenges, and the proof checks. */
export class DpopBinding {
  readonly mode: DpopMode;
  /** The challenge of DPoP (`DPoP algs="…"`, with the realm). */
  readonly dpopChallenge: Challenge;
  /** The challenges sent when no credential was given. */
  readonly challenges: readonly Challenge[];
  readonly #algorithms: readonly JwsAlgorithm[];
  readonly #maxAge: number;
  readonly #tolerance: number;
  readonly #store: NonceStore;
  readonly #nonces: DpopNonceSource | undefined;
  readonly #url: string | ((req: AuthRequest) => string) | undefined;
  readonly #clock: () => number;
  readonly #keys = new DpopKeyCache();

  /** @throws TypeError for a bad option. */
  constructor(options: DpopOptions, defaultMode: DpopMode, realm: string | undefined, factory: string) {
    this.mode = options.mode ?? defaultMode;
    if (!['allowed', 'required', 'disabled'].includes(this.mode)) throw new TypeError(`${factory}(): "dpop.mode" must be allowed, required or disabled (got ${String(this.mode)})`);
    this.#algorithms = options.algorithms ?? DPOP_ALGORITHMS;
    for (const alg of this.#algorithms) if (!DPOP_ALGORITHMS.includes(alg)) throw new TypeError(`${factory}(): "dpop.algorithms" may hold only ${DPOP_ALGORITHMS.join(', ')} (got ${String(alg)})`);
    for (const [name, value] of [['maxProofAgeSeconds', options.maxProofAgeSeconds], ['clockToleranceSeconds', options.clockToleranceSeconds]] as const) {
      if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw new TypeError(`${factory}(): "dpop.${name}" must be a finite number >= 0 (got ${String(value)})`);
    }
    this.#maxAge = options.maxProofAgeSeconds ?? 60;
    this.#tolerance = options.clockToleranceSeconds ?? 5;
    this.#store = options.replayStore ?? new MemoryNonceStore();
    this.#nonces = options.nonces;
    this.#url = options.url;
    this.#clock = options.clock ?? Date.now;
    const realmParam: Record<string, string> = realm === undefined ? {} : { realm };
    this.dpopChallenge = { scheme: 'DPoP', params: { ...realmParam, algs: this.#algorithms.join(' ') } };
    const bearer: Challenge = realm === undefined ? { scheme: 'Bearer' } : { scheme: 'Bearer', params: realmParam };
    this.challenges = this.mode === 'required' ? [this.dpopChallenge] : this.mode === 'disabled' ? [bearer] : [bearer, this.dpopChallenge];
  }

  /** The primary challenge of the scheme (Bearer, or DPoP when required). */
  get challenge(): Challenge {
    return this.challenges[0] as Challenge;
  }

  /**
   * The request's token, or undefined when it carries none this scheme reads.
   * @throws AuthError 400 for bad token syntax, 401 for a Bearer token where DPoP is required.
   */
  read(req: AuthRequest): PresentedToken | undefined {
    // The one Authorization rule of src/scheme.ts: `<scheme> SP <token68>` (RFC 6750 §2.1, RFC 9449 §7.1).
    const bearer = readToken68(req, 'Bearer');
    if (bearer !== undefined) {
      if (this.mode === 'required') throw this.error('token_invalid', 'dpop_required', 'This resource requires a DPoP-bound token (Authorization: DPoP).');
      return { token: bearer, dpop: false };
    }
    if (this.mode === 'disabled') return undefined;
    const token = readToken68(req, 'DPoP');
    return token === undefined ? undefined : { token, dpop: true };
  }

  /** An error with the DPoP challenge carrying its RFC 6750 / RFC 9449 error code. */
  error(code: 'token_invalid' | 'invalid_dpop_proof' | 'use_dpop_nonce', reason: string, detail: string, headers?: Record<string, string>): AuthError {
    const error = code === 'token_invalid' ? 'invalid_token' : code;
    const challenge: Challenge = { scheme: 'DPoP', params: { ...(this.dpopChallenge.params ?? {}), error, error_description: detail } };
    return new AuthError(code, { reason, detail, challenges: [challenge], ...(headers === undefined ? {} : { headers }) });
  }

  /** Re-issues a token verification error of a DPoP-presented token under the DPoP challenge. */
  asDpop(thrown: unknown): unknown {
    if (!(isAuthError(thrown)) || thrown.status !== 401 || thrown.challenges.length > 0) return thrown;
    return new AuthError(thrown.code, {
      detail: thrown.detail,
      reason: thrown.reason,
      cause: thrown.cause,
      challenges: [{ scheme: 'DPoP', params: { ...(this.dpopChallenge.params ?? {}), error: 'invalid_token', error_description: thrown.detail } }],
    });
  }

  /**
   * Checks the presentation of a verified token whose `cnf.jkt` is `jkt`: a bound token must come
   * with `Authorization: DPoP` and a proof by its key; the proof must fit this request.
   * @throws AuthError 401 (`token_invalid`, `invalid_dpop_proof`, `use_dpop_nonce`) or 503 when the
   *   replay store cannot answer.
   */
  async check(req: AuthRequest, presented: PresentedToken, jkt: string | undefined): Promise<void> {
    if (!presented.dpop) {
      // RFC 9449 §7.2: a DPoP-bound token sent as a bearer token is refused (it may have leaked).
      if (jkt !== undefined) throw this.error('token_invalid', 'dpop_bound', 'This token is bound to a DPoP key: send it with Authorization: DPoP and a proof.');
      return;
    }
    const proof = req.headers['dpop'];
    if (typeof proof !== 'string' || proof === '') throw this.error('invalid_dpop_proof', 'proof_missing', 'Send one DPoP proof in the DPoP header.');
    if (countHeader(req.rawHeaders, 'dpop') > 1 || proof.includes(',')) throw this.error('invalid_dpop_proof', 'proof_multiple', 'Send exactly one DPoP header.');
    let verified;
    try {
      const url = typeof this.#url === 'function' ? this.#url(req) : requestUrl(req, this.#url);
      verified = await verifyDpopProofOffLoop(proof, { method: req.method ?? 'GET', url, accessToken: presented.token, algorithms: this.#algorithms, maxAgeSeconds: this.#maxAge, clockToleranceSeconds: this.#tolerance, clock: this.#clock, keyCache: this.#keys });
    } catch (thrown) {
      if (isAuthError(thrown) && thrown.code === 'invalid_dpop_proof') throw this.error('invalid_dpop_proof', thrown.reason ?? 'invalid', thrown.detail);
      throw thrown;
    }
    if (jkt === undefined) throw this.error('token_invalid', 'dpop_not_bound', 'This token is not bound to a DPoP key: send it with Authorization: Bearer.');
    if (verified.jkt !== jkt) throw this.error('invalid_dpop_proof', 'jkt', 'The DPoP proof is signed by a key other than the one the token is bound to.');
    if (this.#nonces !== undefined && (verified.nonce === undefined || !this.#nonces.check(verified.nonce))) {
      throw this.error('use_dpop_nonce', verified.nonce === undefined ? 'nonce_missing' : 'nonce_stale', 'Sign the DPoP proof with the nonce in the DPoP-Nonce header.', { 'DPoP-Nonce': this.#nonces.current() });
    }
    // Last, so a refused proof does not use up its jti. Kept for the whole window a proof is accepted.
    // A fixed-size digest of the jti: what a proof costs the store does not depend on the client.
    const jti = createHash('sha256').update(verified.jti).digest('base64url');
    const fresh = await this.#store.claim({ subject: `dpop:${jkt}`, time: '', nonce: jti, ttlMs: (this.#maxAge + this.#tolerance + 1) * 1000 });
    if (!fresh) throw this.error('invalid_dpop_proof', 'replay', 'This DPoP proof was already used.');
  }
}
