import express from 'express';
import express4, { type Request as Express4Request, type Response as Express4Response } from 'express4';
import request from 'supertest';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { authenticate, authorize, requireKind, requireLevel, requireScopes, requireSubject, type Principal } from '../../src/index.js';
import { toyScheme } from '../helpers/toy-scheme.js';

function app(optional = false) {
  const a = express();
  const auth = authenticate([toyScheme('toy', 'Toy'), toyScheme('other', 'Other')], { realm: 'api', optional });
  a.get('/who', auth, (req, res) => {
    res.json({ principal: req.principal ?? null, same: req.principal === (req as unknown as { user: Principal }).user });
  });
  a.get('/scoped', auth, requireScopes(['a', 'b']), (_q, r) => {
    r.send('ok');
  });
  a.get('/any', auth, requireScopes(['a', 'b'], { match: 'any' }), (_q, r) => {
    r.send('ok');
  });
  a.get('/level', auth, requireLevel(2), (_q, r) => {
    r.send('ok');
  });
  a.get('/kind', auth, requireKind('user'), (_q, r) => {
    r.send('ok');
  });
  a.get('/subject', auth, requireSubject('alice'), (_q, r) => {
    r.send('ok');
  });
  a.get(
    '/pred',
    auth,
    authorize(async (p) => p.subject.startsWith('a')),
    (_q, r) => {
      r.send('ok');
    },
  );
  a.get(
    '/throwing',
    auth,
    authorize(() => {
      throw new Error('boom');
    }),
    (_q, r) => {
      r.send('ok');
    },
  );
  a.get('/noauth', requireScopes('a'), (_q, r) => {
    r.send('ok');
  });
  return a;
}

describe('authenticate()', () => {
  it('401 with one challenge per scheme when no credentials', async () => {
    const res = await request(app()).get('/who');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('credentials_missing');
    const challenges = res.headers['www-authenticate'];
    expect(challenges).toBe('Toy realm="api", Other realm="api"');
  });

  it('sets req.principal (same object as req.user) on success with the second scheme', async () => {
    const res = await request(app()).get('/who').set('Authorization', 'Other alice:a,b:3');
    expect(res.status).toBe(200);
    expect(res.body.principal).toEqual({ subject: 'alice', kind: 'service', scheme: 'other', scopes: ['a', 'b'], level: 3, details: {} });
    expect(res.body.same).toBe(true);
  });

  it('401 invalid_token for wrong credentials, naming the scheme', async () => {
    const res = await request(app()).get('/who').set('Authorization', 'Toy bad');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'token_invalid', reason: 'bad', status: 401 });
    expect(res.headers['www-authenticate']).toBe('Toy realm="api", error="invalid_token", error_description="bad toy token"');
  });

  it('400 for a malformed credential of a scheme', async () => {
    const res = await request(app()).get('/who').set('Authorization', 'Toy ');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('request_malformed');
  });

  it('503 with Retry-After when a dependency is down, never a pass', async () => {
    const res = await request(app()).get('/who').set('Authorization', 'Toy down');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.code).toBe('dependency_unavailable');
  });

  it('turns unexpected exceptions into 401 without leaking the message', async () => {
    for (const cred of ['crash', 'crash-sync']) {
      const res = await request(app()).get('/who').set('Authorization', `Toy ${cred}`);
      expect(res.status).toBe(401);
      expect(JSON.stringify(res.body)).not.toContain('secret');
      expect(res.text).not.toMatch(/at .*\.ts/);
    }
  });

  it('optional lets anonymous through but still rejects bad credentials', async () => {
    const anon = await request(app(true)).get('/who');
    expect(anon.status).toBe(200);
    expect(anon.body.principal).toBeNull();
    const bad = await request(app(true)).get('/who').set('Authorization', 'Toy bad');
    expect(bad.status).toBe(401);
  });

  it('rejects two Authorization headers with 400', async () => {
    const res = await request(app())
      .get('/who')
      .set('Authorization', ['Toy alice', 'Toy bob'] as unknown as string);
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('duplicate_authorization');
  });

  it('rejects two Authorization headers whose names differ only in case (authorization: + AUTHORIZATION:) with 400', async () => {
    // Raw bytes: HTTP clients fold header names, and Node keeps only the first Authorization value.
    const server = app().listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.end('GET /who HTTP/1.1\r\nHost: x\r\nauthorization: Toy alice\r\nAUTHORIZATION: Toy bob\r\nConnection: close\r\n\r\n');
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(reply).toContain('"reason":"duplicate_authorization"');
    } finally {
      server.close();
    }
  });

  it('rejects an oversized Authorization header with 400', async () => {
    const res = await request(app())
      .get('/who')
      .set('Authorization', `Toy ${'a'.repeat(9000)}`);
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('authorization_too_large');
  });

  it('works on Express 4 too', async () => {
    const a = express4();
    a.get('/who', authenticate([toyScheme()]), requireScopes('x'), (req: Express4Request, res: Express4Response) => {
      res.json(req.principal);
    });
    expect((await request(a).get('/who').set('Authorization', 'Toy bob:x')).body.subject).toBe('bob');
    expect((await request(a).get('/who').set('Authorization', 'Toy bob:y')).status).toBe(403);
    expect((await request(a).get('/who')).status).toBe(401);
  });
});

describe('guards', () => {
  const cases: Array<[string, string | undefined, number]> = [
    ['/scoped', 'Toy alice:a,b', 200],
    ['/scoped', 'Toy alice:a', 403],
    ['/any', 'Toy alice:b', 200],
    ['/any', 'Toy alice:c', 403],
    ['/level', 'Toy alice::2', 200],
    ['/level', 'Toy alice::1', 403],
    ['/kind', 'Toy alice', 403],
    ['/subject', 'Toy alice', 200],
    ['/subject', 'Toy bob', 403],
    ['/pred', 'Toy alice', 200],
    ['/pred', 'Toy bob', 403],
    ['/throwing', 'Toy alice', 403],
    ['/noauth', undefined, 401],
  ];
  it.each(cases)('%s with %s → %i', async (path, header, status) => {
    const req = request(app()).get(path);
    const res = header ? await req.set('Authorization', header) : await req;
    expect(res.status).toBe(status);
    if (status !== 200) expect(res.headers['content-type']).toMatch(/problem\+json/);
  });

  it('403 carries insufficient_scope and the needed scope= on the matched scheme', async () => {
    const res = await request(app()).get('/scoped').set('Authorization', 'Other alice:a');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('insufficient_scope');
    expect(res.headers['www-authenticate']).toBe(
      'Other realm="api", error="insufficient_scope", error_description="Requires scope a b.", scope="a b"',
    );
  });
});

describe('authenticate() outside Express', () => {
  it('hands an error thrown by a plain next() on to next(err) instead of an unhandled rejection', async () => {
    const middleware = authenticate([toyScheme()]);
    const req = Object.assign(Object.create(null) as object, {
      headers: { authorization: 'Toy alice' },
      rawHeaders: ['Authorization', 'Toy alice'],
    });
    const res = { headersSent: false, setHeader() {}, end() {} };
    const calls: unknown[] = [];
    const forwarded = new Promise<unknown>((resolve) => {
      const next = (err?: unknown): void => {
        calls.push(err);
        if (err === undefined) throw new Error('downstream failure');
        resolve(err);
      };
      middleware(req as never, res as never, next);
    });
    const err = await forwarded;
    expect((err as Error).message).toBe('downstream failure');
    expect(calls).toHaveLength(2);
  });
});
