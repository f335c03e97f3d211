/**
 * The hostile table of httpSignatureScheme(): one row per attack on a signed request, each with the
 * status and reason it must get. Every row starts from a request the app accepts (checked first),
 * so each refusal is the one change the row makes. The streamed Content-Digest mismatch is in
 * content-digest.test.ts; the nonce replayed across two instances on Redis in replay-redis.test.ts.
 */
import { sign } from 'node:crypto';
import request from 'supertest';
import { httpMessage, signMessage } from '../../src/index.js';
import { ed, HOST, ORIGIN, p256, rsa, secret, signedApp, signedHeaders, type Outgoing, type Signing } from './helpers.js';

const app = signedApp({
  origins: [ORIGIN, 'http://other.example.com'],
  sharedSecrets: { 'hmac-1': { secret } },
  requiredComponents: ['@method', '@authority', '@target-uri'],
});
const tagged = signedApp({ tag: 'orders' });
const labelled = signedApp({ label: 'sig1' });
const nonces = signedApp({ nonce: 'required' });
const now = (): number => Math.floor(Date.now() / 1000);

interface Row {
  /** What the attacker does. */
  readonly attack: string;
  /** The request: method, path and headers as sent. */
  readonly send: () => { method: 'get' | 'post'; path: string; headers: Record<string, string> };
  readonly status: number;
  /** The reason, or undefined for a request treated as unsigned (401 `credentials_missing`). */
  readonly reason: string | undefined;
  readonly target?: typeof app;
}

const GET = (headers: Record<string, string>, path = '/r'): ReturnType<Row['send']> => ({ method: 'get', path, headers });
/** A signed GET, then `change` applied to its headers. */
const tampered = (
  change: (h: Record<string, string>) => Record<string, string>,
  outgoing: Outgoing = {},
  signing: Signing = {},
): Record<string, string> => change(signedHeaders(outgoing, signing));
const withInput = (input: string, signature = 'sig1=:AAAA:'): Record<string, string> => ({
  host: HOST,
  'signature-input': input,
  signature,
});
const created = (): string => `created=${now()};keyid="ed-1"`;

