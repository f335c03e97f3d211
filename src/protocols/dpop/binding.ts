/**
 * The request side of DPoP (RFC 9449 §7) for any scheme whose tokens may carry `cnf.jkt`: reads
 * `Authorization: Bearer|DPoP`, and once the scheme has verified the token, checks the token's
 * binding (`cnf.jkt` = the proof key's thumbprint, before any signature check), the `DPoP` proof
 * against the request (method, URL built from trusted parts: see target.ts; `ath`, `iat`), the
 * server nonce if enabled, and finally records `jti` in a nonce store so a proof is accepted once.
 */
import { createHash } from 'node:crypto';
import { AuthError, type AuthReason, type Challenge, isAuthError, malformedRequest } from '../../errors.js';
import type { JwsAlgorithm } from '../../jwt/compact.js';
import { describeValue, enumOption, listOption, nonNegative, optionError, optionNames } from '../../lib/options.js';
import { MemoryReplayStore, type ReplayStore } from '../../stores/replay.js';
import { sharedStoreKinds } from '../../stores/shared.js';
import { readToken68, type AuthRequest } from '../../scheme.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import { hasPerProcessSecret, type DpopNonceSource } from './nonce.js';
import { DPOP_ALGORITHMS, DpopKeyCache, invalidProof, verifyDpopProofOffLoop } from './proof.js';
import { countHeader, hasDotSegment, normalisePath, originOption, requestOrigin, requestPath } from './target.js';

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
   * Where each proof's `jti` is recorded so it is accepted once (default: a `MemoryReplayStore` of
   * 100,000 entries; use `RedisReplayStore` from `authnz-express/redis` for several instances).
   */
  readonly replayStore?: ReplayStore;
  /** Server nonces (`use_dpop_nonce`): e.g. `new HmacDpopNonces({ secret })`. Default: none. */
  readonly nonces?: DpopNonceSource;
  /**
   * This API's external origins, e.g. `['https://api.example.com']`: the origin a request names
   * (its `Host`, or with Express's `trust proxy` trusting the peer, `X-Forwarded-Proto` and
   * `X-Forwarded-Host`) must be one of them, or the proof is refused (`htu`). Recommended in
   * production; without it (and without `url`) the origin is whatever the request's `Host` names,
   * and the scheme warns at start-up (`dpop_origins_unset`). Not together with `url`.
   */
  readonly origins?: readonly string[];
  /**
   * The URL clients address, when it is not what this process sees (a proxy that rewrites the
   * path): a base such as `https://api.example.com/v1` (the request path is appended), or a function
   * returning the full URL. Default: the request's origin (see `origins`) and the path as received.
   */
  readonly url?: string | ((req: AuthRequest) => string);
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

/** The names of {@link DpopOptions}, for unknown-option warnings of the schemes that take them. */
export const DPOP_OPTION_NAMES = optionNames<DpopOptions>()({
  mode: 1,
  algorithms: 1,
  maxProofAgeSeconds: 1,
  clockToleranceSeconds: 1,
  replayStore: 1,
  nonces: 1,
  origins: 1,
  url: 1,
  clock: 1,
});

/** The token of a request and how it was presented. */
export interface PresentedToken {
  readonly token: string;
  /** True for `Authorization: DPoP`. */
  readonly dpop: boolean;
}

/**
 * The URL the client addressed, as far as this process can tell from trusted parts: `base` (see
 * {@link DpopOptions.url}) or the request's origin (`Host`; `X-Forwarded-Proto` and
 * `X-Forwarded-Host` only when Express's `trust proxy` trusts the peer), then the path as received.
 * @throws AuthError 400 `request_malformed`: `host_invalid` for a Host (or trusted X-Forwarded-Host)
 *   that is not `uri-host [":" port]`, or repeated; `request_target` for a target that is not a path.
 */
export function requestUrl(req: AuthRequest, base?: string): string {
  const path = requestPath(req);
  return base !== undefined ? `${base.replace(/\/+$/, '')}${path}` : `${requestOrigin(req)}${path}`;
}

/** What Express adds to a request, read for the multi-instance check. */
interface WithApp {
  readonly app?: { get?(setting: string): unknown };
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
  readonly #store: ReplayStore;
  readonly #nonces: DpopNonceSource | undefined;
  readonly #url: string | ((req: AuthRequest) => string) | undefined;
  readonly #origins: readonly string[] | undefined;
  readonly #clock: () => number;
  readonly #keys = new DpopKeyCache();
  readonly #warnings: Warnings;
  readonly #memoryStore: boolean;
  #instancesChecked = false;

