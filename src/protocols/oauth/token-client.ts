/**
 * Outbound OAuth 2.0 token client: `client_credentials` and the JWT-bearer grant (RFC 7523 §2.1),
 * with client authentication by secret, `private_key_jwt` or mutual TLS (RFC 8705 §2, which also
 * gets certificate-bound tokens), discovery from the issuer, a token cache
 * refreshed before expiry and one in-flight request per cache key. Errors are never cached.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { PrivateKeyInput } from '../../keys/import.js';
import { resolveSigningKey, signAssertion, type SigningKey, type SigningKeyInput } from './assertion.js';
import {
  checkClientAuthentication,
  clientAuthenticator,
  isMtlsMethod,
  type ClientAuthentication,
  type ClientAuthenticator,
} from './client-auth.js';
import { checkClientTls, createMtlsFetch, type ClientTlsOptions } from './mtls-fetch.js';
import { metadataSourceFor, type MetadataSource } from './discovery.js';
import { OAuthClientError } from './errors.js';
import {
  answerError,
  checkHttpOptions,
  HTTP_OPTION_NAMES,
  httpJson,
  secureUrl,
  type FetchLike,
  type HttpAnswer,
  type HttpOptions,
} from './http.js';
import {
  booleanOption,
  exclusiveOptions,
  functionOption,
  optionError,
  numberOption,
  optionNames,
  optionsObject,
  positiveInteger,
  requireOneOf,
} from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import { createDpopProof, dpopKey, type DpopKey } from '../dpop/proof.js';

/** The RFC 7523 grant type. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Options for {@link TokenClient}. */
export interface TokenClientOptions extends HttpOptions, ObservableOptions {
  /** The authorization server's issuer: discovery source and `aud` of jwt-bearer assertions. */
  readonly issuer?: string;
  /** The token endpoint; when absent it is discovered from `issuer`. */
  readonly tokenEndpoint?: string;
  /** How this client authenticates. */
  readonly clientAuth: ClientAuthentication;
  /** `iss` of jwt-bearer assertions (baikal's `BAIKAL_ISSUER`); defaults to the client id. */
  readonly assertionIssuer?: string;
  /** Key that signs jwt-bearer assertions (the current key; `kid` defaults to its RFC 7638 thumbprint). */
  readonly assertionKey?: SigningKeyInput | PrivateKeyInput;
  /** Lifetime of jwt-bearer assertions, seconds (default 300, at most 3600). */
  readonly assertionLifetimeSeconds?: number;
  /** Adds baikal-sdk's non-standard `active: true` to assertions (for servers that expect it). */
  readonly baikalCompatible?: boolean;
  /** Cache tokens (default true). */
  readonly cache?: boolean;
  /** Most tokens kept, least recently used dropped first (default 1000; integer >= 1). */
  readonly maxEntries?: number;
  /**
   * Request DPoP-bound tokens (RFC 9449 §5): every token request carries a proof by this key, and
   * a `use_dpop_nonce` answer is retried once with the server's nonce. Use the same key with
   * `createDpopFetch` for the API calls.
   */
  readonly dpopKey?: DpopKey | PrivateKeyInput;
  /**
   * The client certificate this client presents (mutual TLS, RFC 8705): on every request to the
   * server, which then binds the tokens it issues to the certificate when the client is registered
   * for it (`tls_client_certificate_bound_access_tokens`). Needed by the `tls_client_auth` and
   * `self_signed_tls_client_auth` methods. Token requests go to the server's
   * `mtls_endpoint_aliases.token_endpoint` when its metadata names one (RFC 8705 §5). Not together
   * with `fetch`.
   */
  readonly tls?: ClientTlsOptions;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

const WHERE = 'new TokenClient()';
const KNOWN = optionNames<TokenClientOptions>()({
  issuer: 1,
  tokenEndpoint: 1,
  clientAuth: 1,
  assertionIssuer: 1,
  assertionKey: 1,
  assertionLifetimeSeconds: 1,
  baikalCompatible: 1,
  cache: 1,
  maxEntries: 1,
  dpopKey: 1,
  tls: 1,
  clock: 1,
  logger: 1,
  validate: 1,
  ...HTTP_OPTION_NAMES,
});

/** A token as returned by {@link TokenClient}. */
export interface AccessToken {
  readonly accessToken: string;
  readonly tokenType: string;
  /** Epoch ms when the token expires, if the server said. */
  readonly expiresAt: number | undefined;
  /** Granted scopes (the server's `scope`, else the requested ones). */
  readonly scopes: readonly string[];
  /** The full token response. */
  readonly response: Readonly<Record<string, unknown>>;
}

/** A `client_credentials` request. */
export interface ClientGrantRequest {
  readonly scopes?: readonly string[];
  readonly purposes?: readonly string[];
  /** RFC 8707 resource indicators: the API(s) the token is for (JWT access tokens need one at most providers). */
  readonly resource?: string | readonly string[];
}

/** A jwt-bearer request on behalf of a user (baikal's `grant_user`). */
export interface UserGrantRequest extends ClientGrantRequest {
  readonly sub: string;
  readonly authorizationId?: string;
  readonly identifier?: Readonly<Record<string, unknown>>;
  readonly acr?: string;
  readonly authenticationContext?: Readonly<Record<string, unknown>>;
}

interface CachedToken {
  token: AccessToken;
  refreshAt: number;
}

/** JSON with object members sorted at every depth, so equal requests give equal cache keys. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Fetches and caches access tokens for outbound calls. */
export class TokenClient {
  // `#` fields: the options hold the client secret and assertion key; inspection must not show them.
  readonly #options: TokenClientOptions;
  readonly #auth: ClientAuthenticator;
  readonly #metadata: MetadataSource | undefined;
  readonly #signer: SigningKey | undefined;
  readonly #cache: LRUCache<string, CachedToken>;
  readonly #inflight = new Map<string, Promise<AccessToken>>();
  readonly #clock: () => number;
  readonly #dpop: DpopKey | undefined;
  readonly #thumbprint: string | undefined;
  #dpopNonce: string | undefined;

