/** A minimal scheme for testing the middleware: `Authorization: Toy <subject>:<scope,scope>`. */
import { AuthError, createPrincipal, credentialPresence, readAuthorization, type AuthScheme, type Principal } from '../../src/index.js';

export function toyScheme(name = 'toy', authScheme = 'Toy'): AuthScheme {
  return {
    name,
    challenge: { scheme: authScheme },
    hasCredential: credentialPresence((req) => readAuthorization(req, authScheme)),
    async authenticate(req): Promise<Principal | undefined> {
      const cred = readAuthorization(req, authScheme);
      if (cred === undefined) return undefined;
      if (cred === '') throw new AuthError('request_malformed', { reason: 'empty', detail: 'empty credentials' });
      if (cred === 'down') throw new AuthError('dependency_unavailable', { reason: 'down' });
      if (cred === 'crash') throw new Error('internal secret message');
      if (cred === 'crash-sync') throw 'a string';
      const [subject, scopes, level] = cred.split(':');
      if (!subject || subject === 'bad') throw new AuthError('token_invalid', { reason: 'bad', detail: 'bad toy token' });
      return createPrincipal({
        subject,
        kind: 'service',
        scheme: name,
        scopes: scopes ? scopes.split(',') : [],
        level: level ? Number(level) : 0,
      });
    },
  };
}
