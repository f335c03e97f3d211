// A consumer of the installed package (ESM resolution, dist/*.d.ts): compiled with `tsc --strict` by
// test/artifact/types.test.ts in a temporary app where the tarball is installed.
import express from 'express';
import { apiJwtScheme, authenticate, authorize, requireScopes, AuthError, isAuthError, type AuthErrorCode, type Principal } from 'authnz-express';
import { RedisReplayStore, redisBruteForce, type RedisClientLike } from 'authnz-express/redis';

const app = express();
const auth = authenticate([apiJwtScheme({ publicKeys: [process.env['PUBLIC_KEY'] ?? ''] })]);

app.get('/orders', auth, requireScopes(['orders:read']), authorize((p) => p.level >= 1), (req, res) => {
  const principal: Principal | undefined = req.principal;
  const subject: string | undefined = req.principal?.subject;
  const scopes: readonly string[] = req.principal?.scopes ?? [];
  // @ts-expect-error the principal is read-only
  if (req.principal) req.principal.subject = 'someone else';
  res.json({ principal, subject, scopes });
});

export const code: AuthError['code'] = new AuthError('token_invalid').code;
export default app;

// The subpath's classes take the main entry's types: one AuthError, one ReplayStore contract.
declare const client: RedisClientLike;
export const nonces = new RedisReplayStore(client, { timeoutMs: 300 });
export const guard = redisBruteForce(client, { maxFailures: 5 });
export function codeOf(error: unknown): AuthErrorCode | undefined {
  return isAuthError(error) ? error.code : undefined;
}
