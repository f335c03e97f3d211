/**
 * `clientCertificateScheme()`: the principal from a verified client certificate (mutual TLS),
 * read from the TLS socket or from a trusted proxy's header (src/lib/client-certificate.ts).
 * SPIFFE X.509-SVIDs are recognised: the one URI SAN is the service's SPIFFE ID.
 */
import type { X509Certificate } from 'node:crypto';
import { X509Certificate as Certificate } from 'node:crypto';
import { AuthError, dependencyUnavailable, invalidCredentials, isAuthError, type Challenge } from '../../errors.js';
import { clientCertificateReader, type ClientCertificateSourceOptions, type PresentedCertificate } from '../../lib/client-certificate.js';
import {
  configurationError,
  describeValue,
  exclusiveOptions,
  functionOption,
  nonNegative,
  numberOption,
  optionError,
  optionNames,
  optionsObject,
  stringOption,
} from '../../lib/options.js';
import { reportingTo, Warnings, type ObservableOptions } from '../../lib/warnings.js';
import { certificateUsage, EXTENDED_KEY_USAGE, type CertificateUsage } from '../../lib/x509.js';
import { createPrincipal, type Principal, type PrincipalInit } from '../../principal.js';
import type { AuthRequest, AuthScheme } from '../../scheme.js';

const WHERE = 'clientCertificateScheme()';

/** One allowed identity of {@link ClientCertificateSchemeOptions.allow}: exactly one of the matchers, and what it is granted. */
export interface ClientCertificateIdentity {
  /** The SPIFFE ID, exactly (`spiffe://example.org/ns/prod/sa/billing`). */
  readonly spiffeId?: string;
  /**
   * A trust domain and path prefix (`spiffe://example.org/ns/prod`): the ID itself and every ID
   * below it, on path segment boundaries (`/ns/prod/sa/x`, not `/ns/production`).
   */
  readonly spiffeIdPrefix?: string;
  /** A DNS SAN, exactly (case-insensitive); wildcards are not patterns here and are refused. */
  readonly dns?: string;
  /** An email (rfc822Name) SAN, exactly. */
  readonly email?: string;
  /** A URI SAN (not SPIFFE), exactly. */
  readonly uri?: string;
  /** The principal's subject; default the SPIFFE ID or the matched name. */
  readonly subject?: string;
  /** Scopes granted to this identity. */
  readonly scopes?: readonly string[];
  /** Assurance level; default the scheme's `level`. */
  readonly level?: number;
}

/** The verified certificate, as `mapPrincipal` and the principal's details see it. */
export interface VerifiedClientCertificate extends PresentedCertificate {
  /** The SPIFFE ID of an X.509-SVID (its one URI SAN), else undefined. */
  readonly spiffeId: string | undefined;
}

/** Options of {@link clientCertificateScheme}. */
export interface ClientCertificateSchemeOptions extends ClientCertificateSourceOptions, ObservableOptions {
  /** Scheme name; default `client-certificate`. */
  readonly name?: string;
  /** The identities allowed, with their scopes; give this or `mapPrincipal`. */
  readonly allow?: readonly ClientCertificateIdentity[];
  /** Your own mapping; undefined refuses the certificate (401 `identity_not_allowed`). */
  readonly mapPrincipal?: (certificate: VerifiedClientCertificate) => PrincipalInit | undefined | Promise<PrincipalInit | undefined>;
  /**
   * CA certificates (PEM) the client certificate must chain to. Checked on every request, also when
   * a proxy or the TLS stack has verified it: required with a header source.
   */
  readonly ca?: string | readonly string[];
  /**
   * SPIFFE trust bundles by trust domain (`{ 'example.org': pem }`, CA certificates as PEM): an
   * X.509-SVID must chain to the bundle of the trust domain its SPIFFE ID names, so that a federated
   * domain's CA cannot issue IDs of another domain; an SVID of a domain without a bundle is refused.
   * Certificates without a SPIFFE ID are checked against `ca` only.
   */
  readonly trustBundles?: Readonly<Record<string, string | readonly string[]>>;
  /** Allowed clock difference for `notBefore` / `notAfter`, seconds; default 0. */
  readonly clockToleranceSeconds?: number;
  /** Revocation check; true refuses (401 `revoked`, ends the chain), false passes; a throw or any other answer is a 503. */
  readonly isRevoked?: (certificate: VerifiedClientCertificate) => boolean | Promise<boolean>;
  /** Default assurance level of the principals; default 0. */
  readonly level?: number;
  /** `realm` of the challenge. */
  readonly realm?: string;
  /** Injected clock, ms. */
  readonly clock?: () => number;
}

