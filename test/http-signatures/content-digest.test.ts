/**
 * Content-Digest (RFC 9530) on signed requests, with real Express body parsers in either order and
 * real chunked uploads over loopback HTTP: the scheme first (it hashes the streamed body and leaves
 * it readable for express.json()/express.raw()), or the parser first with `captureRawBody`.
 */
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import express, { type Express, type RequestHandler } from 'express';
import { captureRawBody, contentDigest } from '../../src/index.js';
import { listen, type Listening } from '../helpers/http.js';
import { signedApp, signedHeaders } from './helpers.js';

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const servers: Listening[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(app: Express): Promise<Listening> {
  const server = await listen(app);
  servers.push(server);
  return server;
}

/** POSTs `chunks` with chunked transfer encoding, one write per chunk, each after the previous was flushed. */
function upload(server: Listening, headers: Record<string, string>, chunks: readonly string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, path: '/r', method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }),
        );
      },
    );
    req.on('error', reject);
    const write = (i: number): void => {
      if (i === chunks.length) {
        req.end();
        return;
      }
      req.write(chunks[i], () => setImmediate(() => write(i + 1)));
    };
    write(0);
  });
}

const JSON_BODY = JSON.stringify({ order: 42, items: ['a', 'b', 'c'], note: 'x'.repeat(2000) });
const CHUNKS = [JSON_BODY.slice(0, 10), JSON_BODY.slice(10, 1500), JSON_BODY.slice(1500)];
const COVERING = ['@method', '@authority', '@target-uri', 'content-digest', 'content-type'];

function signedPost(body: string, digest = contentDigest(body), type = 'application/json'): Record<string, string> {
  return signedHeaders({ method: 'POST', headers: { 'content-type': type, 'content-digest': digest } }, { components: COVERING });
}

const orders: ReadonlyArray<readonly [string, (parser: RequestHandler) => { before?: RequestHandler[]; after?: RequestHandler[] }]> = [
  ['scheme before the parser', (parser) => ({ after: [parser] })],
  ['parser (with captureRawBody) before the scheme', (parser) => ({ before: [parser] })],
];

describe.each(orders)('Content-Digest, %s', (_, place) => {
  it('express.json(): a streamed body that matches is accepted and parsed', async () => {
    const server = await serve(signedApp({}, place(express.json({ verify: captureRawBody }))));
    const reply = await upload(server, signedPost(JSON_BODY), CHUNKS);
    expect(reply.status).toBe(200);
    expect(reply.body['body']).toEqual(JSON.parse(JSON_BODY));
  });

  it('express.raw(): the handler gets the exact bytes', async () => {
    const server = await serve(signedApp({}, place(express.raw({ type: '*/*', verify: captureRawBody }))));
    const text = 'line one\nline two\n';
    const reply = await upload(server, signedPost(text, contentDigest(text, ['sha-512']), 'application/octet-stream'), [
      text.slice(0, 4),
      text.slice(4),
    ]);
    expect(reply.status).toBe(200);
    expect(Buffer.from((reply.body['body'] as { data: number[] }).data).toString()).toBe(text);
  });

  it('a streamed body that differs from its digest is refused with 401 digest_mismatch', async () => {
    const server = await serve(signedApp({}, place(express.json({ verify: captureRawBody }))));
    const altered = [...CHUNKS.slice(0, 2), CHUNKS[2]?.replace('x', 'y') ?? ''];
    const reply = await upload(server, signedPost(JSON_BODY), altered);
    expect(reply.status).toBe(401);
    expect(reply.body['reason']).toBe('digest_mismatch');
  });
});

describe('Content-Digest, scheme first, body already received', () => {
  it('a body that arrived whole with the headers (Content-Length, one write) is hashed and still parsed', async () => {
    const server = await serve(signedApp({}, { after: [express.json()] }));
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/r',
          method: 'POST',
          headers: { ...signedPost(JSON_BODY), 'content-length': String(Buffer.byteLength(JSON_BODY)) },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
        },
      );
      req.on('error', reject);
      req.end(JSON_BODY);
    });
    expect(reply.status).toBe(200);
    expect(reply.body['body']).toEqual(JSON.parse(JSON_BODY));
  });

  it('an empty body covered by its digest is accepted (the stream has ended: a parser after the scheme leaves req.body unset)', async () => {
    const server = await serve(signedApp({}, { after: [express.json()] }));
    const reply = await upload(server, signedPost('', contentDigest('')), []);
    expect(reply.status).toBe(200);
    expect(reply.body['body']).toBeNull();
  });
});

