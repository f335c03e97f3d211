// oidc-provider ships no types; this is the part the OAuth tests and the example app use.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  interface OidcContext {
    status: number;
    body: unknown;
    oidc: { params: Record<string, unknown>; client: unknown };
  }
  interface AccessTokenInstance {
    expiration: number;
    save(): Promise<string>;
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown> & { extraTokenClaims?: (ctx: unknown, token: unknown) => unknown });
    readonly issuer: string;
    AccessToken: new (init: Record<string, unknown>) => AccessTokenInstance;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    registerGrantType(name: string, handler: (ctx: OidcContext) => Promise<void>, params?: string[] | string): void;
  }
}
