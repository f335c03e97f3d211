/** DPoP (RFC 9449): proofs (both sides), server nonces, the request binding, and a DPoP fetch. */
export { verifyDpopProof, createDpopProof, dpopKey, accessTokenHash, DPOP_ALGORITHMS } from './proof.js';
export type { DpopExpectation, VerifiedDpopProof, DpopProofRequest, DpopKey } from './proof.js';
export { HmacDpopNonces } from './nonce.js';
export type { DpopNonceSource, HmacDpopNoncesOptions } from './nonce.js';
export { requestUrl } from './binding.js';
export type { DpopMode, DpopOptions, PresentedToken } from './binding.js';
export { createDpopFetch } from './fetch.js';
export type { DpopFetchOptions } from './fetch.js';
