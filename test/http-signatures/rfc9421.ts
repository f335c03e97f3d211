/**
 * RFC 9421's test material for the suites: the Appendix B.1 keys (test/fixtures/rfc9421/) and the
 * test request of §2.4 / Appendix B.2.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HttpMessageInit } from '../../src/index.js';

const dir = fileURLToPath(new URL('../fixtures/rfc9421/', import.meta.url));

/** A fixture file's text. */
export const fixtureText = (name: string): string => readFileSync(`${dir}${name}`, 'utf8');
/** A B.1 public key by its keyid. */
export const rfcPublicKey = (keyId: string): KeyObject => createPublicKey(fixtureText(`${keyId}.pub.pem`));
/** A B.1 private key by its keyid. */
export const rfcPrivateKey = (keyId: string): KeyObject => createPrivateKey(fixtureText(`${keyId}.pem`));

/** The Content-Digest of the test request's body `{"hello": "world"}`. */
export const REQUEST_DIGEST = 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:';

/** The test request (B.2), with `extra` header fields. */
export function testRequest(extra: Readonly<Record<string, string>> = {}): HttpMessageInit {
  return {
    method: 'POST',
    url: 'https://example.com/foo?param=Value&Pet=dog',
    headers: {
      Host: 'example.com',
      Date: 'Tue, 20 Apr 2021 02:07:55 GMT',
      'Content-Type': 'application/json',
      'Content-Digest': REQUEST_DIGEST,
      'Content-Length': '18',
      ...extra,
    },
  };
}