const ROWS: readonly Row[] = [
  // Every covered component altered after signing.
  {
    attack: '@method altered (GET signed, POST sent)',
    send: () => ({ method: 'post', path: '/r', headers: signedHeaders() }),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: '@target-uri altered (path)',
    send: () => GET(signedHeaders({ path: '/r' }), '/r?x=1'),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: '@authority altered (signed for one of our origins, sent to the other)',
    send: () => GET({ ...signedHeaders(), host: 'other.example.com' }),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: '@path altered',
    send: () => GET(signedHeaders({ path: '/r?a=1' }, { components: ['@method', '@authority', '@path', '@query'] }), '/r/?a=1'),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: '@query altered',
    send: () => GET(signedHeaders({ path: '/r?a=1' }, { components: ['@method', '@authority', '@path', '@query'] }), '/r?a=2'),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: '@query-param altered',
    send: () =>
      GET(
        signedHeaders({ path: '/r?id=1' }, { components: ['@method', '@authority', '@target-uri', '"@query-param";name="id"'] }),
        '/r?id=2',
      ),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: 'a covered header altered',
    send: () =>
      GET(
        tampered(
          (h) => ({ ...h, 'x-account': 'victim' }),
          { headers: { 'x-account': 'me' } },
          { components: ['@method', '@authority', '@target-uri', 'x-account'] },
        ),
      ),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: 'a value appended to a covered header',
    send: () =>
      GET(
        tampered(
          (h) => ({ ...h, 'x-account': 'me, victim' }),
          { headers: { 'x-account': 'me' } },
          { components: ['@method', '@authority', '@target-uri', 'x-account'] },
        ),
      ),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: 'the signature parameters altered (keyid kept, created moved)',
    send: () =>
      GET(
        tampered((h) => ({
          ...h,
          'signature-input': (h['signature-input'] as string).replace(/created=(\d+)/, (_, c: string) => `created=${Number(c) - 1}`),
        })),
      ),
    status: 401,
    reason: 'signature_invalid',
  },
  // Labels and tags: a signature for another verifier is no credential of ours (401 credentials_missing).
  {
    attack: 'a signature under another label than the configured one',
    send: () => GET(signedHeaders({}, { label: 'sig2' })),
    status: 401,
    reason: undefined,
    target: labelled,
  },
  {
    attack: 'a signature with another tag',
    send: () => GET(signedHeaders({}, { params: { tag: 'other' } })),
    status: 401,
    reason: undefined,
    target: tagged,
  },
  {
    attack: 'a signature without the configured tag',
    send: () => GET(signedHeaders()),
    status: 401,
    reason: undefined,
    target: tagged,
  },
  {
    attack: 'a bad first signature with our tag before a good one: the first is the one checked',
    send: () => {
      const good = signedHeaders({}, { label: 'sig2', params: { tag: 'orders' } });
      return GET({
        ...good,
        'signature-input': `sig1=("@method" "@authority" "@target-uri");created=${now()};keyid="ed-1";tag="orders", ${good['signature-input'] as string}`,
        signature: `sig1=:${Buffer.alloc(64).toString('base64')}:, ${good['signature'] as string}`,
      });
    },
    status: 401,
    reason: 'signature_invalid',
    target: tagged,
  },
  {
    attack: 'Signature has no member for the label',
    send: () => GET(tampered((h) => ({ ...h, signature: (h['signature'] as string).replace('sig1=', 'sig9=') }))),
    status: 400,
    reason: 'signature_header_invalid',
  },
  {
    attack: 'Signature without Signature-Input',
    send: () => GET(tampered(({ 'signature-input': _, ...h }) => h)),
    status: 400,
    reason: 'signature_input_invalid',
  },
  {
    attack: 'Signature-Input without Signature',
    send: () => GET(tampered(({ signature: _, ...h }) => h)),
    status: 400,
    reason: 'signature_header_invalid',
  },
  // Components.
  {
    attack: 'a required component not covered (@target-uri)',
    send: () => GET(signedHeaders({}, { components: ['@method', '@authority'] })),
    status: 401,
    reason: 'component_not_covered',
  },
  {
    attack: 'only @path covered for @target-uri (no @query)',
    send: () => GET(signedHeaders({}, { components: ['@method', '@authority', '@path'] })),
    status: 401,
    reason: 'component_not_covered',
  },
  {
    attack: 'a covered header absent from the request',
    send: () =>
      GET(
        tampered(
          ({ 'x-account': _, ...h }) => h,
          { headers: { 'x-account': 'me' } },
          { components: ['@method', '@authority', '@target-uri', 'x-account'] },
        ),
      ),
    status: 401,
    reason: 'component_missing',
  },
  {
    attack: 'a duplicated component',
    send: () => GET(withInput(`sig1=("@method" "@method" "@authority" "@target-uri");${created()}`)),
    status: 400,
    reason: 'component_invalid',
  },
  {
    attack: 'an unknown derived component',
    send: () => GET(withInput(`sig1=("@method" "@authority" "@target-uri" "@nope");${created()}`)),
    status: 400,
    reason: 'component_invalid',
  },
  {
    attack: 'an upper-case field name',
    send: () => GET(withInput(`sig1=("@method" "@authority" "@target-uri" "Host");${created()}`)),
    status: 400,
    reason: 'component_invalid',
  },
  {
    attack: 'an unknown component parameter',
    send: () => GET(withInput(`sig1=("@method";x "@authority" "@target-uri");${created()}`)),
    status: 400,
    reason: 'component_invalid',
  },
  {
    attack: '@query-param without a name',
    send: () => GET(withInput(`sig1=("@method" "@authority" "@target-uri" "@query-param");${created()}`)),
    status: 400,
    reason: 'component_invalid',
  },
  // Time.
  { attack: 'created too old', send: () => GET(signedHeaders({}, { params: { created: now() - 3600 } })), status: 401, reason: 'too_old' },
  {
    attack: 'created in the future',
    send: () => GET(signedHeaders({}, { params: { created: now() + 3600 } })),
    status: 401,
    reason: 'issued_in_future',
  },
  {
    attack: 'expires in the past',
    send: () => GET(signedHeaders({}, { params: { expires: now() - 60 } })),
    status: 401,
    reason: 'expired',
  },
  { attack: 'no created', send: () => GET(signedHeaders({}, { params: { created: false } })), status: 401, reason: 'created_missing' },
  // Nonces.
  { attack: 'no nonce where one is required', send: () => GET(signedHeaders()), status: 401, reason: 'nonce_missing', target: nonces },
  {
    attack: 'a nonce longer than 256 characters',
    send: () => GET(signedHeaders({}, { params: { nonce: 'n'.repeat(257) } })),
    status: 401,
    reason: 'nonce_too_long',
  },
  // Size and syntax.
  {
    attack: 'an oversized Signature-Input',
    send: () => GET(withInput(`sig1=("@method");${created()};x="${'a'.repeat(9000)}"`)),
    status: 400,
    reason: 'too_large',
  },
  {
    attack: 'an oversized Signature',
    send: () => GET(tampered((h) => ({ ...h, signature: `sig1=:${'A'.repeat(12000)}:` }))),
    status: 400,
    reason: 'too_large',
  },
  {
    attack: 'too many signatures',
    send: () => GET(withInput(Array.from({ length: 9 }, (_, i) => `s${i}=("@method");${created()}`).join(', '))),
    status: 400,
    reason: 'too_large',
  },
  {
    attack: 'too many components',
    send: () => GET(withInput(`sig1=(${Array.from({ length: 33 }, (_, i) => `"x-h${i}"`).join(' ')});${created()}`)),
    status: 400,
    reason: 'too_large',
  },
  {
    attack: 'Signature-Input that is not a Structured Field',
    send: () => GET(withInput('sig1=("@method" ;created=1')),
    status: 400,
    reason: 'signature_input_invalid',
  },
  {
    attack: 'a Signature-Input member that is not an inner list',
    send: () => GET(withInput('sig1="@method";created=1')),
    status: 400,
    reason: 'signature_input_invalid',
  },
  {
    attack: 'created as a string',
    send: () => GET(withInput('sig1=("@method" "@authority" "@target-uri");created="1";keyid="ed-1"')),
    status: 400,
    reason: 'signature_input_invalid',
  },
  {
    attack: 'a Signature member that is not a byte sequence',
    send: () => GET(tampered((h) => ({ ...h, signature: 'sig1="abc"' }))),
    status: 400,
    reason: 'signature_header_invalid',
  },
  // Keys and algorithms.
  { attack: 'an unknown keyid', send: () => GET(signedHeaders({}, { keyId: 'nobody' })), status: 401, reason: 'key_unknown' },
  { attack: 'no keyid', send: () => GET(signedHeaders({}, { keyId: undefined as unknown as string })), status: 401, reason: 'key_unknown' },
  {
    attack: 'alg naming another algorithm than the key’s',
    send: () => GET(signedHeaders({}, { params: { alg: true }, key: p256.privateKey, keyId: 'ed-1' })),
    status: 401,
    reason: 'algorithm_not_allowed',
  },
  {
    attack: 'a wrong key type (P-256 signature under an Ed25519 keyid)',
    send: () => GET(signedHeaders({}, { key: p256.privateKey, keyId: 'ed-1' })),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: 'rsa-v1_5-sha256 under a key configured for rsa-pss-sha512',
    send: () => GET(signedHeaders({}, { key: rsa.privateKey, algorithm: 'rsa-v1_5-sha256', keyId: 'rsa-pss-1', params: { alg: true } })),
    status: 401,
    reason: 'algorithm_not_allowed',
  },
  {
    attack: 'HMAC with a public key as the secret (alg=hmac-sha256 under an Ed25519 keyid)',
    send: () => {
      const pem = Buffer.from(ed.publicKey.export({ type: 'spki', format: 'pem' }));
      return GET(signedHeaders({}, { key: Buffer.concat([pem, pem]), keyId: 'ed-1', params: { alg: true } }));
    },
    status: 401,
    reason: 'algorithm_not_allowed',
  },
  {
    attack: 'an HMAC signature with another secret',
    send: () => GET(signedHeaders({}, { key: Buffer.alloc(32, 7), keyId: 'hmac-1' })),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: 'an HMAC signature of the wrong length',
    send: () =>
      GET(tampered((h) => ({ ...h, signature: `sig1=:${Buffer.alloc(20).toString('base64')}:` }), {}, { key: secret, keyId: 'hmac-1' })),
    status: 401,
    reason: 'signature_invalid',
  },
  {
    attack: 'a DER-encoded ECDSA signature (RFC 9421 §3.3.4 takes raw r || s only)',
    send: () => {
      const headers = { host: HOST };
      const signed = signMessage({
        message: httpMessage({ method: 'GET', url: `${ORIGIN}/r`, headers }),
        components: ['@method', '@authority', '@target-uri'],
        key: { key: p256.privateKey, keyId: 'p256-1' },
      });
      const der = sign('sha256', Buffer.from(signed.signatureBase), p256.privateKey);
      return GET({ ...headers, 'signature-input': signed.signatureInput, signature: `sig1=:${der.toString('base64')}:` });
    },
    status: 401,
    reason: 'signature_invalid',
  },
  // Authority.
  {
    attack: 'an authority that is not ours (signed for it, sent to us)',
    send: () => GET({ ...signedHeaders(), host: 'evil.example.com' }),
    status: 401,
    reason: 'authority_invalid',
  },
  {
    attack: 'X-Forwarded-Host without trust proxy',
    send: () => GET({ ...signedHeaders(), host: 'evil.example.com', 'x-forwarded-host': HOST }),
    status: 401,
    reason: 'authority_invalid',
  },
  {
    attack: 'an invalid Host',
    send: () => GET({ ...signedHeaders(), host: 'api.example.com:99999' }),
    status: 400,
    reason: 'host_invalid',
  },
];

