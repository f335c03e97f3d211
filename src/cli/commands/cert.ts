/**
 * `authnz cert ca|server|client`: a development CA, and TLS server and client certificates it
 * issues (SPIFFE URI SAN, DNS, IP and email SANs), as PEM files, for local mutual TLS.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { certificateThumbprint } from '../../lib/client-certificate.js';
import { createCertificate, type SubjectAltNames } from '../../lib/x509.js';
import { importPrivateKey } from '../../keys/import.js';
import { isSpiffeId } from '../../schemes/client-certificate/scheme.js';
import { readPassphrase } from '../args.js';
import { CliUsageError, JSON_OPTION, PASSPHRASE_OPTION, type CliArgs, type CliCommand, type CliOption } from '../types.js';
import { generateKeyPair, writePrivateKeyFile } from './keygen.js';

/** What a certificate command makes. */
export type CertificateKind = 'ca' | 'server' | 'client';

/** What {@link issueDevCertificate} takes. */
export interface DevCertificateInit {
  readonly kind: CertificateKind;
  readonly commonName: string;
  /** The issuing CA; absent for `ca` (self-signed). */
  readonly issuer?: { readonly certificate: X509Certificate; readonly privateKey: KeyObject };
  readonly subjectAltNames?: SubjectAltNames;
  readonly lifetimeSeconds: number;
  /** Key type; default `ec` (P-256). */
  readonly type?: 'ec' | 'ed25519';
}

/** A certificate and its private key, as PEM. */
export interface DevCertificate {
  readonly cert: string;
  readonly key: string;
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
}

/** Makes a key pair and a certificate for it (the CLI's and the example app's one way to do it). */
export function issueDevCertificate(init: DevCertificateInit): DevCertificate {
  const { privateKey, publicKey } = generateKeyPair(init.type ?? 'ec');
  // A minute in the past: a client whose clock is slightly behind still accepts it at once.
  const now = Date.now() - 60_000;
  const certificate = createCertificate({
    commonName: init.commonName,
    publicKey,
    signingKey: init.issuer?.privateKey ?? privateKey,
    ...(init.issuer === undefined ? {} : { issuer: init.issuer.certificate }),
    ca: init.kind === 'ca',
    // A CA without extKeyUsage issues for any purpose (its server and its client certificates).
    ...(init.kind === 'ca' ? {} : { usages: init.kind === 'server' ? ['serverAuth'] : ['clientAuth'] }),
    ...(init.subjectAltNames === undefined ? {} : { subjectAltNames: init.subjectAltNames }),
    notBefore: new Date(now),
    notAfter: new Date(now + 60_000 + init.lifetimeSeconds * 1000),
  });
  return { cert: certificate.toString(), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certificate, privateKey };
}

/** The file names `authnz cert … --out DIR --name NAME` writes. */
export function certFileNames(name: string): { cert: string; key: string } {
  return { cert: `${name}.pem`, key: `${name}_private.pem` };
}

/** Writes a certificate and its key (mode 0600, also over an existing file) into `dir`. */
export function writeDevCertificate(dir: string, name: string, made: DevCertificate): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const files = certFileNames(name);
  const cert = join(dir, files.cert);
  const key = join(dir, files.key);
  writePrivateKeyFile(key, made.key);
  writeFileSync(cert, made.cert, { mode: 0o644 });
  return { cert, key };
}

const DAY = 86_400;

const common: CliOption[] = [
  { name: 'out', value: 'DIR', required: true, help: 'write NAME.pem and NAME_private.pem (mode 0600) into DIR' },
  { name: 'name', value: 'NAME', help: 'file name stem (default: the command: ca, server, client)' },
  { name: 'common-name', value: 'CN', help: 'subject common name' },
  { name: 'lifetime-seconds', value: 'DURATION', help: 'validity: seconds, or 90s, 15m, 12h, 30d' },
  { name: 'type', value: 'ec|ed25519', help: 'key type (default ec: P-256, what every TLS client takes)' },
];
const issuing: CliOption[] = [
  { name: 'ca-cert', value: 'FILE', required: true, help: 'the CA certificate (authnz cert ca)' },
  { name: 'ca-private-key', value: 'FILE', required: true, help: "the CA's private key" },
  PASSPHRASE_OPTION,
  { name: 'dns', value: 'NAME', list: true, help: 'DNS subject alternative names' },
  { name: 'ip', value: 'ADDRESS', list: true, help: 'IP address subject alternative names' },
];

function readCa(args: CliArgs): { certificate: X509Certificate; privateKey: KeyObject } {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readFileSync(args.required('ca-cert')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    throw new CliUsageError('--ca-cert must be a PEM certificate');
  }
  if (!certificate.ca) throw new CliUsageError('--ca-cert is not a CA certificate');
  const privateKey = importPrivateKey(readFileSync(args.required('ca-private-key')), readPassphrase(args));
  if (!certificate.checkPrivateKey(privateKey)) throw new CliUsageError("--ca-private-key is not the CA certificate's key");
  return { certificate, privateKey };
}

