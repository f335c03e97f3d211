/**
 * Certificates for the mutual TLS suites, made once per process by the library's own writer
 * (src/lib/x509.ts): a test CA, a server certificate for 127.0.0.1/localhost, client certificates
 * with SPIFFE URI, DNS and email SANs, an expired one, a not-yet-valid one, one from a CA nobody
 * trusts, and a forwarding proxy's own client certificate. EC P-256 throughout (what curl, openssl
 * and every TLS stack take).
 */
import { generateKeyPairSync, type KeyObject, type X509Certificate } from 'node:crypto';
import { createCertificate, type SubjectAltNames } from '../../src/lib/x509.js';

/** One certificate with its keys, as objects and as PEM. */
export interface TestCertificate {
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The certificate, PEM. */
  readonly cert: string;
  /** The private key, PKCS #8 PEM. */
  readonly key: string;
}

/** Everything the suites use. */
export interface TestCertificates {
  /** The CA the servers trust. */
  readonly ca: TestCertificate;
  /** A CA nobody trusts. */
  readonly otherCa: TestCertificate;
  /** TLS server certificate: DNS localhost, IP 127.0.0.1 and ::1. */
  readonly server: TestCertificate;
  /** `spiffe://example.org/ns/prod/sa/billing`, DNS `billing.internal`, email `billing@example.org`. */
  readonly billing: TestCertificate;
  /** `spiffe://example.org/ns/prod/sa/reports`. */
  readonly reports: TestCertificate;
  /** `spiffe://other.example/ns/prod/sa/billing`: another trust domain, same path. */
  readonly foreignDomain: TestCertificate;
  /** DNS `worker.internal` and email `worker@example.org`, no URI SAN. */
  readonly dnsOnly: TestCertificate;
  /** Two URI SANs (`spiffe://example.org/a` and `spiffe://example.org/b`): not a valid X.509-SVID. */
  readonly twoUris: TestCertificate;
  /** The billing identity, expired an hour ago. */
  readonly expired: TestCertificate;
  /** The billing identity, valid from an hour from now. */
  readonly notYetValid: TestCertificate;
  /** The billing identity issued by {@link TestCertificates.otherCa}. */
  readonly untrusted: TestCertificate;
  /** A forwarding proxy's own client certificate (`spiffe://example.org/ns/edge/sa/proxy`). */
  readonly proxy: TestCertificate;
}

const HOUR_MS = 3_600_000;

function make(
  commonName: string,
  issuer: TestCertificate | undefined,
  options: { ca?: boolean; names?: SubjectAltNames; fromMs?: number; toMs?: number },
): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const certificate = createCertificate({
    commonName,
    publicKey,
    signingKey: issuer?.privateKey ?? privateKey,
    ...(issuer === undefined ? {} : { issuer: issuer.certificate }),
    ca: options.ca === true,
    ...(options.names === undefined ? {} : { subjectAltNames: options.names }),
    notBefore: new Date(now + (options.fromMs ?? -HOUR_MS)),
    notAfter: new Date(now + (options.toMs ?? 24 * HOUR_MS)),
  });
  return {
    certificate,
    privateKey,
    publicKey,
    cert: certificate.toString(),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

let cached: TestCertificates | undefined;

/** The suites' certificates, made on first call (a few milliseconds) and shared by the process. */
export function testCertificates(): TestCertificates {
  if (cached) return cached;
  const ca = make('authnz-express test CA', undefined, { ca: true, toMs: 48 * HOUR_MS });
  const otherCa = make('untrusted test CA', undefined, { ca: true, toMs: 48 * HOUR_MS });
  const billingNames = { uri: ['spiffe://example.org/ns/prod/sa/billing'], dns: ['billing.internal'], email: ['billing@example.org'] };
  cached = {
    ca,
    otherCa,
    server: make('localhost', ca, { names: { dns: ['localhost'], ip: ['127.0.0.1', '::1'] } }),
    billing: make('billing', ca, { names: billingNames }),
    reports: make('reports', ca, { names: { uri: ['spiffe://example.org/ns/prod/sa/reports'] } }),
    foreignDomain: make('billing', ca, { names: { uri: ['spiffe://other.example/ns/prod/sa/billing'] } }),
    dnsOnly: make('worker', ca, { names: { dns: ['worker.internal'], email: ['worker@example.org'] } }),
    twoUris: make('two', ca, { names: { uri: ['spiffe://example.org/a', 'spiffe://example.org/b'] } }),
    expired: make('billing', ca, { names: billingNames, fromMs: -48 * HOUR_MS, toMs: -HOUR_MS }),
    notYetValid: make('billing', ca, { names: billingNames, fromMs: HOUR_MS, toMs: 24 * HOUR_MS }),
    untrusted: make('billing', otherCa, { names: billingNames }),
    proxy: make('edge-proxy', ca, { names: { uri: ['spiffe://example.org/ns/edge/sa/proxy'] } }),
  };
  return cached;
}

/** A further client certificate from the test CA with these names (valid from an hour ago for a day). */
export function issueTestCertificate(commonName: string, names: SubjectAltNames): TestCertificate {
  return make(commonName, testCertificates().ca, { names });
}
