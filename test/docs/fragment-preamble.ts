/* eslint-disable @typescript-eslint/no-unused-vars -- declarations for doc fragments, used there */
// Declared before every ```ts fragment block of README.md and docs/*.md (see test/docs/snippets.ts):
// the values an application already has where the excerpt sits, one per line (a fragment that
// defines one of these names itself does not get its declaration). Library names are not declared
// here: fragments import what they use from authnz-express.
declare const app: import('express').Express;
declare const handler: import('express').RequestHandler;
declare const auth: import('express').RequestHandler;
declare const manager: import('../../src/index.js').ApiKeyManager;
declare const publicPem: string;
declare const currentPem: string;
declare const previousPem: string;
declare const rsaPrivatePem: string;
declare const currentPublicPem: string;
declare const nextPublicPem: string;
declare const rsaPem: string;
declare const myPublicKey: string;
declare const db: { datasets: { get(id: string): Promise<{ owner: string; visibility: 'public' | 'private' | 'shared'; sharedWith: string[] }> } };
export {};
