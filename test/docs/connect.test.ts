/** The README's Connect / plain Node example, run: the middleware called as Connect calls it, `getPrincipal(req)`. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrincipal, getPrincipal } from '../../src/index.js';
import { loadSnippet } from './snippets.js';

describe('README: Connect and plain Node', () => {
  let server: Server;
  let key: string;
  let base: string;
  beforeAll(async () => {
    ({ server, key } = await loadSnippet<{ server: Server; key: string }>('connect'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('a valid key reaches the handler, which reads the principal with getPrincipal', async () => {
    const res = await fetch(`${base}/reports`, { headers: { 'x-api-key': key } });
    expect([res.status, await res.json()]).toEqual([200, { caller: 'billing' }]);
  });

  it('no key: 401 problem+json with the ApiKey challenge, the handler never runs', async () => {
    const res = await fetch(`${base}/reports`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.headers.get('www-authenticate')).toMatch(/^ApiKey/);
    expect(((await res.json()) as { code: string }).code).toBe('credentials_missing');
  });

  it('a wrong key: 401 token_invalid', async () => {
    const res = await fetch(`${base}/reports`, { headers: { 'x-api-key': `${key.slice(0, -4)}AAAA` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('token_invalid');
  });
});

describe('getPrincipal', () => {
  it('returns the frozen principal authenticate() set, and nothing for other values', () => {
    const principal = createPrincipal({ subject: 'svc', kind: 'service', scheme: 'apikey' });
    expect(getPrincipal({ principal })).toBe(principal);
    expect(getPrincipal({})).toBeUndefined();
    expect(getPrincipal({ principal: { subject: 'forged' } })).toBeUndefined();
    expect(getPrincipal({ principal: 'svc' })).toBeUndefined();
  });
});
