/**
 * The OAuth client's transport rules (introspection, token requests, discovery): https only (loopback
 * excepted), redirects refused (a 307 must not carry the token or a client secret elsewhere), answers
 * capped in size. Servers here are real loopback HTTP servers that record what reaches them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { introspectionScheme, isAuthError } from '../../src/index.js';
import { Introspector, MetadataSource, OAuthClientError, TokenClient, type FetchLike } from '../../src/protocols/oauth/index.js';

interface Stub {
  readonly url: string;
  /** Raw bodies received, in order. */
  readonly bodies: string[];
  close(): Promise<void>;
}

async function stub(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Stub> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      bodies.push(body);
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const json = (res: ServerResponse, value: unknown): void => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
};

const SECRET = 'rs-post-secret-0123456789';
const post = { method: 'client_secret_post' as const, clientId: 'rs', clientSecret: SECRET };

let attacker: Stub;
let redirector: Stub;
beforeAll(async () => {
  // The other origin: answers everything as an authorization server that says yes.
  attacker = await stub((req, res) => {
    if ((req.url ?? '').startsWith('/.well-known/'))
      json(res, { issuer: redirector.url, introspection_endpoint: `${attacker.url}/introspect`, token_endpoint: `${attacker.url}/token` });
    else if (req.url === '/token') json(res, { access_token: 'attacker-token', token_type: 'Bearer', expires_in: 600 });
    else json(res, { active: true, sub: 'admin', scope: 'admin' });
  });
  redirector = await stub((req, res) => {
    res.writeHead(307, { location: `${attacker.url}${req.url ?? '/'}` }).end();
  });
});
afterAll(async () => {
  await attacker.close();
  await redirector.close();
});
beforeEach(() => {
  attacker.bodies.length = 0;
});

describe('OAuth client transport', () => {
  it('refuses plain http to a non-loopback host for introspection, token and discovery URLs at construction: a TypeError naming the factory and the option', () => {
    const insecure = 'http://as.example.org';
    const https = (where: string, option: string): string =>
      `${where}: "${option}" must be an absolute https URL (http only for loopback) (got a http URL)`;
    expect(() => new Introspector({ endpoint: `${insecure}/introspect`, clientAuth: post })).toThrow(TypeError);
    expect(() => new Introspector({ endpoint: `${insecure}/introspect`, clientAuth: post })).toThrow(
      https('new Introspector()', 'endpoint'),
    );
    expect(() => new Introspector({ issuer: insecure, clientAuth: post })).toThrow(https('new Introspector()', 'issuer'));
    expect(() => introspectionScheme({ issuer: insecure, clientAuth: post })).toThrow(https('introspectionScheme()', 'issuer'));
    expect(() => new TokenClient({ tokenEndpoint: `${insecure}/token`, clientAuth: post })).toThrow(
      https('new TokenClient()', 'tokenEndpoint'),
    );
    expect(() => new TokenClient({ issuer: insecure, clientAuth: post })).toThrow(https('new TokenClient()', 'issuer'));
    expect(() => new MetadataSource(insecure)).toThrow(https('new MetadataSource()', 'issuer'));
    expect(() => new TokenClient({ issuer: 'not a url', clientAuth: post })).toThrow(
      'new TokenClient(): "issuer" must be an absolute https URL (http only for loopback) (got a string that is not an absolute URL)',
    );
    // https anywhere and http on loopback stay allowed.
    expect(() => new Introspector({ endpoint: 'https://as.example.org/introspect', clientAuth: post })).not.toThrow();
    expect(() => new Introspector({ endpoint: 'http://localhost:1/introspect', clientAuth: post })).not.toThrow();
    expect(() => new Introspector({ endpoint: 'http://[::1]:1/introspect', clientAuth: post })).not.toThrow();
  });

  it('a discovered plain-http endpoint on another host is refused before anything is sent to it', async () => {
    const discovery = await stub((_req, res) => {
      json(res, { issuer: discovery.url, introspection_endpoint: 'http://as.example.org/introspect' });
    });
    try {
      const sent: string[] = [];
      const recording: FetchLike = async (url, init) => {
        sent.push(url);
        return fetch(url, init);
      };
      const introspector = new Introspector({ issuer: discovery.url, clientAuth: post, cache: false, fetch: recording });
      await expect(introspector.verify('user-token-1')).rejects.toMatchObject({ status: 503, reason: 'introspection_unavailable' });
      expect(sent.filter((u) => u.includes('as.example.org'))).toEqual([]);
    } finally {
      await discovery.close();
    }
  });

  it('introspection: a 307 to another origin is an outage (503), and neither the token nor the client secret reach that origin', async () => {
    const introspector = new Introspector({ endpoint: `${redirector.url}/introspect`, clientAuth: post, cache: false });
    const outcome = await introspector.verify('user-token-307').then(
      (t) => t.subject,
      (e: unknown) => e,
    );
    expect(isAuthError(outcome) && outcome.status === 503).toBe(true);
    expect(attacker.bodies).toEqual([]);
  });

  it('token client: a 307 to another origin is refused, and the client_secret_post secret does not reach that origin', async () => {
    const client = new TokenClient({ tokenEndpoint: `${redirector.url}/token`, clientAuth: post, cache: false });
    const outcome = await client.grantClient({ scopes: ['read'] }).then(
      (t) => t.accessToken,
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(OAuthClientError);
    expect((outcome as OAuthClientError).code).toBe('unavailable');
    expect(attacker.bodies).toEqual([]);
  });

  it('discovery: a 307 to another origin is refused, not followed', async () => {
    const source = new MetadataSource(redirector.url);
    await expect(source.get()).rejects.toBeInstanceOf(OAuthClientError);
    expect(attacker.bodies).toEqual([]);
  });

  it.each([
    ['with Content-Length', false],
    ['chunked, no Content-Length', true],
  ])('a 3 MB introspection answer (%s) is refused as an outage, never a pass', async (_name, chunked) => {
    const big = await stub((_req, res) => {
      const body = JSON.stringify({ active: true, sub: 'admin', pad: 'x'.repeat(3 * 1024 * 1024) });
      if (chunked) {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < body.length; i += 65536) res.write(body.slice(i, i + 65536));
        res.end();
      } else json(res, JSON.parse(body) as unknown);
    });
    try {
      const introspector = new Introspector({ endpoint: `${big.url}/introspect`, clientAuth: post, cache: false });
      const outcome = await introspector.verify('user-token-big').then(
        (t) => t.subject,
        (e: unknown) => e,
      );
      expect(isAuthError(outcome) && outcome.status === 503 && outcome.reason === 'introspection_unavailable').toBe(true);
      // The cap is an option: a larger one accepts the same answer.
      const roomyOptions = {
        endpoint: `${big.url}/introspect`,
        clientAuth: post,
        cache: false as const,
        maxResponseBytes: 4 * 1024 * 1024,
      };
      const roomy = new Introspector(roomyOptions);
      expect((await roomy.verify('user-token-big')).subject).toBe('admin');
    } finally {
      await big.close();
    }
  });
});