async function send(row: Row): Promise<request.Response> {
  const { method, path, headers } = row.send();
  const agent = request(row.target ?? app);
  return (method === 'post' ? agent.post(path) : agent.get(path)).set(headers);
}

describe('httpSignatureScheme: hostile requests', () => {
  it('the honest requests the rows start from are accepted', async () => {
    expect((await request(app).get('/r').set(signedHeaders())).status).toBe(200);
    expect(
      (
        await request(app)
          .get('/r')
          .set(signedHeaders({}, { key: secret, keyId: 'hmac-1' }))
      ).status,
    ).toBe(200);
    expect(
      (
        await request(tagged)
          .get('/r')
          .set(signedHeaders({}, { params: { tag: 'orders' } }))
      ).status,
    ).toBe(200);
    expect((await request(labelled).get('/r').set(signedHeaders())).status).toBe(200);
    expect(
      (
        await request(nonces)
          .get('/r')
          .set(signedHeaders({}, { params: { nonce: true } }))
      ).status,
    ).toBe(200);
    const query = signedHeaders({ path: '/r?id=1' }, { components: ['@method', '@authority', '@target-uri', '"@query-param";name="id"'] });
    expect((await request(app).get('/r?id=1').set(query)).status).toBe(200);
    const field = signedHeaders({ headers: { 'x-account': 'me' } }, { components: ['@method', '@authority', '@target-uri', 'x-account'] });
    expect((await request(app).get('/r').set(field)).status).toBe(200);
    const rsaPss = signedHeaders({}, { key: rsa.privateKey, algorithm: 'rsa-pss-sha512', keyId: 'rsa-pss-1', params: { alg: true } });
    expect((await request(app).get('/r').set(rsaPss)).status).toBe(200);
  });

  it.each(ROWS.map((row) => [row.attack, row] as const))('%s', async (_, row) => {
    const res = await send(row);
    expect({ status: res.status, reason: (res.body as { reason?: string }).reason }).toEqual({ status: row.status, reason: row.reason });
    expect((res.body as { principal?: unknown }).principal).toBeUndefined();
    if (res.status === 401) expect(res.headers['www-authenticate']).toMatch(/^Signature/);
  });

  it('a replayed nonce is refused by the same instance', async () => {
    const headers = signedHeaders({}, { params: { nonce: 'once' } });
    expect((await request(app).get('/r').set(headers)).status).toBe(200);
    const again = await request(app).get('/r').set(headers);
    expect({ status: again.status, reason: (again.body as { reason?: string }).reason }).toEqual({ status: 401, reason: 'replayed' });
  });

  it('by default (nonce optional) a signature without a nonce is accepted again, the same request, inside its window; nonce: "required" refuses it', async () => {
    const headers = signedHeaders();
    const twice = [(await request(app).get('/r').set(headers)).status, (await request(app).get('/r').set(headers)).status];
    const strict = signedApp({ nonce: 'required' });
    const refused = await request(strict).get('/r').set(headers);
    expect([...twice, refused.status, (refused.body as { reason?: string }).reason]).toEqual([200, 200, 401, 'nonce_missing']);
  });

  it('the challenge names the uncovered components readably (no quotes for the header to mangle)', async () => {
    const res = await request(app)
      .get('/r')
      .set(signedHeaders({}, { components: ['@method'] }));
    expect([res.status, res.headers['www-authenticate']]).toEqual([
      401,
      'Signature error="invalid_signature", error_description="The signature must cover @authority, @target-uri."',
    ]);
  });

  it('a refused request does not use its nonce up', async () => {
    const headers = signedHeaders(
      { headers: { 'x-account': 'me' } },
      { params: { nonce: 'kept' }, components: ['@method', '@authority', '@target-uri', 'x-account'] },
    );
    expect(
      (
        await request(app)
          .get('/r')
          .set({ ...headers, 'x-account': 'victim' })
      ).status,
    ).toBe(401);
    expect((await request(app).get('/r').set(headers)).status).toBe(200);
  });
});