  /**
   * @throws TypeError `new TokenClient(): "<option>" must be …` for no token endpoint or issuer, a
   *   URL that is not https (plain http only to a loopback host), a bad `clientAuth` and numbers out
   *   of range.
   */
  constructor(input: TokenClientOptions) {
    const options = optionsObject(input, WHERE, false);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    requireOneOf(options, ['tokenEndpoint', 'issuer'], WHERE, '(the endpoint, or the issuer to discover it from)');
    if (options.tokenEndpoint !== undefined) secureUrl(options.tokenEndpoint, WHERE, 'tokenEndpoint');
    if (options.issuer !== undefined) secureUrl(options.issuer, WHERE, 'issuer');
    exclusiveOptions(WHERE, { tls: options.tls, fetch: options.fetch }, 'at-most-one');
    checkClientAuthentication(options.clientAuth, WHERE, true);
    if (isMtlsMethod(options.clientAuth.method) && options.tls === undefined)
      throw optionError(WHERE, 'tls', `the client certificate { cert, key, ca? } that "${options.clientAuth.method}" authenticates with`);
    this.#thumbprint = options.tls === undefined ? undefined : checkClientTls(options.tls, WHERE, 'tls.', options);
    checkHttpOptions(options, WHERE);
    numberOption(options.assertionLifetimeSeconds, 300, WHERE, 'assertionLifetimeSeconds', { min: 1, max: 3600 });
    booleanOption(options.cache, true, WHERE, 'cache');
    booleanOption(options.baikalCompatible, false, WHERE, 'baikalCompatible');
    this.#cache = new LRUCache({ max: positiveInteger(options.maxEntries, 1000, WHERE, 'maxEntries') });
    // Every request, discovery included, over the certificate's agent (whose `ca` may be the only one that trusts the server).
    this.#options = options.tls === undefined ? options : { ...options, fetch: createMtlsFetch(options.tls) as unknown as FetchLike };
    this.#clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
    this.#auth = clientAuthenticator(options.clientAuth);
    this.#metadata = options.issuer ? metadataSourceFor(options.issuer, this.#options, this.#clock) : undefined;
    this.#signer = options.assertionKey === undefined ? undefined : resolveSigningKey(options.assertionKey);
    const dk = options.dpopKey;
    this.#dpop =
      dk === undefined
        ? undefined
        : typeof dk === 'object' && dk !== null && 'jkt' in dk && 'jwk' in dk
          ? (dk as DpopKey)
          : dpopKey(dk as PrivateKeyInput);
  }

