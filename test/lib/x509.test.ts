/**
 * The development certificate writer, checked by other implementations: OpenSSL verifies the chain
 * and prints the extensions we wrote, Node's X509Certificate reads them; the SAN reader gives back
 * what was written.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import '../helpers/fast-check-seed.js';
import { certificateUsage, createCertificate, EXTENDED_KEY_USAGE, subjectAltNames } from '../../src/lib/x509.js';

const EXTENDED_KEY_USAGE_BOTH = [EXTENDED_KEY_USAGE.serverAuth, EXTENDED_KEY_USAGE.clientAuth];
import { testCertificates } from '../helpers/certificates.js';

const dir = mkdtempSync(join(tmpdir(), 'x509-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });

/** A self-signed EC certificate made by `openssl req -x509` with the given `-addext` extensions. */
function opensslCertificate(name: string, ...extensions: string[]): X509Certificate {
  const out = join(dir, `${name}.pem`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`)];
  args.push('-out', out, '-subj', `/CN=${name}`, '-days', '1', ...extensions.flatMap((e) => ['-addext', e]));
  execFileSync('openssl', args, { stdio: 'pipe' });
  return new X509Certificate(readFileSync(out));
}

describe('createCertificate', () => {
  const { ca, billing, server, otherCa, untrusted, expired } = testCertificates();

  it('makes a chain OpenSSL verifies, for client and server purposes', () => {
    const caFile = file('ca.pem', ca.cert);
    expect(openssl('verify', '-CAfile', caFile, '-purpose', 'sslclient', file('billing.pem', billing.cert)).trim()).toMatch(/: OK$/);
    expect(openssl('verify', '-CAfile', caFile, '-purpose', 'sslserver', file('server.pem', server.cert)).trim()).toMatch(/: OK$/);
  });

  it('is refused by OpenSSL under another CA and when expired', () => {
    const caFile = file('ca2.pem', ca.cert);
    expect(() => execFileSync('openssl', ['verify', '-CAfile', caFile, file('u.pem', untrusted.cert)], { stdio: 'pipe' })).toThrow();
    expect(() => execFileSync('openssl', ['verify', '-CAfile', caFile, file('e.pem', expired.cert)], { stdio: 'pipe' })).toThrow(/expired/);
    expect(untrusted.certificate.checkIssued(otherCa.certificate)).toBe(true);
    expect(untrusted.certificate.verify(ca.publicKey)).toBe(false);
  });

  it('writes the extensions OpenSSL and Node read back', () => {
    const text = openssl('x509', '-noout', '-text', '-in', file('b.pem', billing.cert));
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toContain('URI:spiffe://example.org/ns/prod/sa/billing');
    expect(billing.certificate.subjectAltName).toBe(
      'email:billing@example.org, DNS:billing.internal, URI:spiffe://example.org/ns/prod/sa/billing',
    );
    expect(billing.certificate.checkIssued(ca.certificate)).toBe(true);
    expect(billing.certificate.verify(ca.publicKey)).toBe(true);
    expect(ca.certificate.ca).toBe(true);
    expect(billing.certificate.ca).toBe(false);
    expect(openssl('x509', '-noout', '-text', '-in', file('ca.pem', ca.cert))).toMatch(/Certificate Sign, CRL Sign/);
  });

  it('signs with Ed25519, writes IPv6 SANs and GeneralizedTime after 2049', () => {
    const key = generateKeyPairSync('ed25519');
    const cert = createCertificate({
      commonName: 'ed',
      publicKey: key.publicKey,
      signingKey: key.privateKey,
      ca: true,
      subjectAltNames: { ip: ['::1', '2001:db8::8:800:200c:417a', '10.1.2.3'] },
      notBefore: new Date('2049-12-31T23:59:59Z'),
      notAfter: new Date('2051-06-01T00:00:00Z'),
    });
    expect(cert.verify(key.publicKey)).toBe(true);
    expect(new Date(cert.validTo).toISOString()).toBe('2051-06-01T00:00:00.000Z');
    expect(new Date(cert.validFrom).toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(subjectAltNames(cert)).toEqual({ dns: [], ip: ['::1', '2001:db8::8:800:200c:417a', '10.1.2.3'], uri: [], email: [], other: 0 });
    expect(openssl('x509', '-noout', '-ext', 'subjectAltName', '-in', file('ed.pem', cert.toString()))).toContain('IP Address:10.1.2.3');
  });

  it('refuses a signing key it cannot sign with', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() =>
      createCertificate({
        commonName: 'x',
        publicKey: rsa.publicKey,
        signingKey: rsa.privateKey,
        notBefore: new Date(),
        notAfter: new Date(),
      }),
    ).toThrow('createCertificate(): "signingKey" must be an EC P-256 or Ed25519 private key');
  });
});

describe('subjectAltNames', () => {
  it('reads every kind, and none from a certificate without the extension', () => {
    const { billing, ca, twoUris } = testCertificates();
    expect(subjectAltNames(billing.certificate)).toEqual({
      dns: ['billing.internal'],
      ip: [],
      uri: ['spiffe://example.org/ns/prod/sa/billing'],
      email: ['billing@example.org'],
      other: 0,
    });
    expect(subjectAltNames(twoUris.certificate).uri).toEqual(['spiffe://example.org/a', 'spiffe://example.org/b']);
    expect(subjectAltNames(ca.certificate)).toEqual({ dns: [], ip: [], uri: [], email: [], other: 0 });
  });

  it('counts otherName entries it does not read (an OpenSSL-made certificate)', () => {
    const cert = opensslCertificate('o', 'subjectAltName=otherName:1.2.3.4;UTF8:x,URI:spiffe://td/x,DNS:a.example');
    expect(subjectAltNames(cert)).toEqual({ dns: ['a.example'], ip: [], uri: ['spiffe://td/x'], email: [], other: 1 });
  });

  it('refuses a subjectAltName that OpenSSL refuses: a tag that is no GeneralName, an otherName without its value', () => {
    const raw = testCertificates().billing.certificate.raw;
    const email = raw.indexOf(Buffer.from([0x81, 0x13, ...Buffer.from('billing@example.org')]));
    expect(email).toBeGreaterThan(0);
    for (const tag of [0x00, 0x04, 0x80, 0xa0, 0xa4, 0xa5]) {
      const der = Buffer.from(raw);
      der[email] = tag;
      const cert = new X509Certificate(der);
      expect([tag, cert.subjectAltName]).toEqual([tag, null]);
      expect(() => subjectAltNames(cert)).toThrow(/^DER: /);
    }
  });

  it('refuses a certificate with two subjectAltName extensions (RFC 5280 §4.2)', () => {
    // Re-encode the billing certificate with its SAN extension twice (the signature no longer
    // matters: the reader runs on certificates whatever verified them).
    const tlv = (tag: number, content: Buffer): Buffer => {
      const n = content.length;
      const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
      return Buffer.concat([Buffer.from([tag]), length, content]);
    };
    const parts = (der: Buffer): Buffer[] => {
      const out: Buffer[] = [];
      for (let i = 0; i < der.length;) {
        const first = der[i + 1] as number;
        const header = first < 0x80 ? 2 : 2 + (first & 0x7f);
        const length = first < 0x80 ? first : der.subarray(i + 2, i + header).reduce((a, b) => a * 256 + b, 0);
        out.push(der.subarray(i, i + header + length));
        i += header + length;
      }
      return out;
    };
    const body = (element: Buffer): Buffer => element.subarray((element[1] as number) < 0x80 ? 2 : 2 + ((element[1] as number) & 0x7f));
    const [cert] = parts(testCertificates().billing.certificate.raw);
    const [tbs, algorithm, signature] = parts(body(cert as Buffer));
    const fields = parts(body(tbs as Buffer));
    const extensionsField = fields.at(-1) as Buffer;
    const extensions = parts(body(parts(body(extensionsField))[0] as Buffer));
    const san = extensions.find((e) => e.includes(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]))) as Buffer;
    const doubled = tlv(0xa3, tlv(0x30, Buffer.concat([...extensions, san])));
    const twice = tlv(
      0x30,
      Buffer.concat([tlv(0x30, Buffer.concat([...fields.slice(0, -1), doubled])), algorithm as Buffer, signature as Buffer]),
    );
    expect(() => subjectAltNames(new X509Certificate(twice))).toThrow('DER: extension 2.5.29.17 twice');
  });
});

describe('certificateUsage', () => {
  it('reads keyUsage, extKeyUsage and pathLenConstraint as OpenSSL and Node do', () => {
    const { ca, billing } = testCertificates();
    expect(certificateUsage(ca.certificate)).toEqual({
      keyUsage: new Set(['digitalSignature', 'keyCertSign', 'cRLSign']),
      extendedKeyUsage: undefined,
      pathLength: 0,
    });
    const leaf = certificateUsage(billing.certificate);
    expect(leaf).toEqual({
      keyUsage: new Set(['digitalSignature']),
      extendedKeyUsage: [...EXTENDED_KEY_USAGE_BOTH],
      pathLength: undefined,
    });
    // Node reads extKeyUsage (as `keyUsage`), OpenSSL prints all three.
    expect(leaf.extendedKeyUsage).toEqual(billing.certificate.keyUsage);
    const text = openssl('x509', '-noout', '-text', '-in', file('ca.pem', ca.cert));
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Digital Signature, Certificate Sign, CRL Sign/);
  });

  it('reads an OpenSSL-made certificate: keyUsage without digitalSignature, anyExtendedKeyUsage, a large pathLenConstraint', () => {
    const cert = opensslCertificate(
      'u',
      'keyUsage=critical,keyEncipherment,keyAgreement,decipherOnly',
      'extendedKeyUsage=anyExtendedKeyUsage,1.3.6.1.5.5.7.3.1,1.2.840.113635.100.4.1',
      'basicConstraints=critical,CA:TRUE,pathlen:300',
    );
    expect(certificateUsage(cert)).toEqual({
      keyUsage: new Set(['keyEncipherment', 'keyAgreement', 'decipherOnly']),
      extendedKeyUsage: ['2.5.29.37.0', '1.3.6.1.5.5.7.3.1', '1.2.840.113635.100.4.1'],
      pathLength: 300,
    });
    expect(certificateUsage(cert).extendedKeyUsage).toEqual(cert.keyUsage);
  });

  it('mutated certificates: whatever OpenSSL parses, the readers answer or throw a DER error, and agree with Node', () => {
    const { billing, ca, server } = testCertificates();
    const originals = [billing, ca, server].map((c) => c.certificate.raw);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: originals.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const der = Buffer.from(originals[which] as Buffer);
          for (const [at, byte] of edits) der[at % der.length] = byte;
          let cert: X509Certificate;
          try {
            cert = new X509Certificate(der);
          } catch {
            return; // OpenSSL refuses it: the readers never see it
          }
          for (const read of [subjectAltNames, certificateUsage]) {
            try {
              read(cert);
            } catch (error) {
              expect((error as Error).message).toMatch(/^DER: /);
            }
          }
          let names: ReturnType<typeof subjectAltNames> | undefined;
          try {
            names = subjectAltNames(cert);
          } catch {
            return;
          }
          // OpenSSL's reading (Node's display string; null when it cannot decode the extension).
          const display = cert.subjectAltName ?? undefined;
          const count = names.dns.length + names.uri.length + names.email.length + names.ip.length + names.other;
          expect(display === undefined).toBe(count === 0);
          const plain = (v: string): boolean => /^[ -~]*$/.test(v) && !/[",'\\]/.test(v);
          for (const dns of names.dns.filter(plain)) expect(display).toContain(`DNS:${dns}`);
          for (const uri of names.uri.filter(plain)) expect(display).toContain(`URI:${uri}`);
          for (const email of names.email.filter(plain)) expect(display).toContain(`email:${email}`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('random bytes in the subjectAltName value never escape as anything but a DER error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const { publicKey, privateKey } = generateKeyPairSync('ed25519');
        let cert: X509Certificate;
        try {
          cert = createCertificate({
            commonName: 'fuzz',
            publicKey,
            signingKey: privateKey,
            subjectAltNames: { dns: [Buffer.from(bytes).toString('latin1')] },
            notBefore: new Date(),
            notAfter: new Date(Date.now() + 60_000),
          });
        } catch {
          return;
        }
        try {
          subjectAltNames(cert);
        } catch (error) {
          expect((error as Error).message).toMatch(/^DER: /);
        }
      }),
      { numRuns: 300 },
    );
  });
});
