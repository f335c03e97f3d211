/**
 * The resource-server side of certificate-bound access tokens (RFC 8705 §3): a token whose
 * `cnf["x5t#S256"]` names a client certificate is accepted only on a request that presents that
 * certificate, verified (on the TLS socket, or in a header of a trusted proxy).
 */
import { timingSafeEqual } from 'node:crypto';
import { endingChain, invalidCredentials } from '../../errors.js';
import {
  clientCertificateReader,
  type ClientCertificateReader,
  type ClientCertificateSourceOptions,
  type PresentedCertificate,
} from '../../lib/client-certificate.js';
import { describeValue, optionError, optionNames } from '../../lib/options.js';
import { Warnings, type ObservableOptions } from '../../lib/warnings.js';
import type { AuthRequest } from '../../scheme.js';

const KNOWN = optionNames<ClientCertificateSourceOptions>()({ source: 1, headerName: 1, trustedProxies: 1 });

/** Checks certificate-bound tokens against the request's client certificate. */
export class CertificateBinding {
  readonly #reader: ClientCertificateReader;
  readonly #clock: () => number;
  readonly #tolerance: number;

  /**
   * @param source the scheme's `clientCertificate`: where the client certificate is read (the TLS
   *   socket, or a trusted proxy's header).
   * @param observable the scheme's `logger` and `validate` (unknown-option warnings), and its
   *   `clock` (ms) and `clockToleranceSeconds`, already checked by the scheme, for the certificate's validity.
   * @throws TypeError `<where>: "clientCertificate…" must be …` for a bad source.
   */
  constructor(
    source: ClientCertificateSourceOptions,
    where: string,
    observable: ObservableOptions & { readonly clock?: () => number; readonly clockToleranceSeconds?: number } = {},
  ) {
    this.#clock = observable.clock ?? Date.now;
    this.#tolerance = observable.clockToleranceSeconds ?? 0;
    if (typeof source !== 'object' || source === null || Array.isArray(source))
      throw optionError(where, 'clientCertificate', "an object such as { source: 'socket' }", describeValue(source));
    new Warnings(where, observable).unknownOptions(source, KNOWN, {}, 'clientCertificate.');
    this.#reader = clientCertificateReader(source, where, 'clientCertificate.');
  }

  /**
   * Accepts the request only when its verified client certificate's SHA-256 thumbprint is `x5t`,
   * compared in constant time, and the certificate is within its validity now: the TLS stack
   * checked it at the handshake, and a keep-alive connection outlives that moment.
   * @throws AuthError 401 `certificate_missing`, `certificate_mismatch` or `certificate_untrusted`
   *   (outside its validity), or what reading the certificate throws (e.g. a forwarded certificate
   *   from an untrusted address); each ends the chain.
   */
  check(req: AuthRequest, x5t: string): void {
    let certificate: PresentedCertificate | undefined;
    try {
      certificate = this.#reader.read(req);
    } catch (thrown) {
      throw endingChain(thrown);
    }
    if (certificate === undefined)
      throw endingChain(
        invalidCredentials(
          'certificate_missing',
          'This token is bound to a client certificate: send it over a connection that presents that certificate.',
        ),
      );
    const presented = Buffer.from(certificate.thumbprint);
    const expected = Buffer.from(x5t);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected))
      throw endingChain(invalidCredentials('certificate_mismatch', 'This token is bound to another client certificate.'));
    const now = this.#clock() / 1000;
    if (now < certificate.notBefore - this.#tolerance || now > certificate.notAfter + this.#tolerance)
      throw endingChain(invalidCredentials('certificate_untrusted', 'The client certificate is not valid now.'));
  }
}