  /** The RFC 7638 thumbprint of the DPoP key (`cnf.jkt` of the tokens), when DPoP is on. */
  get dpopJkt(): string | undefined {
    return this.#dpop?.jkt;
  }

  /** RFC 8705 `x5t#S256` of the `tls` certificate (`cnf` of the tokens bound to it), when mutual TLS is on. */
  get certificateThumbprint(): string | undefined {
    return this.#thumbprint;
  }

  /** The client id this client authenticates as. */
  get clientId(): string {
    return this.#auth.clientId;
  }

  async #tokenEndpoint(): Promise<string> {
    if (this.#options.tokenEndpoint) return this.#options.tokenEndpoint;
    const metadata = this.#metadata as MetadataSource;
    if (this.#thumbprint !== undefined) {
      // RFC 8705 §5: a client using mutual TLS uses the aliases the server names for it.
      const aliases = (await metadata.get())['mtls_endpoint_aliases'];
      const alias = typeof aliases === 'object' && aliases !== null ? (aliases as Record<string, unknown>)['token_endpoint'] : undefined;
      if (typeof alias === 'string' && alias !== '') return alias;
    }
    return metadata.endpoint('token_endpoint');
  }

  async #serverIssuer(): Promise<string | undefined> {
    return this.#metadata ? (await this.#metadata.get()).issuer : this.#options.issuer;
  }

