/**
 * Authorization server metadata: OpenID Connect discovery or RFC 8414, cached with stale-if-error.
 * Only `issuer` and the endpoint the caller needs are required: oidc-provider, for one, publishes no
 * `introspection_endpoint_auth_methods_supported`, which made baikal-sdk's discovery fail.
 */
import { answerError, httpJson, requireSecureUrl, type HttpOptions } from './http.js';
import { OAuthClientError } from './errors.js';

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
export interface MetadataSourceOptions extends HttpOptions {
  /** Seconds a fetched document is fresh (default 900, as baikal-sdk). */
  readonly freshSeconds?: number;
  /** Seconds a document may still be served when refreshing fails (default 1200). */
  readonly staleSeconds?: number;
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
  private readonly options: MetadataSourceOptions;
  private cached: { metadata: ServerMetadata; at: number } | undefined;
  private inflight: Promise<ServerMetadata> | undefined;

  /** @throws OAuthClientError `configuration` for an issuer that is not https (plain http only for loopback). */
  constructor(issuer: string, options: MetadataSourceOptions = {}) {
    requireSecureUrl(issuer, 'the issuer');
    this.issuer = issuer.replace(/\/+$/, '');
    this.options = options;
  }

  /** The metadata, from cache when fresh; a stale copy is served if a refresh fails. */
  async get(): Promise<ServerMetadata> {
    const now = (this.options.clock ?? Date.now)();
    const fresh = (this.options.freshSeconds ?? 900) * 1000;
    const stale = (this.options.staleSeconds ?? 1200) * 1000;
    if (this.cached && now - this.cached.at < fresh) return this.cached.metadata;
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    try {
      return await this.inflight;
    } catch (error) {
      if (this.cached && now - this.cached.at < stale) return this.cached.metadata;
      throw error;
    }
  }

  private async load(): Promise<ServerMetadata> {
    let lastError: OAuthClientError | undefined;
    for (const url of wellKnownUrls(this.issuer)) {
      const answer = await httpJson(url, { method: 'GET' }, this.options);
      if (answer.status === 200 && answer.json) {
        const issuer = answer.json['issuer'];
        if (typeof issuer !== 'string' || issuer.replace(/\/+$/, '') !== this.issuer) {
          // A permanent mismatch between the configured issuer and the server's own word for it.
          const named = typeof issuer === 'string' ? `"${issuer.slice(0, 200)}"` : 'no issuer';
          throw new OAuthClientError('configuration', `the discovery document at ${url} names ${named}, not the configured issuer "${this.issuer}"`);
        }
        const metadata = answer.json as ServerMetadata;
        this.cached = { metadata, at: (this.options.clock ?? Date.now)() };
        return metadata;
      }
      lastError = answer.status === 404 ? new OAuthClientError('invalid_response', `no metadata at ${url}`, { status: 404 }) : answerError(answer, 'discovery');
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