const KNOWN = optionNames<ClientCertificateSchemeOptions>()({
  name: 1,
  allow: 1,
  mapPrincipal: 1,
  ca: 1,
  trustBundles: 1,
  clockToleranceSeconds: 1,
  isRevoked: 1,
  level: 1,
  realm: 1,
  clock: 1,
  source: 1,
  headerName: 1,
  trustedProxies: 1,
  logger: 1,
  validate: 1,
});

const IDENTITY_KNOWN = optionNames<ClientCertificateIdentity>()({
  spiffeId: 1,
  spiffeIdPrefix: 1,
  dns: 1,
  email: 1,
  uri: 1,
  subject: 1,
  scopes: 1,
  level: 1,
});

/** Options of Node's TLS server and of other libraries, and what to write here instead. */
const FOREIGN: Readonly<Record<string, string>> = {
  requestCert: "a TLS server option: give it to https.createServer(), with the server's key, cert and ca",
  rejectUnauthorized: 'a TLS server option: give it to https.createServer() (false lets the scheme answer 401 with a challenge)',
  key: 'a TLS server option: give it to https.createServer()',
  cert: 'a TLS server option: give it to https.createServer()',
  trustProxy: 'here "trustedProxies": the proxy addresses, or (address) => boolean',
  header: 'here "headerName"',
};

// SPIFFE ID (SPIFFE-ID spec §2): trust domain of lower-case letters, digits, `.`, `-`, `_`; path
// segments of letters, digits, `.`, `-`, `_`, none empty, `.` or `..`; no query, fragment, port, user info.
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]+)((?:\/[A-Za-z0-9._-]+)*)$/;

/** True when `id` is a valid SPIFFE ID (SPIFFE-ID spec §2). */
export function isSpiffeId(id: string): boolean {
  const m = SPIFFE_ID.exec(id);
  if (m === null || id.length > 2048 || (m[1] as string).length > 255) return false;
  return (m[2] as string).split('/').every((segment, i) => i === 0 || (segment !== '.' && segment !== '..'));
}

interface Matcher {
  matches(certificate: VerifiedClientCertificate): string | undefined;
  readonly identity: ClientCertificateIdentity;
}

function matcherOf(identity: ClientCertificateIdentity, i: number, warnings: Warnings): Matcher {
  const at = `allow[${i}]`;
  if (typeof identity !== 'object' || identity === null) throw optionError(WHERE, at, 'an object', describeValue(identity));
  warnings.unknownOptions(identity, IDENTITY_KNOWN, {}, `${at}.`);
  const given = {
    spiffeId: identity.spiffeId,
    spiffeIdPrefix: identity.spiffeIdPrefix,
    dns: identity.dns,
    email: identity.email,
    uri: identity.uri,
  };
  exclusiveOptions(`${WHERE} ${at}`, given, 'one');
  const [key, value] = Object.entries(given).find(([, v]) => v !== undefined) as [keyof typeof given, unknown];
  if (typeof value !== 'string' || value === '') throw optionError(WHERE, `${at}.${key}`, 'a non-empty string', describeValue(value));
  if ((key === 'spiffeId' || key === 'spiffeIdPrefix') && !isSpiffeId(value))
    throw optionError(WHERE, `${at}.${key}`, 'a SPIFFE ID (spiffe://trust-domain/path)', 'a string');
  // Matching is exact: a wildcard would match only a certificate carrying that very wildcard, and a
  // trailing dot never matches the names CAs write; either is a mistaken entry, not a pattern.
  if (key === 'dns' && !/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(value))
    throw optionError(WHERE, `${at}.dns`, 'an exact DNS name (no wildcard, no trailing dot)', 'a string');
  if (identity.scopes !== undefined && (!Array.isArray(identity.scopes) || !identity.scopes.every((s) => typeof s === 'string')))
    throw optionError(WHERE, `${at}.scopes`, 'a list of strings', describeValue(identity.scopes));
  if (identity.level !== undefined) numberOption(identity.level, undefined, WHERE, `${at}.level`);
  const lower = value.toLowerCase();
  const matches = (c: VerifiedClientCertificate): string | undefined => {
    switch (key) {
      case 'spiffeId':
        return c.spiffeId === value ? value : undefined;
      case 'spiffeIdPrefix':
        return c.spiffeId !== undefined && (c.spiffeId === value || c.spiffeId.startsWith(`${value}/`)) ? c.spiffeId : undefined;
      case 'dns':
        return c.names.dns.find((n) => n.toLowerCase() === lower);
      case 'email':
        return c.names.email.find((n) => n === value);
      case 'uri':
        return c.names.uri.find((n) => n === value);
    }
  };
  return { matches, identity };
}

