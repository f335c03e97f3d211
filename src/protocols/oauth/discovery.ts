/**
 * Authorization server metadata: OpenID Connect discovery or RFC 8414, cached with stale-if-error.
 * Only `issuer` and the endpoint the caller needs are required: oidc-provider, for one, publishes no
 * `introspection_endpoint_auth_methods_supported`, which made baikal-sdk's discovery fail.
 */
import { answerError, checkHttpOptions, HTTP_OPTION_NAMES, httpJson, secureUrl, type HttpOptions } from './http.js';
import { OAuthClientError } from './errors.js';
import { functionOption, nonNegative, optionNames, optionsObject, positive } from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';

const WHERE = 'new MetadataSource()';
const KNOWN = optionNames<MetadataSourceOptions>()({
  cacheSeconds: 1,
  staleSeconds: 1,
  clock: 1,
  logger: 1,
  validate: 1,
  ...HTTP_OPTION_NAMES,
});

/** The metadata members this suite reads. */
export interface ServerMetadata {
  readonly issuer: string;
  readonly token_endpoint?: string;
  readonly introspection_endpoint?: string;
  readonly revocation_endpoint?: string;
  readonly jwks_uri?: string;
  readonly [member: string]: unknown;
}

/** Options for {@link MetadataSource}. */
export interface MetadataSourceOptions extends HttpOptions, ObservableOptions {
  /** Seconds a fetched document is used before it is fetched again (default 900, as baikal-sdk; finite, > 0). */
  readonly cacheSeconds?: number;
  /** Seconds a document may still be served, counted from its fetch, while refreshing fails (default 1200; finite, >= 0). */
  readonly staleSeconds?: number;
  /** Clock, epoch ms (default `Date.now`). */
  readonly clock?: () => number;
}

function wellKnownUrls(issuer: string): string[] {
  const trimmed = issuer.replace(/\/+$/, '');
  const url = new URL(trimmed);
  const path = url.pathname === '/' ? '' : url.pathname;
  return [
    `${trimmed}/.well-known/openid-configuration`,
    // RFC 8414 §3: the well-known segment goes between host and path.
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/** Fetches and caches one issuer's metadata; concurrent loads share one request. */
export class MetadataSource {
  readonly issuer: string;
  readonly #http: HttpOptions;
  readonly #clock: () => number;
  readonly #cacheLifetimeMs: number;
  readonly #staleMs: number;
  #cached: { metadata: ServerMetadata; at: number } | undefined;
  #inflight: Promise<ServerMetadata> | undefined;

  /**
   * @throws TypeError `new MetadataSource(): "<option>" must be …` for an issuer that is not https
   *   (plain http only to a loopback host) and options out of range.
   */
  constructor(issuer: string, input: MetadataSourceOptions = {}) {
    const options = optionsObject(input, WHERE, true);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.issuer = secureUrl(issuer, WHERE, 'issuer').replace(/\/+$/, '');
    checkHttpOptions(options, WHERE);
    this.#http = options;
    this.#clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
    this.#cacheLifetimeMs = positive(options.cacheSeconds, 900, WHERE, 'cacheSeconds') * 1000;
    this.#staleMs = nonNegative(options.staleSeconds, 1200, WHERE, 'staleSeconds') * 1000;
  }

  /** The metadata, from cache for `cacheSeconds`; a copy younger than `staleSeconds` is served if a refresh fails. */
  async get(): Promise<ServerMetadata> {
    const now = this.#clock();
    if (this.#cached && now - this.#cached.at < this.#cacheLifetimeMs) return this.#cached.metadata;
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = undefined;
    });
    try {
      return await this.#inflight;
    } catch (error) {
      if (this.#cached && now - this.#cached.at < this.#staleMs) return this.#cached.metadata;
      throw error;
    }
  }

  async #load(): Promise<ServerMetadata> {
    let lastError: OAuthClientError | undefined;
    for (const url of wellKnownUrls(this.issuer)) {
      const answer = await httpJson(url, { method: 'GET' }, this.#http);
      if (answer.status === 200 && answer.json) {
        const issuer = answer.json['issuer'];
        if (typeof issuer !== 'string' || issuer.replace(/\/+$/, '') !== this.issuer) {
          // A permanent mismatch between the configured issuer and the server's own word for it.
          const named = typeof issuer === 'string' ? `"${issuer.slice(0, 200)}"` : 'no issuer';
          throw new OAuthClientError(
            'configuration',
            `the discovery document at ${url} names ${named}, not the configured issuer "${this.issuer}"`,
          );
        }
        const metadata = answer.json as ServerMetadata;
        this.#cached = { metadata, at: this.#clock() };
        return metadata;
      }
      lastError =
        answer.status === 404
          ? new OAuthClientError('invalid_response', `no metadata at ${url}`, { status: 404 })
          : answerError(answer, 'discovery');
    }
    throw lastError ?? new OAuthClientError('unavailable', 'discovery failed');
  }

  /** One endpoint of the metadata; a missing member is an `invalid_response` error. */
  async endpoint(member: 'token_endpoint' | 'introspection_endpoint' | 'revocation_endpoint' | 'jwks_uri'): Promise<string> {
    const metadata = await this.get();
    const value = metadata[member];
    if (typeof value !== 'string' || value === '') throw new OAuthClientError('invalid_response', `the server's metadata has no ${member}`);
    return value;
  }
}

/** The discovery source of `issuer` for a client with the transport options `http` (other options are not passed on). */
export function metadataSourceFor(issuer: string, http: HttpOptions, clock: () => number): MetadataSource {
  const { timeoutMs, headers, fetch, maxResponseBytes } = http;
  return new MetadataSource(issuer, {
    clock,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(headers === undefined ? {} : { headers }),
    ...(fetch === undefined ? {} : { fetch }),
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  });
}
