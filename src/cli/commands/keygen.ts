/** `authnz keygen`: makes RSA, Ed25519 or EC P-256 key pairs as PEM or JWK. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { jwkThumbprint } from '../../keys/thumbprint.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, CliUsageError, type CliCommand } from '../types.js';

/** Key types `keygen` makes. */
export type KeygenType = 'rsa' | 'ed25519' | 'ec';

/** Generates a key pair of a type (RSA 2048 bits unless `rsaBits` says more). */
export function generateKeyPair(type: KeygenType, rsaBits = 2048): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (type) {
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: rsaBits });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'ec':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  }
}

const USAGE = `usage: authnz keygen [--type rsa|ed25519|ec] [--bits 2048|3072|4096] [--format pem|jwk] [--out DIR] [--name NAME]

Prints a new key pair (private key first). With --out, writes NAME_private.{pem,jwk} (mode 0600)
and NAME_public.{pem,jwk} into DIR instead. JWKs carry their RFC 7638 thumbprint as "kid".`;

export const keygenCommand: CliCommand = {
  path: ['keygen'],
  summary: 'make a key pair (RSA, Ed25519, EC P-256; PEM or JWK)',
  usage: USAGE,
  async run(args, io) {
    const { options } = parseArgs(args);
    const type = (options.get('type')?.[0] ?? 'rsa') as KeygenType;
    if (!['rsa', 'ed25519', 'ec'].includes(type)) throw new CliUsageError(`unknown --type ${type}`);
    const format = options.get('format')?.[0] ?? 'pem';
    if (format !== 'pem' && format !== 'jwk') throw new CliUsageError(`unknown --format ${format}`);
    const bits = Number(options.get('bits')?.[0] ?? 2048);
    if (!Number.isInteger(bits) || bits < 2048) throw new CliUsageError('--bits must be 2048 or more');
    const { privateKey, publicKey } = generateKeyPair(type, bits);
    const kid = jwkThumbprint(publicKey);
    const [priv, pub] =
      format === 'pem'
        ? [privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey.export({ format: 'pem', type: 'spki' }).toString()]
        : [JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid }, null, 2) + '\n', JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid }, null, 2) + '\n'];
    const out = options.get('out')?.[0];
    if (out === undefined) {
      io.out(priv + pub);
      return 0;
    }
    const name = options.get('name')?.[0] ?? type;
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new CliUsageError('--name may use letters, digits, ".", "_" and "-"');
    mkdirSync(out, { recursive: true });
    const privPath = join(out, `${name}_private.${format}`);
    const pubPath = join(out, `${name}_public.${format}`);
    writeFileSync(privPath, priv, { mode: 0o600 });
    writeFileSync(pubPath, pub, { mode: 0o644 });
    io.out(`wrote ${privPath}\nwrote ${pubPath}\nkid ${kid}\n`);
    return 0;
  },
};