function caOption(value: unknown, option = 'ca'): X509Certificate[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  const expected = 'PEM CA certificates (a string or a list of strings)';
  if (!Array.isArray(list) || list.length === 0) throw optionError(WHERE, option, expected, describeValue(value));
  const out: X509Certificate[] = [];
  for (const pem of list as unknown[]) {
    const blocks = typeof pem === 'string' ? pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) : null;
    if (blocks === null) throw optionError(WHERE, option, expected, describeValue(pem));
    for (const block of blocks) {
      try {
        out.push(new Certificate(block));
      } catch (cause) {
        throw configurationError(WHERE, `"${option}" holds a certificate that cannot be read`, cause);
      }
    }
  }
  return out;
}

/** The `trustBundles` option: trust domain → CA certificates. */
function trustBundlesOption(value: unknown): Map<string, X509Certificate[]> | undefined {
  if (value === undefined) return undefined;
  const expected = 'an object of trust domain → PEM CA certificates';
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0)
    throw optionError(WHERE, 'trustBundles', expected, describeValue(value));
  const out = new Map<string, X509Certificate[]>();
  for (const [domain, pem] of Object.entries(value as Record<string, unknown>)) {
    if (!isSpiffeId(`spiffe://${domain}`))
      throw optionError(WHERE, 'trustBundles', `${expected} (a trust domain in lower case)`, 'another key');
    out.set(domain, caOption(pem ?? null, `trustBundles.${domain}`) as X509Certificate[]);
  }
  return out;
}

/** The trust domain of a valid SPIFFE ID. */
function trustDomainOf(spiffeId: string): string {
  return spiffeId.slice('spiffe://'.length).split('/')[0] as string;
}

/** The usages of a certificate, undefined when its extensions cannot be read (then it is of no use here). */
function usageOf(certificate: X509Certificate): CertificateUsage | undefined {
  try {
    return certificateUsage(certificate);
  } catch {
    return undefined;
  }
}

/** Whether extKeyUsage, when present, names TLS client authentication (as OpenSSL's `sslclient` purpose decides). */
const clientAuthAllowed = (usage: CertificateUsage): boolean =>
  usage.extendedKeyUsage === undefined || usage.extendedKeyUsage.includes(EXTENDED_KEY_USAGE.clientAuth);

/**
 * Whether a certificate may authenticate a TLS client (OpenSSL's `sslclient` purpose, which the TLS
 * stack applies to the socket's certificate): extKeyUsage, when present, names clientAuth, and
 * keyUsage, when present, allows digitalSignature or keyAgreement.
 */
function forClientAuthentication(certificate: X509Certificate): boolean {
  const usage = usageOf(certificate);
  if (usage === undefined || !clientAuthAllowed(usage)) return false;
  return usage.keyUsage === undefined || usage.keyUsage.has('digitalSignature') || usage.keyUsage.has('keyAgreement');
}

/**
 * True when `leaf` chains to one of `roots`, through `intermediates`: each issuer a CA valid at
 * `now` whose pathLenConstraint admits the intermediates below it, and each forwarded intermediate
 * allowed to issue for client authentication (its extKeyUsage, when present, names clientAuth).
 */
