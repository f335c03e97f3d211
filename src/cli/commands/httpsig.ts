/**
 * `authnz httpsig sign` and `authnz httpsig verify`: RFC 9421 HTTP Message Signatures from the
 * shell. `sign` prints curl-ready `-H` lines for one request; `verify` reads a request's header
 * lines and says whether its signature verifies, or which check failed.
 */
import { readFileSync } from 'node:fs';
import { isAuthError } from '../../errors.js';
import { importPrivateKey, importPublicKey } from '../../keys/import.js';
import { contentDigestMatches } from '../../protocols/http-signatures/directory-signature.js';
import { httpMessage } from '../../protocols/http-signatures/message.js';
import { createRequestSigner } from '../../protocols/http-signatures/signed-fetch.js';
import { HTTP_SIGNATURE_ALGORITHMS, type HttpSignatureAlgorithm } from '../../protocols/http-signatures/structured.js';
import { DEFAULT_REQUIRED_COMPONENTS, verifyMessage } from '../../protocols/http-signatures/verify.js';
import { readPassphrase, requestTarget } from '../args.js';
import { CliUsageError, JSON_OPTION, PASSPHRASE_OPTION, type CliArgs, type CliCommand } from '../types.js';

const ASYMMETRIC = HTTP_SIGNATURE_ALGORITHMS.filter((a) => a !== 'hmac-sha256');

/** `--header 'Name: value'` lines (and, where the command has it, a `--headers-file` of such lines) as field lines. */
function headerLines(args: CliArgs, withFile: boolean): Array<readonly [string, string]> {
  const file = withFile ? args.string('headers-file') : undefined;
  const lines = [...(file === undefined ? [] : readFileSync(file, 'utf8').split(/\r?\n/)), ...args.list('header')];
  const out: Array<readonly [string, string]> = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new CliUsageError(`a header line must read 'Name: value' (got '${line.slice(0, 40)}')`);
    out.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return out;
}

/** A value quoted for a POSIX shell. */
const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

const HEADER_OPTION = { name: 'header', value: "'NAME: VALUE'", repeat: true, help: 'a header field of the request (repeatable)' } as const;
const BODY_OPTION = { name: 'body-file', value: 'FILE', help: 'the request body (its Content-Digest is signed / checked)' } as const;
const ALGORITHM_OPTION = {
  name: 'algorithm',
  value: 'ALG',
  help: `the algorithm (${ASYMMETRIC.join(', ')}); needed for RSA keys`,
} as const;

/** The `authnz httpsig sign` command. */
export const httpSigSignCommand: CliCommand = {
  path: ['httpsig', 'sign'],
  summary: 'sign one request (RFC 9421) and print curl -H lines',
  description: [
    'Signs METHOD and URL (and the given header fields and body) with the private key in FILE and prints',
    'the header fields to send as curl -H arguments, one per line: Signature-Input, Signature, and',
    'Content-Digest when --body-file is given. With --signature-agent the request is signed as a Web Bot',
    'Auth agent: the Signature-Agent field is added and covered, the keyid is the JWK thumbprint and the',
    'tag is web-bot-auth. --json prints the fields as one JSON object instead.',
  ].join('\n'),
  options: [
    { name: 'private-key', value: 'FILE', required: true, help: 'the signing key (PEM or JWK)' },
    PASSPHRASE_OPTION,
    ALGORITHM_OPTION,
    { name: 'key-id', value: 'KEYID', help: 'the keyid parameter (default none; the JWK thumbprint with --signature-agent)' },
    { name: 'method', value: 'METHOD', help: 'HTTP method (default GET)' },
    { name: 'url', value: 'URL', required: true, help: 'the absolute URL of the request' },
    HEADER_OPTION,
    BODY_OPTION,
    {
      name: 'components',
      value: 'NAMES',
      list: true,
      help: 'components to cover (default @method @target-uri @authority, + content-digest)',
    },
    { name: 'lifetime-seconds', value: 'N', help: 'write expires = created + N' },
    { name: 'tag', value: 'TAG', help: 'the tag parameter' },
    { name: 'label', value: 'LABEL', help: 'the signature label (default sig1)' },
    { name: 'signature-agent', value: 'ORIGIN', help: 'your key directory origin: sign as a Web Bot Auth agent' },
    JSON_OPTION,
  ],
  examples: [
    'curl $(authnz httpsig sign --private-key bot.pem --url https://api.example.com/orders | xargs) https://api.example.com/orders',
    'authnz httpsig sign --private-key bot.pem --url https://site.example/ --signature-agent https://bot.example',
  ],
  async run(args, io) {
    const { method, url } = requestTarget(args);
    const algorithm = args.string('algorithm');
    if (algorithm !== undefined && !(ASYMMETRIC as readonly string[]).includes(algorithm))
      throw new CliUsageError(`--algorithm must be one of ${ASYMMETRIC.join(', ')}`);
    const key = importPrivateKey(readFileSync(args.required('private-key')), readPassphrase(args));
    const keyId = args.string('key-id');
    const components = args.list('components');
    const lifetime = args.seconds('lifetime-seconds');
    const tag = args.string('tag');
    const label = args.string('label');
    const agent = args.string('signature-agent');
    const bodyFile = args.string('body-file');
    const sign = createRequestSigner(
      {
        key: {
          key,
          ...(algorithm === undefined ? {} : { algorithm: algorithm as HttpSignatureAlgorithm }),
          ...(keyId === undefined ? {} : { keyId }),
        },
        ...(components.length === 0 ? {} : { components }),
        ...(lifetime === undefined ? {} : { lifetimeSeconds: lifetime }),
        ...(tag === undefined ? {} : { tag }),
        ...(label === undefined ? {} : { label }),
        ...(agent === undefined ? {} : { signatureAgent: agent }),
      },
      'authnz httpsig sign',
    );
    const fields = sign({
      method,
      url,
      headers: Object.fromEntries(headerLines(args, false)),
      ...(bodyFile === undefined ? {} : { body: readFileSync(bodyFile) }),
    });
    if (args.flag('json')) io.out(`${JSON.stringify(fields)}\n`);
    else for (const [name, value] of Object.entries(fields)) io.out(`-H ${shellQuote(`${name}: ${value}`)}\n`);
    return 0;
  },
};

