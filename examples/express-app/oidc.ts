/** Runs an embedded oidc-provider on a free loopback port for the example's OAuth route modules. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExampleContext } from './context.js';

/**
 * Starts oidc-provider with the configuration `configure(issuer)` returns (the issuer is known only
 * once the port is, hence the delegate) and stops it with the app. Resolves to the issuer URL.
 */
export async function serveProvider(ctx: ExampleContext, configure: (issuer: string) => Record<string, unknown>): Promise<string> {
  const { default: Provider } = await import('oidc-provider');
  let delegate: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => {
    r.statusCode = 503;
    r.end();
  };
  const server = createServer((req, res) => delegate(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  delegate = new Provider(issuer, configure(issuer)).callback();
  ctx.onClose(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return issuer;
}
