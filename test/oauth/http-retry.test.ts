/**
 * A request lost to a connection the server closed (keep-alive race) is retried once for
 * introspection, which changes nothing on the server; a second loss is a 503.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Introspector } from '../../src/index.js';

describe('introspection over a dropped connection', () => {
  let server: Server;
  let url: string;
  let seen = 0;
  let dropNext = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen++;
      if (dropNext > 0) {
        dropNext--;
        req.socket.destroy();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ active: true, sub: 'svc', exp: Math.floor(Date.now() / 1000) + 60 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const introspector = (): Introspector =>
    new Introspector({
      endpoint: url,
      clientAuth: { method: 'client_secret_post', clientId: 'rs', clientSecret: 's' },
      cache: false,
      timeoutMs: 2000,
    });

  it('retries once and succeeds when the first attempt is dropped', async () => {
    seen = 0;
    dropNext = 1;
    const result = await introspector().verify('token-a');
    expect(result.subject).toBe('svc');
    expect(seen).toBe(2);
  });

  it('answers 503 when the retry is dropped too', async () => {
    seen = 0;
    dropNext = 2;
    await expect(introspector().verify('token-b')).rejects.toMatchObject({ code: 'dependency_unavailable', status: 503 });
    expect(seen).toBe(2);
  });
});