/** The `authnz httpsig verify` command. */
export const httpSigVerifyCommand: CliCommand = {
  path: ['httpsig', 'verify'],
  summary: 'check the RFC 9421 signature of one request',
  description: [
    "Reads a request's header lines (--header, or --headers-file with one 'Name: value' per line) with its",
    'METHOD and URL, and checks its signature with the public key in FILE. Prints "verified" with the',
    'label, keyid and covered components and exits 0, or "refused" with the reason of the failed check',
    'and exits 1. With --body-file the body is checked against a covered Content-Digest.',
  ].join('\n'),
  options: [
    { name: 'public-key', value: 'FILE', required: true, help: 'the public key (PEM or JWK)' },
    ALGORITHM_OPTION,
    { name: 'method', value: 'METHOD', help: 'HTTP method (default GET)' },
    { name: 'url', value: 'URL', required: true, help: 'the absolute URL of the request' },
    // Before --header, so that a misspelt --headers-file is suggested as itself.
    { name: 'headers-file', value: 'FILE', help: "the request's header lines, one 'Name: value' per line" },
    HEADER_OPTION,
    BODY_OPTION,
    {
      name: 'required-components',
      value: 'NAMES',
      list: true,
      help: 'components the signature must cover (default @method @authority @target-uri)',
    },
    { name: 'tag', value: 'TAG', help: 'accept only a signature with this tag' },
    { name: 'label', value: 'LABEL', help: 'accept only the signature with this label' },
    { name: 'max-signature-age-seconds', value: 'N', help: 'oldest accepted created (default 300)' },
    { name: 'clock-tolerance-seconds', value: 'N', help: 'allowed clock difference (default 5)' },
    JSON_OPTION,
  ],
  examples: ['authnz httpsig verify --public-key bot.pub.pem --url https://api.example.com/orders --headers-file request-headers.txt'],
  async run(args, io) {
    const { method, url } = requestTarget(args);
    const algorithm = args.string('algorithm');
    if (algorithm !== undefined && !(ASYMMETRIC as readonly string[]).includes(algorithm))
      throw new CliUsageError(`--algorithm must be one of ${ASYMMETRIC.join(', ')}`);
    const key = importPublicKey(readFileSync(args.required('public-key')));
    const lines = headerLines(args, true);
    const joined = (name: string): string =>
      lines
        .filter(([n]) => n === name)
        .map(([, v]) => v)
        .join(', ');
    const required = args.list('required-components');
    const tag = args.string('tag');
    const label = args.string('label');
    const maxAge = args.seconds('max-signature-age-seconds');
    const tolerance = args.seconds('clock-tolerance-seconds');
    const bodyFile = args.string('body-file');
    const json = args.flag('json');
    try {
      const verified = await verifyMessage({
        message: httpMessage({ method, url, headers: lines }),
        signatureInput: joined('signature-input'),
        signature: joined('signature'),
        keyLookup: () => ({ key, ...(algorithm === undefined ? {} : { algorithms: [algorithm as HttpSignatureAlgorithm] }) }),
        requiredComponents: required.length === 0 ? DEFAULT_REQUIRED_COMPONENTS : required,
        ...(tag === undefined ? {} : { tag }),
        ...(label === undefined ? {} : { label }),
        ...(maxAge === undefined ? {} : { maxSignatureAgeSeconds: maxAge }),
        ...(tolerance === undefined ? {} : { clockToleranceSeconds: tolerance }),
      });
      if (verified.components.includes('"content-digest"')) {
        if (bodyFile === undefined) throw new CliUsageError('the signature covers content-digest: give the body with --body-file');
        if (!contentDigestMatches(joined('content-digest'), readFileSync(bodyFile))) {
          io.out(
            json
              ? `${JSON.stringify({ verified: false, reason: 'digest_mismatch' })}\n`
              : 'refused: digest_mismatch: the body does not match its Content-Digest\n',
          );
          return 1;
        }
      }
      const result = {
        verified: true,
        label: verified.label,
        keyid: verified.keyId,
        algorithm: verified.algorithm,
        components: verified.components,
      };
      io.out(
        json
          ? `${JSON.stringify(result)}\n`
          : `verified: label=${verified.label} keyid=${verified.keyId} alg=${verified.algorithm} components=${verified.components.join(' ')}\n`,
      );
      return 0;
    } catch (error) {
      if (!isAuthError(error)) throw error;
      const reason = error.reason ?? error.code;
      io.out(json ? `${JSON.stringify({ verified: false, reason, detail: error.detail })}\n` : `refused: ${reason}: ${error.detail}\n`);
      return 1;
    }
  },
};
