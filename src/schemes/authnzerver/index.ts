/** Bridge to a running authnzerver: Fernet, the message envelope and the client. */
export { fernetEncrypt, fernetDecrypt, parseFernetKey, base64UrlPadded, FernetError } from './fernet.js';
export type { FernetEncryptOptions, FernetDecryptOptions } from './fernet.js';
export { encryptMessage, decryptMessage } from './messaging.js';
export { AuthnzerverClient } from './client.js';
export type { AuthnzerverClientOptions, AuthnzerverReply } from './client.js';
