/**
 * docs/http-signatures.md, run: the app of "Verifying signed requests" with requests signed by the
 * "Signing with the protocol functions" block, behind a proxy that terminates TLS (X-Forwarded-Proto).
 */
import request from 'supertest';
import type { Express } from 'express';
import type { KeyPairKeyObjectResult } from 'node:crypto';
import { httpMessage, signMessage } from '../../src/index.js';
import { loadSnippet } from '../docs/snippets.js';

type SignedPost = (url: string, body: string, privateKey: KeyPairKeyObjectResult['privateKey'], keyId: string) => Record<string, string>;

describe('docs/http-signatures.md', () => {
  let app: Express;
  let client: KeyPairKeyObjectResult;
  let signedPost: SignedPost;
  beforeAll(async () => {
    ({ app, client } = await loadSnippet<{ app: Express; client: KeyPairKeyObjectResult }>('http-signatures-app'));
    ({ signedPost } = await loadSnippet<{ signedPost: SignedPost }>('http-signatures-sign'));
  });
  const proxied = { host: 'api.example.com', 'x-forwarded-proto': 'https' };

  it('a signed POST with its Content-Digest reaches the handler with the body and the key owner', async () => {
    const body = JSON.stringify({ item: 'paper', count: 3 });
    const headers = signedPost('https://api.example.com/orders', body, client.privateKey, 'billing-2026');
    const res = await request(app)
      .post('/orders')
      .set({ ...proxied, ...headers })
      .send(body);
    expect([res.status, res.body]).toEqual([201, { caller: 'billing-service', order: { item: 'paper', count: 3 } }]);
    // The same request again: its nonce was used.
    const again = await request(app)
      .post('/orders')
      .set({ ...proxied, ...headers })
      .send(body);
    expect([again.status, (again.body as { code?: string }).code]).toEqual([401, 'replay']);
  });

  it('the POST refuses a changed body (digest_mismatch) and a signature without content-digest (403)', async () => {
    const body = JSON.stringify({ item: 'paper', count: 3 });
    const headers = signedPost('https://api.example.com/orders', body, client.privateKey, 'billing-2026');
    const changed = await request(app)
      .post('/orders')
      .set({ ...proxied, ...headers })
      .send(body.replace('3', '300'));
    expect([changed.status, (changed.body as { reason?: string }).reason]).toEqual([401, 'digest_mismatch']);
    const { signatureInput, signature } = signMessage({
      message: httpMessage({ method: 'POST', url: 'https://api.example.com/orders', headers: {} }),
      components: ['@method', '@authority', '@target-uri'],
      key: { key: client.privateKey, keyId: 'billing-2026' },
      params: { nonce: true },
    });
    const uncovered = await request(app)
      .post('/orders')
      .set({ ...proxied, 'content-type': 'application/json', 'signature-input': signatureInput, signature })
      .send(body);
    expect(uncovered.status).toBe(403);
  });

  it('an unsigned request gets the challenge and the Accept-Signature line the page shows', async () => {
    const res = await request(app).get('/orders').set(proxied);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Signature');
    expect(res.headers['accept-signature']).toBe('sig1=("@method" "@authority" "@target-uri");created;nonce');
  });

  it('a signature made for http:// (the scheme the proxy hides) is refused: the target URI is https://', async () => {
    const { signatureInput, signature } = signMessage({
      message: httpMessage({ method: 'GET', url: 'http://api.example.com/orders' }),
      components: ['@method', '@authority', '@target-uri'],
      key: { key: client.privateKey, keyId: 'billing-2026' },
      params: { nonce: true },
    });
    const res = await request(app)
      .get('/orders')
      .set({ ...proxied, 'signature-input': signatureInput, signature });
    expect([res.status, (res.body as { reason?: string }).reason]).toEqual([401, 'signature_invalid']);
  });
});
