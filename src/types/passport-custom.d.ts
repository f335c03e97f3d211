// passport-custom ships no types; this is the part the library uses.
declare module 'passport-custom' {
  import type { Strategy as PassportStrategy } from 'passport-strategy';
  type VerifiedCallback = (err: unknown, user?: unknown, info?: unknown) => void;
  export class Strategy extends PassportStrategy {
    constructor(verify: (req: import('express').Request, done: VerifiedCallback) => void);
    name: string;
  }
}