function names(args: CliArgs, kind: CertificateKind): SubjectAltNames {
  const ip = args.list('ip');
  for (const address of ip) if (isIP(address) === 0) throw new CliUsageError(`--ip must be an IP address (got ${JSON.stringify(address)})`);
  const dns = args.list('dns');
  for (const name of dns)
    if (!/^(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/.test(name))
      throw new CliUsageError(`--dns must be a DNS name (got ${JSON.stringify(name)})`);
  if (kind !== 'client') return { dns, ip };
  const spiffe = args.string('spiffe-id');
  if (spiffe !== undefined && !isSpiffeId(spiffe))
    throw new CliUsageError('--spiffe-id must be a SPIFFE ID: spiffe://trust-domain/path (lower-case trust domain, no trailing /)');
  const email = args.list('email');
  return { dns, ip, uri: spiffe === undefined ? [] : [spiffe], email };
}

function certCommand(kind: CertificateKind, summary: string, options: CliOption[], description: string, example: string): CliCommand {
  return {
    path: ['cert', kind],
    summary,
    description,
    options: [...common, ...options, JSON_OPTION],
    examples: [example],
    async run(args, io) {
      const name = args.string('name') ?? kind;
      if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new CliUsageError('--name may use letters, digits, ".", "_" and "-"');
      const type = args.choice('type', ['ec', 'ed25519'] as const, 'ec');
      const lifetimeSeconds = args.seconds('lifetime-seconds') ?? (kind === 'ca' ? 365 * DAY : 30 * DAY);
      const subjectAltNames = kind === 'ca' ? undefined : names(args, kind);
      if (kind === 'server' && subjectAltNames?.dns?.length === 0 && subjectAltNames.ip?.length === 0)
        throw new CliUsageError('a server certificate needs --dns or --ip (what clients connect to)');
      const made = issueDevCertificate({
        kind,
        commonName: args.string('common-name') ?? subjectAltNames?.uri?.[0] ?? subjectAltNames?.dns?.[0] ?? `authnz development ${kind}`,
        ...(kind === 'ca' ? {} : { issuer: readCa(args) }),
        ...(subjectAltNames === undefined ? {} : { subjectAltNames }),
        lifetimeSeconds,
        type,
      });
      const files = writeDevCertificate(args.required('out'), name, made);
      const thumbprint = certificateThumbprint(made.certificate);
      if (args.flag('json'))
        io.out(
          `${JSON.stringify({ certFile: files.cert, privateKeyFile: files.key, 'x5t#S256': thumbprint, notAfter: made.certificate.validTo })}\n`,
        );
      else {
        io.err(`wrote ${files.cert}\nwrote ${files.key}\n`);
        io.out(`x5t#S256 ${thumbprint}\n`);
      }
      return 0;
    },
  };
}

/** `authnz cert ca`. */
export const certCaCommand = certCommand(
  'ca',
  'make a development CA certificate and key (mutual TLS)',
  [],
  'Writes a self-signed CA certificate (default one year) and its private key. Give the certificate to\nservers as the CA clients must chain to (ca), and to clients as the CA of the server.',
  'authnz cert ca --out certs   # certs/ca.pem, certs/ca_private.pem',
);

/** `authnz cert server`. */
export const certServerCommand = certCommand(
  'server',
  'make a TLS server certificate issued by a development CA',
  issuing,
  'Writes a server certificate (extended key usage serverAuth, default 30 days) for the --dns names and\n--ip addresses clients connect to, issued by the CA of --ca-cert and --ca-private-key.',
  'authnz cert server --ca-cert certs/ca.pem --ca-private-key certs/ca_private.pem --dns localhost --ip 127.0.0.1 --out certs',
);

/** `authnz cert client`. */
export const certClientCommand = certCommand(
  'client',
  'make a TLS client certificate (SPIFFE ID, DNS, email SANs) issued by a development CA',
  [
    ...issuing,
    { name: 'spiffe-id', value: 'ID', help: 'the SPIFFE ID (spiffe://trust-domain/path), the one URI SAN of an X.509-SVID' },
    { name: 'email', value: 'ADDRESS', list: true, help: 'email (rfc822Name) subject alternative names' },
  ],
  'Writes a client certificate (extended key usage clientAuth, default 30 days) issued by the CA of\n--ca-cert and --ca-private-key, and prints its RFC 8705 thumbprint (x5t#S256).',
  'authnz cert client --ca-cert certs/ca.pem --ca-private-key certs/ca_private.pem --spiffe-id spiffe://example.org/ns/prod/sa/billing --name billing --out certs',
);
