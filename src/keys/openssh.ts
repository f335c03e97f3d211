/**
 * OpenSSH public key lines (`ssh-rsa AAAA… comment`, `ssh-ed25519 AAAA… comment`) as KeyObjects.
 * Node's `createPublicKey` cannot read them, so the RFC 4253 §6.6 / RFC 8709 wire blob is decoded
 * here and handed to Node as a JWK.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { keyFamily, KeyImportError } from './import.js';

/** A parsed OpenSSH public key line. */
export interface OpenSshPublicKey {
  /** The public key. */
  readonly key: KeyObject;
  /** `ssh-rsa` or `ssh-ed25519`. */
  readonly type: 'ssh-rsa' | 'ssh-ed25519';
  /** The comment (third field), when present. */
  readonly comment: string | undefined;
}

const LINE = /^(ssh-rsa|ssh-ed25519)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/;

/** True when `text` looks like an OpenSSH public key line (not necessarily a valid one). */
export function isOpenSshPublicKey(text: string): boolean {
  return /^ssh-[a-z0-9-]+\s/.test(text.trim());
}

/** Reads RFC 4251 `string`/`mpint` fields: uint32 big-endian length, then that many bytes. */
function readFields(blob: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  let offset = 0;
  while (offset < blob.length) {
    if (offset + 4 > blob.length) throw new KeyImportError('key_unreadable', 'truncated OpenSSH key blob');
    const length = blob.readUInt32BE(offset);
    offset += 4;
    if (length > blob.length - offset) throw new KeyImportError('key_unreadable', 'truncated OpenSSH key blob');
    fields.push(blob.subarray(offset, offset + length));
    offset += length;
  }
  return fields;
}

/** An mpint is two's complement; public exponents and moduli are positive, so drop the sign byte. */
function unsignedMpint(value: Buffer): Buffer {
  if (value.length === 0 || (value[0] as number) & 0x80) throw new KeyImportError('key_unreadable', 'invalid RSA integer in OpenSSH key');
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  return value.subarray(start);
}

/**
 * Parses one OpenSSH public key line into a KeyObject. Rejects other key types, a type inside the
 * blob that differs from the line's prefix, and trailing or missing fields.
 * @throws KeyImportError naming what is wrong.
 */
export function parseOpenSshPublicKey(line: string): OpenSshPublicKey {
  const match = LINE.exec(line.trim());
  if (!match) {
    const type = /^(\S+)/.exec(line.trim())?.[1];
    if (type?.startsWith('ssh-') || type?.startsWith('ecdsa-'))
      throw new KeyImportError('key_unsupported', 'only ssh-rsa and ssh-ed25519 OpenSSH keys are supported');
    throw new KeyImportError('key_unreadable', 'not an OpenSSH public key line');
  }
  const type = match[1] as OpenSshPublicKey['type'];
  const comment = match[3]?.trim() || undefined;
  const blob = Buffer.from(match[2] as string, 'base64');
  const fields = readFields(blob);
  if (fields[0]?.toString('latin1') !== type) throw new KeyImportError('key_unreadable', 'OpenSSH key type does not match its blob');
  let jwk: Record<string, string>;
  if (type === 'ssh-rsa') {
    if (fields.length !== 3) throw new KeyImportError('key_unreadable', 'an ssh-rsa blob has exactly e and n');
    jwk = {
      kty: 'RSA',
      e: unsignedMpint(fields[1] as Buffer).toString('base64url'),
      n: unsignedMpint(fields[2] as Buffer).toString('base64url'),
    };
  } else {
    if (fields.length !== 2 || fields[1]?.length !== 32)
      throw new KeyImportError('key_unreadable', 'an ssh-ed25519 blob has one 32-byte key');
    jwk = { kty: 'OKP', crv: 'Ed25519', x: (fields[1] as Buffer).toString('base64url') };
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new KeyImportError('key_unreadable', 'could not build a key from the OpenSSH blob', cause);
  }
  keyFamily(key);
  return { key, type, comment };
}
