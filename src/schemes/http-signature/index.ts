/** The RFC 9421 HTTP Message Signatures scheme and its key sources. */
export { httpSignatureScheme, HTTP_SIGNATURE_CHALLENGE } from './scheme.js';
export type { HttpSignatureSchemeOptions } from './scheme.js';
export type {
  HttpSignatureKeyOwner,
  HttpSignaturePublicKey,
  HttpSignatureSharedSecret,
  HttpSignatureKeyContext,
  HttpSignatureKeyResolver,
  ResolvedHttpSignatureKey,
} from './keys.js';
