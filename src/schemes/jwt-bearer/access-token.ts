/**
 * What the two access-token schemes (`jwt-bearer`, `introspection`) share: the token arrives as
 * `Authorization: Bearer` or, sender-constrained, as `Authorization: DPoP` with a `DPoP` proof
 * (RFC 9449); only how a token is verified and mapped to a principal differs.
 */
import { endingChain, isAuthError } from '../../errors.js';
import type { Principal } from '../../principal.js';
import { credentialPresence, type AuthRequest, type AuthScheme } from '../../scheme.js';
import type { DpopBinding } from '../../protocols/dpop/binding.js';

/** How one access-token scheme verifies a token and makes a principal of it. */
export interface AccessTokenCheck<T> {
  /** Verifies the token; a 401 it throws gets the DPoP challenge when the token came as DPoP. */
  verify(token: string, req: AuthRequest): Promise<T>;
  /**
   * `jkt` of the DPoP key the verified token is bound to (`undefined`: not bound). May throw a 401;
   * a confirmation method it cannot check is a 401 that ends the chain.
   */
  boundKey(verified: T): string | undefined;
  /**
   * Who the token was issued to (issuer and subject), whose DPoP proofs share one replay-store
   * quota; undefined: the proof key is the holder.
   */
  holder(verified: T): string | undefined;
  /** The principal of a verified token whose DPoP proof, if any, was accepted. May throw a 401. */
  principal(verified: T): Principal;
}

/**
 * The scheme: reads the Bearer or DPoP token (none: "not mine"), verifies it, checks the DPoP proof
 * against the key the token is bound to (a bound token sent as Bearer is refused, and that refusal
 * ends the chain of `authenticate()`), then maps it.
 */
export function accessTokenScheme<T>(name: string, binding: DpopBinding, check: AccessTokenCheck<T>): AuthScheme {
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
