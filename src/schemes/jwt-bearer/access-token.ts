/**
 * What the two access-token schemes (`jwt-bearer`, `introspection`) share: the token arrives as
 * `Authorization: Bearer` or, sender-constrained, as `Authorization: DPoP` with a `DPoP` proof
 * (RFC 9449) or as `Authorization: Bearer` over a connection presenting the client certificate it
 * is bound to (RFC 8705 §3); only how a token is verified and mapped to a principal differs.
 */
import { endingChain, invalidCredentials, isAuthError } from '../../errors.js';
import type { Principal } from '../../principal.js';
import { credentialPresence, type AuthRequest, type AuthScheme } from '../../scheme.js';
import type { DpopBinding, PresentedToken } from '../../protocols/dpop/binding.js';
import type { CertificateBinding } from './certificate-binding.js';

/** How one access-token scheme verifies a token and makes a principal of it. */
export interface AccessTokenCheck<T> {
  /** Verifies the token; a 401 it throws gets the DPoP challenge when the token came as DPoP. */
  verify(token: string, req: AuthRequest): Promise<T>;
  /**
   * `jkt` of the DPoP key the verified token is bound to (`undefined`: not bound). May throw a 401;
   * a confirmation method it cannot check is a 401 that ends the chain.
   */
  boundKey(verified: T): string | undefined;
  /** `cnf["x5t#S256"]` of the client certificate the verified token is bound to (`undefined`: not bound). */
  boundCertificate(verified: T): string | undefined;
  /**
   * Who the token was issued to (issuer and subject), whose DPoP proofs share one replay-store
   * quota; undefined: the proof key is the holder.
   */
  holder(verified: T): string | undefined;
  /** The principal of a verified token whose DPoP proof, if any, was accepted. May throw a 401. */
  principal(verified: T): Principal;
}

/**
 * A certificate-bound token's presentation: without `certificates` (the scheme was not given a
 * client-certificate source) it cannot be checked; with a DPoP proof or as `Authorization: DPoP` it
 * is presented the wrong way; else the request's verified client certificate must be the one named.
 * Every refusal ends the chain: the token may have been stolen.
 */
function checkCertificateBound(
  req: AuthRequest,
  presented: PresentedToken,
  x5t: string,
  binding: DpopBinding,
  certificates: CertificateBinding | undefined,
): void {
  if (certificates === undefined) {
    const refused = invalidCredentials('cnf_unsupported', 'The token is bound to a client certificate, which this service does not check.');
    throw endingChain(presented.dpop ? binding.asDpop(refused) : refused);
  }
  if (presented.dpop || req.headers['dpop'] !== undefined)
    throw endingChain(
      binding.error(
        'token_invalid',
        'dpop_not_bound',
        'This token is bound to a client certificate, not a DPoP key: send it with Authorization: Bearer and no DPoP proof.',
      ),
    );
  certificates.check(req, x5t);
}

/**
 * The scheme: reads the Bearer or DPoP token (none: "not mine"), verifies it, checks the DPoP proof
 * against the key the token is bound to, or the client certificate against the one it is bound to
 * (a bound token presented without its proof or certificate is refused, and that refusal ends the
 * chain of `authenticate()`), then maps it. The binding is checked on every request, after any
 * cache of the verification.
 */
export function accessTokenScheme<T>(
  name: string,
  binding: DpopBinding,
  check: AccessTokenCheck<T>,
  certificates?: CertificateBinding,
): AuthScheme {
  return {
    name,
    challenge: binding.challenge,
    challenges: binding.challenges,
    hasCredential: credentialPresence((req) => binding.read(req)),
    async authenticate(req): Promise<Principal | undefined> {
      const presented = binding.read(req);
      if (presented === undefined) return undefined;
      let verified: T;
      try {
        verified = await check.verify(presented.token, req);
      } catch (thrown) {
        if (!presented.dpop) throw thrown;
        const reissued = binding.asDpop(thrown);
        throw isAuthError(thrown) && thrown.endsChain ? endingChain(reissued) : reissued;
      }
      const jkt = check.boundKey(verified);
      const x5t = check.boundCertificate(verified);
      if (x5t !== undefined) {
        checkCertificateBound(req, presented, x5t, binding, certificates);
        return check.principal(verified);
      }
      try {
        await binding.check(req, presented, jkt, check.holder(verified));
      } catch (thrown) {
        // A bound token without its proof may have been stolen: no other scheme on the route may take it.
        throw !presented.dpop && jkt !== undefined ? endingChain(thrown) : thrown;
      }
      return check.principal(verified);
    },
  };
}