function chainsTo(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: number,
): boolean {
  const valid = (c: X509Certificate): boolean => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
  let current = leaf;
  for (let below = 0; below < 8; below++) {
    const issuedBy = (ca: X509Certificate): boolean => {
      const usage = usageOf(ca);
      return (
        usage !== undefined &&
        (usage.pathLength === undefined || below <= usage.pathLength) &&
        ca.ca &&
        valid(ca) &&
        current.checkIssued(ca) &&
        current.verify(ca.publicKey)
      );
    };
    if (roots.some(issuedBy)) return true;
    const next = intermediates.find((c) => c !== current && issuedBy(c) && clientAuthAllowed(usageOf(c) as CertificateUsage));
    if (next === undefined) return false;
    current = next;
  }
  return false;
}

/** The SPIFFE ID of an X.509-SVID: undefined without a `spiffe://` URI SAN. @throws AuthError 401 `spiffe_id_invalid`. */
function spiffeIdOf(presented: PresentedCertificate): string | undefined {
  const uris = presented.names.uri;
  if (!uris.some((u) => u.toLowerCase().startsWith('spiffe:'))) return undefined;
  // X.509-SVID spec §2: exactly one URI SAN; §4.1: a leaf SVID is no CA.
  if (uris.length !== 1 || !isSpiffeId(uris[0] as string) || presented.certificate.ca)
    throw invalidCredentials('spiffe_id_invalid', 'The client certificate is not a valid X.509-SVID (one URI SAN holding a SPIFFE ID).');
  return uris[0];
}

/**
 * The principal from a verified client certificate: mutual TLS terminated by Node (`source:
 * 'socket'`, only authorized sockets) or by a proxy that forwards the certificate in a header
 * (`xfcc`, `escaped-pem`, `rfc9440`, from `trustedProxies` only). The certificate must be within its
 * validity (with `clockToleranceSeconds`), chain to `ca` when given, not be revoked (`isRevoked`),
 * and map to an identity of `allow` (or `mapPrincipal`); an unknown identity is a 401
 * `identity_not_allowed`, so a later scheme of the route may still authenticate the request.
 * @throws TypeError for invalid options.
 * @example
 * const mesh = clientCertificateScheme({
 *   allow: [{ spiffeId: 'spiffe://example.org/ns/prod/sa/billing', scopes: ['invoices:read'] }],
 * });
 * https.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: false }, app);
 * app.get('/invoices', authenticate([mesh]), requireScopes('invoices:read'), handler);
 */
