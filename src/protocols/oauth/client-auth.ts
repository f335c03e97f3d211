/**
 * OAuth client authentication at the token and introspection endpoints (RFC 6749 §2.3, RFC 7523
 * §2.2, RFC 8705 §2: mutual TLS, where the certificate on the connection is the credential).
 */
import { signAssertion, resolveSigningKey, type SigningKey, type SigningKeyInput } from './assertion.js';
import type { PrivateKeyInput } from '../../keys/import.js';
import { enumOption, isNonEmptyString, optionError, positive } from '../../lib/options.js';

/** Client authentication methods of a request whose credential is in the message. */
const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
/** RFC 8705 §2: the credential is the client certificate on the TLS connection. */
const MTLS_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'] as const;

/** True for the RFC 8705 §2 methods, which need a client certificate on the connection. */
export function isMtlsMethod(method: string): method is (typeof MTLS_METHODS)[number] {
  return (MTLS_METHODS as readonly string[]).includes(method);
}

/**
 * Static checks of a `clientAuth` option; secrets are never echoed. The mutual-TLS methods only
 * where the caller presents a client certificate (`mtls`).
 * @throws TypeError `<where>: "clientAuth…" must be …`
 */
export function checkClientAuthentication(value: unknown, where: string, mtls = false): void {
  const methods = mtls ? [...CLIENT_AUTH_METHODS, ...MTLS_METHODS] : CLIENT_AUTH_METHODS;
  if (typeof value !== 'object' || value === null)
    throw optionError(where, 'clientAuth', `an object with "method" (${methods.join(', ')})`);
  const auth = value as Partial<Record<string, unknown>>;
  enumOption(auth['method'], methods, undefined, where, 'clientAuth.method');
  if (!isNonEmptyString(auth['clientId'])) throw optionError(where, 'clientAuth.clientId', 'a non-empty string');
  if (isMtlsMethod(auth['method'] as string)) return;
  if (auth['method'] !== 'private_key_jwt' && !isNonEmptyString(auth['clientSecret']))
    throw optionError(where, 'clientAuth.clientSecret', 'a non-empty string');
  if (auth['method'] === 'private_key_jwt') positive(auth['lifetimeSeconds'], 60, where, 'clientAuth.lifetimeSeconds');
}

/** How this client authenticates to the authorization server. */
export type ClientAuthentication =
  | { readonly method: 'client_secret_basic'; readonly clientId: string; readonly clientSecret: string }
  | { readonly method: 'client_secret_post'; readonly clientId: string; readonly clientSecret: string }
  | {
      readonly method: 'private_key_jwt';
      readonly clientId: string;
      readonly privateKey: SigningKeyInput | PrivateKeyInput;
      /** `aud` of the client assertion; defaults to the server's issuer when known, else the endpoint URL. */
      readonly audience?: string;
      /** Assertion lifetime in seconds (default 60). */
      readonly lifetimeSeconds?: number;
    }
  /**
   * RFC 8705 §2.1 (a certificate from a CA the server trusts, matched by subject) or §2.2 (a
   * self-signed certificate registered with the server): only `client_id` is sent, the certificate
   * is the `tls` option of the client.
   */
  | { readonly method: 'tls_client_auth' | 'self_signed_tls_client_auth'; readonly clientId: string };

/** A prepared authenticator: adds credentials to one request. */
export interface ClientAuthenticator {
  readonly clientId: string;
  /** Adds form fields / headers for a request to `endpoint`. */
  apply(form: URLSearchParams, headers: Record<string, string>, endpoint: string, issuer: string | undefined, nowMs: number): void;
}

// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding (baikal-sdk skips this).
function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/%20/g, '+')
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Builds an authenticator; private keys are imported once, here. */
export function clientAuthenticator(auth: ClientAuthentication): ClientAuthenticator {
  switch (auth.method) {
    case 'client_secret_basic': {
      const value = `Basic ${Buffer.from(`${formEncode(auth.clientId)}:${formEncode(auth.clientSecret)}`).toString('base64')}`;
      return {
        clientId: auth.clientId,
        apply: (_f, headers) => {
          headers['authorization'] = value;
        },
      };
    }
    case 'client_secret_post':
      return {
        clientId: auth.clientId,
        apply: (form) => {
          form.set('client_id', auth.clientId);
          form.set('client_secret', auth.clientSecret);
        },
      };
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      return {
        clientId: auth.clientId,
        apply: (form) => {
          form.set('client_id', auth.clientId);
        },
      };
    case 'private_key_jwt': {
      const signer: SigningKey = resolveSigningKey(auth.privateKey);
      return {
        clientId: auth.clientId,
        apply: (form, _h, endpoint, issuer, nowMs) => {
          const aud = auth.audience ?? issuer ?? endpoint;
          form.set('client_id', auth.clientId);
          form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
          form.set(
            'client_assertion',
            signAssertion(signer, { iss: auth.clientId, sub: auth.clientId, aud }, auth.lifetimeSeconds ?? 60, nowMs),
          );
        },
      };
    }
  }
}