  /** A `client_credentials` token (cached until shortly before it expires). */
  async grantClient(request: ClientGrantRequest = {}): Promise<AccessToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (request.scopes?.length) form.set('scope', request.scopes.join(' '));
    if (request.purposes?.length) form.set('purpose', request.purposes.join(' '));
    for (const r of typeof request.resource === 'string' ? [request.resource] : (request.resource ?? [])) form.append('resource', r);
    return this.#cached(['client_credentials', request], () => this.#requestToken(form, request.scopes));
  }

  /** A jwt-bearer token for `sub`, with a freshly signed assertion (`jti`, `kid`). */
  async grantUser(request: UserGrantRequest): Promise<AccessToken> {
    const signer = this.#signer;
    if (!signer) throw new OAuthClientError('configuration', 'the jwt-bearer grant needs an assertionKey');
    if (!request.sub) throw new OAuthClientError('configuration', 'the jwt-bearer grant needs a sub');
    return this.#cached(['jwt-bearer', request], async () => {
      const aud = await this.#serverIssuer();
      if (!aud) throw new OAuthClientError('configuration', 'the jwt-bearer grant needs the server issuer');
      const claims: Record<string, unknown> = {
        iss: this.#options.assertionIssuer ?? this.#auth.clientId,
        sub: request.sub,
        aud,
        scope: (request.scopes ?? []).join(' '),
        purpose: (request.purposes ?? []).join(' '),
      };
      if (this.#options.baikalCompatible) claims['active'] = true;
      if (request.authorizationId !== undefined) claims['authorization_id'] = request.authorizationId;
      if (request.identifier !== undefined) claims['identifier'] = request.identifier;
      if (request.acr !== undefined) claims['acr'] = request.acr;
      if (request.authenticationContext !== undefined) claims['authentication_context'] = request.authenticationContext;
      const form = new URLSearchParams({ grant_type: JWT_BEARER_GRANT });
      form.set('assertion', signAssertion(signer, claims, this.#options.assertionLifetimeSeconds ?? 300, this.#clock()));
      if (request.scopes?.length) form.set('scope', request.scopes.join(' '));
      for (const r of typeof request.resource === 'string' ? [request.resource] : (request.resource ?? [])) form.append('resource', r);
      return this.#requestToken(form, request.scopes);
    });
  }

  /** Drops every cached token (e.g. after the server rejected one). */
  clear(): void {
    this.#cache.clear();
  }

  async #cached(keyParts: [string, ClientGrantRequest | UserGrantRequest], load: () => Promise<AccessToken>): Promise<AccessToken> {
    const [grant, r] = keyParts;
    // The whole request, canonically (sorted members, sorted scope and purpose sets): any field that
    // reaches the server (authentication_context, identifier, acr, …) yields another token.
    const request = { ...r, scopes: [...(r.scopes ?? [])].sort(), purposes: [...(r.purposes ?? [])].sort() };
    const key = createHash('sha256')
      .update(
        canonicalJson([
          this.#options.tokenEndpoint ?? this.#options.issuer,
          this.#auth.clientId,
          grant,
          request,
          this.#dpop?.jkt ?? null,
          this.#thumbprint ?? null,
        ]),
      )
      .digest('base64url');
    if (this.#options.cache !== false) {
      const hit = this.#cache.get(key);
      if (hit && hit.refreshAt > this.#clock()) return hit.token;
      if (hit) this.#cache.delete(key);
    }
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = load()
        .then((token) => {
          if (this.#options.cache !== false && token.expiresAt !== undefined) {
            const now = this.#clock();
            const lifetime = token.expiresAt - now;
            // Refresh early: max(30 s, 10 % of the lifetime), but never later than half-way.
            const skew = Math.min(Math.max(30_000, lifetime / 10), lifetime / 2);
            this.#cache.set(key, { token, refreshAt: token.expiresAt - skew });
          }
          return token;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  async #requestToken(form: URLSearchParams, requested: readonly string[] | undefined): Promise<AccessToken> {
    const endpoint = await this.#tokenEndpoint();
    const issuer = await this.#serverIssuer();
    const send = (): Promise<HttpAnswer> => {
      const headers: Record<string, string> = {};
      // A fresh client assertion (new jti) and proof per attempt: the first may have been consumed.
      this.#auth.apply(form, headers, endpoint, issuer, this.#clock());
      if (this.#dpop)
        headers['dpop'] = createDpopProof(this.#dpop, {
          method: 'POST',
          url: endpoint,
          clock: this.#clock,
          ...(this.#dpopNonce === undefined ? {} : { nonce: this.#dpopNonce }),
        });
      return httpJson(endpoint, { method: 'POST', headers, form }, this.#options);
    };
    let answer = await send();
    if (answer.dpopNonce !== undefined) this.#dpopNonce = answer.dpopNonce;
    // RFC 9449 §8: the authorization server wants a nonce in the proof; retry once with it.
    if (this.#dpop && answer.status === 400 && answer.json?.['error'] === 'use_dpop_nonce' && answer.dpopNonce !== undefined) {
      answer = await send();
      if (answer.dpopNonce !== undefined) this.#dpopNonce = answer.dpopNonce;
    }
    if (answer.status !== 200) throw answerError(answer, 'token endpoint');
    const body = answer.json;
    if (!body || typeof body['access_token'] !== 'string' || body['access_token'] === '') {
      throw new OAuthClientError('invalid_response', 'token endpoint answered without an access_token', { status: answer.status });
    }
    const expiresIn = typeof body['expires_in'] === 'number' && body['expires_in'] > 0 ? body['expires_in'] : undefined;
    return {
      accessToken: body['access_token'],
      tokenType: typeof body['token_type'] === 'string' ? body['token_type'] : 'Bearer',
      expiresAt: expiresIn === undefined ? undefined : this.#clock() + expiresIn * 1000,
      scopes: typeof body['scope'] === 'string' ? body['scope'].split(' ').filter((s) => s !== '') : [...(requested ?? [])],
      response: Object.freeze({ ...body }),
    };
  }
}