describe('Content-Digest of a compressed body (Content-Encoding: gzip)', () => {
  const gzipped = gzipSync(JSON_BODY);
  const headers = (): Record<string, string> => ({
    ...signedHeaders(
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-digest': contentDigest(gzipped), 'content-encoding': 'gzip' },
      },
      { components: [...COVERING, 'content-encoding'] },
    ),
  });
  const send = (server: Listening): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, path: '/r', method: 'POST', headers: headers() }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(gzipped);
    });

  it('scheme first: the digest is checked over the bytes as sent, and express.json() still inflates and parses them', async () => {
    const reply = await send(await serve(signedApp({}, { after: [express.json()] })));
    expect(reply.status).toBe(200);
    expect(reply.body['body']).toEqual(JSON.parse(JSON_BODY));
  });

  it('parser first: captureRawBody gets the inflated bytes, so the digest of the sent bytes does not match', async () => {
    const reply = await send(await serve(signedApp({}, { before: [express.json({ verify: captureRawBody })] })));
    expect([reply.status, reply.body['reason']]).toEqual([401, 'digest_mismatch']);
  });
});

describe('Content-Digest: refusals', () => {
  it('a body over maxBodyBytes is refused (400 body_too_large) without reading it all', async () => {
    const server = await serve(signedApp({ maxBodyBytes: 1000 }, { after: [express.json()] }));
    const reply = await upload(server, signedPost(JSON_BODY), CHUNKS);
    expect(reply.status).toBe(400);
    expect(reply.body['reason']).toBe('body_too_large');
  });

  it('a Content-Length over maxBodyBytes is refused before reading', async () => {
    const app = signedApp({ maxBodyBytes: 100 }, { after: [express.json()] });
    const server = await serve(app);
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/r',
          method: 'POST',
          headers: { ...signedPost(JSON_BODY), 'content-length': String(JSON_BODY.length) },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
        },
      );
      req.on('error', reject);
      req.end(JSON_BODY);
    });
    expect(reply.status).toBe(400);
    expect(reply.body['reason']).toBe('body_too_large');
  });

  it.each([
    ['not a dictionary', 'sha-256=abc', 400, 'digest_invalid'],
    ['a digest of the wrong length', 'sha-256=:AAAA:', 400, 'digest_invalid'],
    ['unknown algorithms only', 'md5=:AAAAAAAAAAAAAAAAAAAAAA==:', 400, 'digest_algorithm'],
  ])('a Content-Digest that is %s is refused', async (_, digest, status, reason) => {
    const server = await serve(signedApp({}, { after: [express.json()] }));
    const reply = await upload(server, signedPost(JSON_BODY, digest), CHUNKS);
    expect(reply.status).toBe(status);
    expect(reply.body['reason']).toBe(reason);
  });

  it('a body parser that ran first without captureRawBody is a configuration error (500 body_unavailable), never a pass', async () => {
    const server = await serve(signedApp({}, { before: [express.json()] }));
    const reply = await upload(server, signedPost(JSON_BODY), CHUNKS);
    expect(reply.status).toBe(500);
    expect(reply.body['reason']).toBe('body_unavailable');
  });

  it.each([
    ['sha-256 right, sha-512 wrong', () => `${contentDigest(JSON_BODY)}, ${contentDigest('other', ['sha-512'])}`],
    ['sha-512 right, sha-256 wrong', () => `${contentDigest('other')}, ${contentDigest(JSON_BODY, ['sha-512'])}`],
    ['an unknown algorithm beside a wrong sha-256', () => `md5=:AAAAAAAAAAAAAAAAAAAAAA==:, ${contentDigest('other')}`],
    [
      'the right sha-256 repeated after a wrong one (the last member counts)',
      () => `${contentDigest('other')}, ${contentDigest(JSON_BODY)}`,
    ],
  ])('every digest of an algorithm this service checks must match: %s', async (name, digest) => {
    const server = await serve(signedApp({}, { after: [express.json()] }));
    const reply = await upload(server, signedPost(JSON_BODY, digest()), CHUNKS);
    const last = name.startsWith('the right');
    expect([reply.status, reply.body['reason']]).toEqual(last ? [200, undefined] : [401, 'digest_mismatch']);
  });

  it.each(['"content-digest";sf', '"content-digest";bs', '"content-digest";key="sha-256"'])(
    'content-digest covered as %s is checked against the body like the bare field',
    async (component) => {
      const server = await serve(signedApp({}, { after: [express.json()] }));
      const headers = signedHeaders(
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-digest': contentDigest(JSON_BODY) } },
        { components: ['@method', '@authority', '@target-uri', component], fieldTypes: { 'content-digest': 'dictionary' } },
      );
      const good = await upload(server, headers, CHUNKS);
      const altered = await upload(server, headers, [...CHUNKS.slice(0, 2), CHUNKS[2]?.replace('x', 'y') ?? '']);
      expect([good.status, altered.status, altered.body['reason']]).toEqual([200, 401, 'digest_mismatch']);
    },
  );

  it('requiring content-digest refuses a signature that does not cover it', async () => {
    const server = await serve(
      signedApp({ requiredComponents: ['@method', '@authority', '@target-uri', 'content-digest'] }, { after: [express.json()] }),
    );
    const headers = signedHeaders({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-digest': contentDigest(JSON_BODY) },
    });
    const reply = await upload(server, headers, CHUNKS);
    expect(reply.status).toBe(401);
    expect(reply.body['reason']).toBe('component_not_covered');
  });
});
