/**
 * The directory's own signature: `publishKeyDirectory` served over real https on loopback and read
 * back by the resolver with `checkDirectorySignatures`; a directory that is unsigned, signed by a
 * key it does not list, copied under another authority, expired, or whose body was changed
 * after signing is refused; a key that did not sign is not used. Cloudflare's
 * `directoryResponseHeaders` signs a directory that the resolver accepts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signerFromJWK } from 'web-bot-auth/crypto';
import { jwkThumbprint } from '../../src/keys/thumbprint.js';
import {
  DIRECTORY_MEDIA_TYPE,
  DIRECTORY_PATH,
  KeyDirectoryResolver,
  type KeyDirectoryOptions,
} from '../../src/protocols/http-signatures/directory.js';
import { checkDirectorySignatures } from '../../src/protocols/http-signatures/directory-signature.js';
import { contentDigest } from '../../src/protocols/http-signatures/digest.js';
import { httpMessage } from '../../src/protocols/http-signatures/message.js';
import { signMessage } from '../../src/protocols/http-signatures/sign.js';
import { publishKeyDirectory, type PublishKeyDirectoryOptions } from '../../src/schemes/http-signature/publish-directory.js';
import { cloudflareDirectory, listenTls, refusal, testPki, type TlsServer } from './tls.js';

const a = generateKeyPairSync('ed25519');
const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ed25519');

let answer: (req: IncomingMessage, res: ServerResponse) => void;
let server: TlsServer;
beforeAll(async () => {
  server = await listenTls((req, res) => answer(req, res));
});
afterAll(async () => {
  await server.close();
});

const origin = (name = 'dir.test'): string => `https://${name}:${server.port}`;
const notFound = (_req: IncomingMessage, res: ServerResponse): void => {
  res.statusCode = 404;
  res.end();
};

function publish(options: Partial<PublishKeyDirectoryOptions> = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const middleware = publishKeyDirectory({ keys: [a.privateKey, b.privateKey], origins: [origin(), origin('agent.test')], ...options });
  return (req, res) => middleware(req, res, () => notFound(req, res));
}

function resolver(options: KeyDirectoryOptions = {}): KeyDirectoryResolver {
  return new KeyDirectoryResolver(
    {
      extraCa: testPki().caCert,
      timeoutMs: 10_000,
      allowPrivateAddresses: true,
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
      ...options,
    },
    checkDirectorySignatures,
  );
}

const thumb = (key: KeyObject): string => jwkThumbprint(key);

describe('a directory published by publishKeyDirectory', () => {
  it('serves the media type, cache headers, a Content-Digest and one signature per key, and resolves', async () => {
    answer = publish();
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      import('node:https')
        .then(({ get }) =>
          get(
            {
              host: '127.0.0.1',
              port: server.port,
              servername: 'dir.test',
              path: DIRECTORY_PATH,
              headers: { host: `dir.test:${server.port}` },
              ca: testPki().caCert,
            },
            resolve,
          ).on('error', reject),
        )
        .catch(reject);
    });
    response.resume();
    expect(response.headers['content-type']).toBe(DIRECTORY_MEDIA_TYPE);
    expect(response.headers['cache-control']).toBe('public, max-age=3600');
    expect(response.headers['content-digest']).toMatch(/^sha-256=:[A-Za-z0-9+/]+=*:$/);
    expect(response.headers['signature-input']).toContain('binding1=("@authority";req "content-digest")');
    expect(response.headers['signature-input']).toContain('tag="http-message-signatures-directory"');
    const keys = await resolver().resolve(origin());
    expect([...keys.keys.keys()].sort()).toEqual([thumb(a.publicKey), thumb(b.publicKey)].sort());
  });

  it('a request naming a Host it does not serve is answered 421, not signed', async () => {
    answer = publish({ origins: [origin('agent.test')] });
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_invalid');
  });

  it('without signatures the directory is refused', async () => {
    const inner = publish();
    answer = (req, res) => {
      const set = res.setHeader.bind(res);
      res.setHeader = (name: string, value: number | string | readonly string[]) => (/^signature/i.test(name) ? res : set(name, value));
      inner(req, res);
    };
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_signature_invalid');
    await expect(resolver({ requireSignature: false }).resolve(origin())).resolves.toBeDefined();
  });

  it('a key the directory lists but that did not sign is not used; the one that signed is', async () => {
    const body = JSON.stringify({
      keys: [a.publicKey, stranger.publicKey].map((k) => ({ ...k.export({ format: 'jwk' }), kid: thumb(k) })),
    });
    const digest = contentDigest(body);
    answer = (req, res) => {
      const request = httpMessage({ method: 'GET', url: `https://${req.headers.host ?? ''}${DIRECTORY_PATH}` });
      const created = Math.floor(Date.now() / 1000);
      const signed = signMessage({
        message: httpMessage({ status: 200, headers: { 'content-digest': digest }, request }),
        components: ['"@authority";req', 'content-digest'],
        key: { key: a.privateKey, keyId: thumb(a.publicKey) },
        label: 'binding0',
        params: { created, expires: created + 60, tag: 'http-message-signatures-directory' },
      });
      res.writeHead(200, {
        'content-type': DIRECTORY_MEDIA_TYPE,
        'content-digest': digest,
        'signature-input': signed.signatureInput,
        signature: signed.signature,
      });
      res.end(body);
    };
    const r = resolver();
    expect((await r.getKey(origin(), thumb(a.publicKey)))?.key.key.equals(a.publicKey)).toBe(true);
    expect(await r.getKey(origin(), thumb(stranger.publicKey))).toBeUndefined();
  });

  it('a signature by a key outside the directory proves nothing', async () => {
    const signer = publishKeyDirectory({ keys: [stranger.privateKey], origins: [origin()] });
    const honest = publish();
    answer = (req, res) => {
      // Headers from the stranger's publisher, body from the honest one.
      const headers = new Map<string, number | string | readonly string[]>();
      const capture = {
        setHeader: (n: string, v: number | string | readonly string[]) => headers.set(n.toLowerCase(), v),
        end: () => undefined,
        statusCode: 0,
      };
      signer(req, capture as unknown as ServerResponse, () => undefined);
      const set = res.setHeader.bind(res);
      res.setHeader = (name: string, value: number | string | readonly string[]) => {
        const lower = name.toLowerCase();
        return set(name, lower === 'signature' || lower === 'signature-input' ? (headers.get(lower) as string) : value);
      };
      honest(req, res);
    };
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_signature_invalid');
  });

  it('a directory signed for another authority (copied and re-served) is refused', async () => {
    const inner = publish();
    answer = (req, res) => {
      req.headers.host = `agent.test:${server.port}`;
      inner(req, res);
    };
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_signature_invalid');
  });

  it('an expired directory signature is refused', async () => {
    answer = publish({ cacheSeconds: 60, clock: () => Date.now() - 3_600_000 });
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_signature_invalid');
  });

  it('a body changed after signing fails its Content-Digest', async () => {
    const inner = publish();
    answer = (req, res) => {
      const set = res.setHeader.bind(res);
      res.setHeader = (name: string, value: number | string | readonly string[]) =>
        /^content-length$/i.test(name) ? set(name, Number(value) + 1) : set(name, value);
      const end = res.end.bind(res) as (chunk?: string) => ServerResponse;
      res.end = ((chunk?: string) => end(chunk === undefined ? undefined : `${chunk} `)) as typeof res.end;
      inner(req, res);
    };
    expect((await refusal(resolver().resolve(origin()))).reason).toBe('directory_signature_invalid');
  });
});

describe("cloudflare's web-bot-auth directory signatures", () => {
  it('a directory signed with directoryResponseHeaders (their format) resolves', async () => {
    const jwk = a.privateKey.export({ format: 'jwk' });
    expect((await signerFromJWK(jwk)).keyid).toBe(thumb(a.publicKey));
    answer = await cloudflareDirectory(jwk);
    const found = await resolver().getKey(origin(), thumb(a.publicKey));
    expect(found?.key.key.equals(a.publicKey)).toBe(true);
  });
});