export function clientCertificateScheme(options: ClientCertificateSchemeOptions): AuthScheme {
  optionsObject(options, WHERE, false);
  const warnings = new Warnings(WHERE, options);
  warnings.unknownOptions(options, KNOWN, FOREIGN);
  const reader = clientCertificateReader(options, WHERE);
  exclusiveOptions(WHERE, { allow: options.allow, mapPrincipal: options.mapPrincipal }, 'one');
  const map = functionOption<NonNullable<ClientCertificateSchemeOptions['mapPrincipal']>>(
    options.mapPrincipal,
    WHERE,
    'mapPrincipal',
    'a function (certificate) => PrincipalInit | undefined',
  );
  if (options.allow !== undefined && (!Array.isArray(options.allow) || options.allow.length === 0))
    throw optionError(WHERE, 'allow', 'a non-empty list of identities', describeValue(options.allow));
  const matchers = (options.allow ?? []).map((identity, i) => matcherOf(identity, i, warnings));
  const roots = caOption(options.ca);
  const bundles = trustBundlesOption(options.trustBundles);
  if (roots === undefined && reader.source !== 'socket')
    throw optionError(WHERE, 'ca', 'given with a header source (the CA the forwarded certificates chain to)', 'undefined');
  const tolerance = nonNegative(options.clockToleranceSeconds, 0, WHERE, 'clockToleranceSeconds');
  const isRevoked = functionOption<NonNullable<ClientCertificateSchemeOptions['isRevoked']>>(
    options.isRevoked,
    WHERE,
    'isRevoked',
    'a function (certificate) => boolean | Promise<boolean>',
  );
  const level = numberOption(options.level, 0, WHERE, 'level');
  const clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => number') ?? Date.now;
  const name = stringOption(options.name, 'client-certificate', WHERE, 'name');
  const challenge: Challenge = {
    scheme: 'ClientCertificate',
    ...(options.realm === undefined ? {} : { params: { realm: options.realm } }),
  };

  const verified = async (presented: PresentedCertificate): Promise<VerifiedClientCertificate> => {
    const now = clock();
    // The TLS stack checks the purpose of the socket's certificate; a forwarded one is checked here the same way.
    if (!forClientAuthentication(presented.certificate))
      throw invalidCredentials('certificate_untrusted', 'The client certificate is not issued for TLS client authentication.');
    if (roots !== undefined && !chainsTo(presented.certificate, presented.chain, roots, now))
      throw invalidCredentials('certificate_untrusted', 'The client certificate does not chain to a CA this service trusts.');
    if (now / 1000 < presented.notBefore - tolerance) throw invalidCredentials('not_yet_valid', 'The client certificate is not valid yet.');
    if (now / 1000 > presented.notAfter + tolerance)
      throw new AuthError('token_expired', { reason: 'expired', detail: 'The client certificate has expired.' });
    const spiffeId = spiffeIdOf(presented);
    if (bundles !== undefined && spiffeId !== undefined) {
      const bundle = bundles.get(trustDomainOf(spiffeId));
      if (bundle === undefined || !chainsTo(presented.certificate, presented.chain, bundle, now))
        throw invalidCredentials('certificate_untrusted', "The X.509-SVID does not chain to its trust domain's bundle.");
    }
    const certificate: VerifiedClientCertificate = Object.freeze({ ...presented, spiffeId });
    if (isRevoked !== undefined) {
      let revoked: unknown;
      try {
        revoked = await isRevoked(certificate);
      } catch (cause) {
        throw isAuthError(cause) ? cause : dependencyUnavailable('revocation_unavailable', cause);
      }
      // A check that gave no yes-or-no answer (a forgotten return, a status string) has not cleared it.
      if (typeof revoked !== 'boolean')
        throw dependencyUnavailable(
          'revocation_unavailable',
          new TypeError(`isRevoked() answered ${describeValue(revoked)}, not a boolean`),
        );
      // A revoked certificate is refused by every scheme of the route, not only this one.
      if (revoked)
        throw new AuthError('token_invalid', { reason: 'revoked', detail: 'The client certificate has been revoked.', endsChain: true });
    }
    return certificate;
  };

  const principalOf = async (certificate: VerifiedClientCertificate): Promise<Principal> => {
    const details = {
      certificateSubject: certificate.certificate.subject,
      issuer: certificate.certificate.issuer,
      serialNumber: certificate.certificate.serialNumber,
      dns: certificate.names.dns,
      uri: certificate.names.uri,
      email: certificate.names.email,
      ...(certificate.spiffeId === undefined ? {} : { spiffeId: certificate.spiffeId }),
      'x5t#S256': certificate.thumbprint,
      notAfter: certificate.notAfter,
      expiresAt: certificate.notAfter,
    };
    const notAllowed = (): AuthError =>
      invalidCredentials('identity_not_allowed', 'The client certificate names an identity this service does not accept.');
    if (map !== undefined) {
      const init = await map(certificate);
      if (init === undefined) throw notAllowed();
      return createPrincipal({ ...init, scheme: init.scheme ?? 'client-certificate', details: { ...details, ...init.details } });
    }
    for (const matcher of matchers) {
      const matched = matcher.matches(certificate);
      if (matched === undefined) continue;
      return createPrincipal({
        subject: matcher.identity.subject ?? matched,
        kind: 'service',
        scheme: 'client-certificate',
        scopes: matcher.identity.scopes ?? [],
        level: matcher.identity.level ?? level,
        details,
      });
    }
    throw notAllowed();
  };

  const scheme: AuthScheme = {
    name,
    challenge,
    async authenticate(req: AuthRequest): Promise<Principal | undefined> {
      const presented = reader.read(req);
      if (presented === undefined) return undefined;
      return principalOf(await verified(presented));
    },
    hasCredential: (req) => reader.present(req),
  };
  return reportingTo(scheme, warnings);
}
