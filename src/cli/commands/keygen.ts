/** `authnz keygen`: makes RSA, Ed25519 or EC P-256 key pairs as PEM or JWK. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwkThumbprint } from '../../keys/thumbprint.js';
import { keyFingerprint } from '../../schemes/asymmetric-jwt/format.js';
import { CliUsageError, JSON_OPTION, type CliCommand } from '../types.js';

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

/**
 * Writes a private key file with mode 0600. `writeFileSync`'s mode applies only when it creates the
 * file: an existing 0644 file would keep its mode and receive the new key, so it is tightened first.
 */
export function writePrivateKeyFile(path: string, pem: string): void {
  try {
    chmodSync(path, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  writeFileSync(path, pem, { mode: 0o600 });
}

/** The file names `keygen --out DIR --name NAME` writes (the docs use the same names). */
export function keygenFileNames(name: string, format: 'pem' | 'jwk'): { privateKey: string; publicKey: string } {
  return { privateKey: `${name}_private.${format}`, publicKey: `${name}_public.${format}` };
}

export const keygenCommand: CliCommand = {
  path: ['keygen'],
  summary: 'make a key pair (RSA, Ed25519, EC P-256; PEM or JWK)',
  description: [
    'Without --out, prints the private key, then the public key, on stdout, and the two identifiers on',
    'stderr. With --out, writes NAME_private.{pem,jwk} (mode 0600) and NAME_public.{pem,jwk} into DIR',
    'and prints the identifiers on stdout:',
    '  kid          RFC 7638 JWK thumbprint: the "kid" of JWKs and of publishJwks()/authnz jwks',
    '  fingerprint  asymmetric_jwt_auth fingerprint (SHA-256 of the SPKI PEM): the "kid" that',
    '               createAuthHeader() / authnz jwt header send',
  ].join('\n'),
  options: [
    { name: 'type', value: 'rsa|ed25519|ec', help: 'key type (default rsa)' },
    { name: 'bits', value: 'N', help: 'RSA modulus size, 2048 or more (default 2048)' },
    { name: 'format', value: 'pem|jwk', help: 'file format (default pem)' },
    { name: 'out', value: 'DIR', help: 'write the two files into DIR (created if needed)' },
    { name: 'name', value: 'NAME', help: 'file name stem with --out (default: the type)' },
    JSON_OPTION,
  ],
  examples: ['authnz keygen --type ed25519 --out keys --name svc-client   # keys/svc-client_private.pem, keys/svc-client_public.pem'],
  async run(args, io) {
    const type = args.choice('type', ['rsa', 'ed25519', 'ec'] as const, 'rsa');
    const format = args.choice('format', ['pem', 'jwk'] as const, 'pem');
    const bits = args.integer('bits', 2048, { min: 2048, max: 16384 });
    const out = args.string('out');
    const name = args.string('name') ?? type;
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new CliUsageError('--name may use letters, digits, ".", "_" and "-"');
    if (args.string('name') !== undefined && out === undefined) throw new CliUsageError('--name needs --out');
    const { privateKey, publicKey } = generateKeyPair(type, bits);
    const ids = { kid: jwkThumbprint(publicKey), fingerprint: keyFingerprint(publicKey) };
    const [priv, pub] =
      format === 'pem'
        ? [privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey.export({ format: 'pem', type: 'spki' }).toString()]
        : [
            JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: ids.kid }, null, 2) + '\n',
            JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: ids.kid }, null, 2) + '\n',
          ];
    const labels = `kid ${ids.kid}\nfingerprint ${ids.fingerprint}\n`;
    if (out === undefined) {
      if (args.flag('json')) io.out(JSON.stringify({ type, format, privateKey: priv, publicKey: pub, ...ids }, null, 2) + '\n');
      else {
        io.out(priv + pub);
        io.err(labels);
      }
      return 0;
    }
    mkdirSync(out, { recursive: true });
    const files = keygenFileNames(name, format);
    const privPath = join(out, files.privateKey);
    const pubPath = join(out, files.publicKey);
    writePrivateKeyFile(privPath, priv);
    writeFileSync(pubPath, pub, { mode: 0o644 });
    if (args.flag('json'))
      io.out(JSON.stringify({ type, format, privateKeyFile: privPath, publicKeyFile: pubPath, ...ids }, null, 2) + '\n');
    else {
      io.err(`wrote ${privPath}\nwrote ${pubPath}\n`);
      io.out(labels);
    }
    return 0;
  },
};
