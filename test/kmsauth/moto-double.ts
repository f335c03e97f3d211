/**
 * Test-only KMS double reading moto's blob format (reference §9): key uuid (36) | iv (12) | tag (16) |
 * AES-256-GCM ciphertext, AAD = concatenation of key+value over the context sorted by key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KmsClientLike } from '../../src/index.js';

export interface VectorFile {
  frozen_generation_time_utc: string;
  to_auth_context: string;
  account: string;
  keys: Record<string, { KeyId: string; Arn: string; key_material_hex: string }>;
  vectors: Array<{
    label: string;
    token_version: number;
    auth_key: string;
    username: string;
    generator_auth_context: Record<string, string>;
    validator_decrypt_encryption_context: Record<string, string>;
    plaintext: string;
    not_before: string;
    not_after: string;
    token: string;
    http_basic_authorization: string;
    http_headers: Record<string, string>;
    validation_by_real_kmsauth_with_frozen_now: Record<string, { ok: true; key_alias: string } | { ok: false; error: string }>;
  }>;
}

const here = dirname(fileURLToPath(import.meta.url));
export const vectors = JSON.parse(readFileSync(join(here, '../fixtures/kmsauth/python-kmsauth-0.6.3.json'), 'utf8')) as VectorFile;

class NamedError extends Error {
  constructor(name: string) {
    super(name);
    this.name = name;
  }
}

function aad(context: Readonly<Record<string, string>>): Buffer {
  return Buffer.concat(
    Object.keys(context)
      .sort()
      .map((k) => Buffer.from(k + context[k], 'utf8')),
  );
}

export interface MotoDouble extends KmsClientLike {
  calls: { decrypt: number; describeKey: number; encrypt: number };
}

export function motoDouble(file: VectorFile = vectors): MotoDouble {
  const keys = Object.entries(file.keys);
  const calls = { decrypt: 0, describeKey: 0, encrypt: 0 };
  const find = (ref: string) =>
    keys.find(([alias, k]) => ref === alias || ref === k.KeyId || ref === k.Arn || ref === k.Arn.replace(/key\/.*$/, alias))?.[1];
  return {
    calls,
    async decrypt({ CiphertextBlob, EncryptionContext }) {
      calls.decrypt++;
      const blob = Buffer.from(CiphertextBlob);
      const key = keys.find(([, k]) => k.KeyId === blob.subarray(0, 36).toString('ascii'))?.[1];
      if (!key) throw new NamedError('AccessDeniedException');
      try {
        const d = createDecipheriv('aes-256-gcm', Buffer.from(key.key_material_hex, 'hex'), blob.subarray(36, 48));
        d.setAuthTag(blob.subarray(48, 64));
        d.setAAD(aad(EncryptionContext));
        const plaintext = Buffer.concat([d.update(blob.subarray(64)), d.final()]);
        return { KeyId: key.Arn, Plaintext: new Uint8Array(plaintext) };
      } catch {
        throw new NamedError('InvalidCiphertextException');
      }
    },
    async describeKey({ KeyId }) {
      calls.describeKey++;
      const key = find(KeyId);
      if (!key) throw new NamedError('NotFoundException');
      return { KeyMetadata: { Arn: key.Arn } };
    },
    async encrypt({ KeyId, Plaintext, EncryptionContext }) {
      calls.encrypt++;
      const key = find(KeyId);
      if (!key) throw new NamedError('NotFoundException');
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', Buffer.from(key.key_material_hex, 'hex'), iv);
      c.setAAD(aad(EncryptionContext));
      const ct = Buffer.concat([c.update(Plaintext), c.final()]);
      return { CiphertextBlob: new Uint8Array(Buffer.concat([Buffer.from(key.KeyId, 'ascii'), iv, c.getAuthTag(), ct])) };
    },
  };
}

export const T0 = Date.parse(vectors.frozen_generation_time_utc);

/** Instant label → epoch ms for one vector (reference §9). */
export function instant(label: string, notAfter: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(notAfter);
  const na = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
  switch (label) {
    case 'at generation time':
      return T0;
    case '+6m59s':
      return T0 + 419_000;
    case 'not_after exactly':
      return na;
    case 'not_after + 1s':
      return na + 1000;
    case '-3m (== not_before)':
      return T0 - 180_000;
    case '-3m1s (before not_before)':
      return T0 - 181_000;
    default:
      throw new Error(`unknown instant ${label}`);
  }
}