  /**
   * @param observable the factory's `logger` and `validate` (configuration warnings).
   * @throws TypeError for a bad option.
   */
  constructor(options: DpopOptions, defaultMode: DpopMode, realm: string | undefined, factory: string, observable: ObservableOptions = {}) {
    const where = `${factory}()`;
    this.mode = enumOption(options.mode, ['allowed', 'required', 'disabled'] as const, defaultMode, where, 'dpop.mode');
    this.#algorithms =
      options.algorithms === undefined
        ? DPOP_ALGORITHMS
        : listOption(
            options.algorithms,
            (v): v is JwsAlgorithm => (DPOP_ALGORITHMS as readonly unknown[]).includes(v),
            where,
            'dpop.algorithms',
            `a non-empty array of ${DPOP_ALGORITHMS.join(', ')}`,
          );
    this.#maxAge = nonNegative(options.maxProofAgeSeconds, 60, where, 'dpop.maxProofAgeSeconds');
    this.#tolerance = nonNegative(options.clockToleranceSeconds, 5, where, 'dpop.clockToleranceSeconds');
    this.#store = options.replayStore ?? new MemoryReplayStore();
    this.#memoryStore = options.replayStore === undefined;
    this.#nonces = options.nonces;
    // A base URL loses its trailing slashes once, here, not per request.
    this.#url = typeof options.url === 'string' ? options.url.replace(/\/+$/, '') : options.url;
    this.#origins = originsOption(options, `${factory}()`);
    this.#warnings = new Warnings(`${factory}()`, observable);
    if (this.mode !== 'disabled' && options.url === undefined && options.origins === undefined) {
      this.#warnings.warn(
        'dpop_origins_unset',
        'DPoP is on but neither "dpop.origins" nor "dpop.url" is set, so a proof\'s origin is checked against the one the request\'s Host header names, which the client chooses; set "dpop.origins" to this API\'s external origins (or "dpop.mode" to "disabled")',
      );
    }
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
      if (this.mode === 'required')
        throw this.error('token_invalid', 'dpop_required', 'This resource requires a DPoP-bound token (Authorization: DPoP).');
      return { token: bearer, dpop: false };
    }
    if (this.mode === 'disabled') return undefined;
    const token = readToken68(req, 'DPoP');
    return token === undefined ? undefined : { token, dpop: true };
  }

  /** An error with the DPoP challenge carrying its RFC 6750 / RFC 9449 error code. */
  error(
    code: 'token_invalid' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'request_malformed',
    reason: AuthReason,
    detail: string,
    headers?: Record<string, string>,
  ): AuthError {
    const error = code === 'token_invalid' ? 'invalid_token' : code === 'request_malformed' ? 'invalid_request' : code;
    const challenge: Challenge = { scheme: 'DPoP', params: { ...(this.dpopChallenge.params ?? {}), error, error_description: detail } };
    return new AuthError(code, { reason, detail, challenges: [challenge], ...(headers === undefined ? {} : { headers }) });
  }

  /** Re-issues a token verification error of a DPoP-presented token under the DPoP challenge. */
  asDpop(thrown: unknown): unknown {
    if (!isAuthError(thrown) || thrown.status !== 401 || thrown.challenges.length > 0) return thrown;
    return new AuthError(thrown.code, {
      detail: thrown.detail,
      reason: thrown.reason,
      cause: thrown.cause,
      challenges: [
        { scheme: 'DPoP', params: { ...(this.dpopChallenge.params ?? {}), error: 'invalid_token', error_description: thrown.detail } },
      ],
    });
  }

  /**
   * Checks the presentation of a verified token whose `cnf.jkt` is `jkt`: a bound token must come
   * with `Authorization: DPoP` and a proof by its key; the proof must fit this request.
   * @throws AuthError 401 (`token_invalid`, `invalid_dpop_proof`, `use_dpop_nonce`), 400
   *   (`request_malformed`: an invalid Host, a path with dot-segments) or 503 when the replay store
   *   cannot answer, 429 when `holder` has used its replay-store quota.
   * @param holder who the token was issued to: all its proofs, whatever key signs them, count against
   *   one quota of the replay store (a client can bind each of its tokens to a new key); default `jkt`.
   */
  async check(req: AuthRequest, presented: PresentedToken, jkt: string | undefined, holder?: string): Promise<void> {
    if (!presented.dpop) {
      // RFC 9449 §7.2: a DPoP-bound token sent as a bearer token is refused (it may have leaked).
      if (jkt !== undefined)
        throw this.error('token_invalid', 'dpop_bound', 'This token is bound to a DPoP key: send it with Authorization: DPoP and a proof.');
      return;
    }
    this.#checkInstances(req);
    const proof = req.headers['dpop'];
    if (typeof proof !== 'string' || proof === '')
      throw this.error('invalid_dpop_proof', 'proof_missing', 'Send one DPoP proof in the DPoP header.');
    if (countHeader(req.rawHeaders, 'dpop') > 1 || proof.includes(','))
      throw this.error('invalid_dpop_proof', 'proof_multiple', 'Send exactly one DPoP header.');
    if (jkt === undefined)
      throw this.error('token_invalid', 'dpop_not_bound', 'This token is not bound to a DPoP key: send it with Authorization: Bearer.');
    let verified;
    try {
      // `jkt`: a proof by another key is refused before its signature costs anything.
      verified = await verifyDpopProofOffLoop(proof, {
        method: req.method ?? 'GET',
        url: this.#expectedUrl(req),
        jkt,
        accessToken: presented.token,
        algorithms: this.#algorithms,
        maxProofAgeSeconds: this.#maxAge,
        clockToleranceSeconds: this.#tolerance,
        clock: this.#clock,
        keyCache: this.#keys,
      });
    } catch (thrown) {
      if (
        isAuthError(thrown) &&
        thrown.challenges.length === 0 &&
        (thrown.code === 'invalid_dpop_proof' || thrown.code === 'token_invalid' || thrown.code === 'request_malformed')
      ) {
        throw this.error(thrown.code, thrown.reason ?? 'malformed', thrown.detail);
      }
      throw thrown;
    }
    if (this.#nonces !== undefined && (verified.nonce === undefined || !this.#nonces.check(verified.nonce))) {
      throw this.error(
        'use_dpop_nonce',
        verified.nonce === undefined ? 'nonce_missing' : 'nonce_stale',
        'Sign the DPoP proof with the nonce in the DPoP-Nonce header.',
        { 'DPoP-Nonce': this.#nonces.current() },
      );
    }
    // Last, so a refused proof does not use up its jti. Kept for the whole window a proof is accepted.
    // A fixed-size digest of the key and jti: what a proof costs the store does not depend on the client.
    const jti = createHash('sha256').update(`${jkt}\0${verified.jti}`).digest('base64url');
    // The quota's subject is the token's holder, not the key: new keys cost a client nothing.
    const subject = `dpop:${holder === undefined ? jkt : createHash('sha256').update(holder).digest('base64url')}`;
    const fresh = await this.#store.claim({ subject, time: '', nonce: jti, ttlMs: (this.#maxAge + this.#tolerance + 1) * 1000 });
    if (!fresh) throw this.error('invalid_dpop_proof', 'replayed', 'This DPoP proof was already used.');
  }

  /**
   * The URL the proof must name. The path is the one Express routes by; one with dot-segments is
   * refused, since routers and URL parsers resolve them differently (`/files/%2e%2e/admin`).
   */
  #expectedUrl(req: AuthRequest): string {
    const path = requestPath(req);
    const normalised = normalisePath(path);
    if (normalised !== undefined && hasDotSegment(normalised))
      throw malformedRequest('path_dot_segments', 'A DPoP request path must not hold "." or ".." segments.');
    if (typeof this.#url === 'function') return this.#url(req);
    if (this.#url !== undefined) return `${this.#url}${path}`;
    const origin = requestOrigin(req);
    if (this.#origins !== undefined && !this.#origins.includes(origin))
      throw invalidProof('htu', 'The request names an origin this API does not serve.');
    return `${origin}${path}`;
  }

  /**
   * Once, at the first DPoP request: per-process state in an app that looks like one of several
   * instances (Express's `trust proxy` set, or a Redis or PostgreSQL store built in this process).
   */
  #checkInstances(req: AuthRequest): void {
    if (this.#instancesChecked) return;
    this.#instancesChecked = true;
    const randomNonces = this.#nonces !== undefined && hasPerProcessSecret(this.#nonces);
    if (!this.#memoryStore && !randomNonces) return;
    const trust = (req as WithApp).app?.get?.('trust proxy');
    const proxied = trust !== undefined && trust !== false && trust !== 0;
    const shared = sharedStoreKinds();
    if (!proxied && shared === undefined) return;
    const parts: string[] = [];
    if (this.#memoryStore)
      parts.push(
        'the default in-memory "dpop.replayStore" (a proof accepted by one instance is accepted again by another: use RedisReplayStore)',
      );
    if (randomNonces)
      parts.push(
        'HmacDpopNonces without a "secret" (a nonce from one instance is refused by another: give every instance the same secret)',
      );
    const sign = proxied ? 'Express\'s "trust proxy" is set' : `a shared store (${shared ?? ''}) is in use`;
    this.#warnings.warn(
      'dpop_per_process_state',
      `${sign}, as when the API runs on several instances, but DPoP keeps per-process state: ${parts.join('; ')}`,
    );
  }
}

/** `dpop.origins`, checked: a non-empty list of bare http(s) origins, not together with `dpop.url`. */
function originsOption(options: DpopOptions, where: string): readonly string[] | undefined {
  const { origins } = options;
  if (origins === undefined) return undefined;
  if (!Array.isArray(origins) || origins.length === 0)
    throw optionError(where, 'dpop.origins', 'a non-empty array of origins such as "https://api.example.com"', describeValue(origins));
  if (options.url !== undefined) throw optionError(where, 'dpop.origins', 'left unset when "dpop.url" is set (the URL names the origin)');
  return origins.map((value: unknown, i) => {
    const origin = originOption(value);
    if (origin === undefined)
      throw optionError(
        where,
        `dpop.origins[${i}]`,
        'an http(s) origin without path, query or user info, such as "https://api.example.com"',
        describeValue(value),
      );
    return origin;
  });
}
