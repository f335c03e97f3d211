/** HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530), usable without Express. */
export { signMessage } from './sign.js';
export type { HttpSigningKey, SignParameters, SignMessageOptions, SignedMessage } from './sign.js';
export { verifyMessage, DEFAULT_REQUIRED_COMPONENTS } from './verify.js';
export type { VerificationKey, VerificationKeyLookup, VerifyMessageOptions, VerifiedSignature } from './verify.js';
export { httpMessage, messageFromNodeRequest, messageFromFetchRequest, messageFromFetchResponse } from './message.js';
export type { HttpMessage, HttpMessageInit, FieldsInput, NodeRequestLike } from './message.js';
export { signatureBase, componentValue, KNOWN_STRUCTURED_FIELDS } from './base.js';
export type { StructuredFieldType } from './base.js';
export { algorithmsForKey, signBase, verifyBase, hmacSecret } from './algorithms.js';
export type { SignatureKeyMaterial } from './algorithms.js';
export {
  parseSignatureInput,
  parseSignatures,
  parseAcceptSignature,
  serializeAcceptSignature,
  componentFromText,
  HTTP_SIGNATURE_ALGORITHMS,
  DEFAULT_STRUCTURED_LIMITS,
} from './structured.js';
export type {
  HttpSignatureAlgorithm,
  ComponentIdentifier,
  ComponentParameters,
  SignatureParameters,
  SignatureInputEntry,
  SignatureRequest,
  StructuredLimits,
} from './structured.js';
export { contentDigest, parseContentDigest, ContentDigestCheck } from './digest.js';
export type { ContentDigestAlgorithm } from './digest.js';
export { captureRawBody, capturedRawBody, feedRequestBody } from './body.js';
export type { BodyStream } from './body.js';
