// A consumer of the built package: compiled by test/build/consumer.test.ts against dist/*.d.ts.
import express from 'express';
import { apiJwtScheme, authenticate, authorize, requireScopes, AuthError, type Principal } from 'authnz-express';

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
