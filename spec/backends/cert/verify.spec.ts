import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isApiError } from '../../../lib/errors.js';
import { certDetails } from '../../../lib/backends/cert/cert-details.js';
import { certMetadata, matchesGlob, parseDer, parsePem, verifyClientCertificate, type TrustedCert } from '../../../lib/backends/cert/verify.js';
import { certAuthTls, type CertFiles } from '../../helpers/tls.js';

/** The cert backend's verification on the real openssl-made certificates, without TLS. */

const certs = certAuthTls();
const NOW = Date.now();

const derOf = (files: CertFiles): Buffer => new X509Certificate(files.cert).raw;

function trust(name: string, files: CertFiles, constraints: Partial<Pick<TrustedCert, 'allowedCommonNames' | 'allowedDnsSans'>> = {}): TrustedCert {
  return { name, cert: parsePem(files.cert, 'certificate'), allowedCommonNames: [], allowedDnsSans: [], ...constraints };
}

/** The refusal `verifyClientCertificate` throws: its status and message. */
function refusal(leaf: CertFiles | Buffer, trusted: TrustedCert[], chain: CertFiles[] = [], now = NOW): { status: number; message: string } {
  try {
    verifyClientCertificate({ leaf: Buffer.isBuffer(leaf) ? leaf : derOf(leaf), chain: chain.map(derOf) }, trusted, now);
  } catch (err) {
    if (!isApiError(err)) throw err;
    return { status: err.status, message: err.message };
  }
  throw new Error('expected the certificate to be refused');
}

const accepted = (leaf: CertFiles, trusted: TrustedCert[], chain: CertFiles[] = [], now = NOW): string =>
  verifyClientCertificate({ leaf: derOf(leaf), chain: chain.map(derOf) }, trusted, now).match.name;

/** What openssl itself says an extension holds, for a cross-check of our DER reading. */
function opensslExtension(files: CertFiles, ext: string): string {
  const out = execFileSync('openssl', ['x509', '-noout', '-ext', ext, '-in', files.certFile], { encoding: 'utf8' });
  return out.split('\n').slice(1).join(' ').trim();
}

describe('certificate details read from the DER', () => {
  it('agree with openssl on key identifiers and DNS names, and read the common name and key usage', () => {
    const client = certDetails(derOf(certs.client));
    expect(client.commonName).toBe('test client');
    expect(client.subjectKeyId).toBe(opensslExtension(certs.client, 'subjectKeyIdentifier').toLowerCase());
    expect(client.authorityKeyId).toBe(certDetails(derOf(certs.clientCa)).subjectKeyId);
    expect(client.subjectKeyId).toMatch(/^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    expect(client.keyUsage).toBe(1); // digitalSignature alone
    expect(certDetails(derOf(certs.clientCa)).keyUsage).toBe(0b1100001); // digitalSignature, keyCertSign, cRLSign
    expect(certDetails(derOf(certs.noSignatureClient)).keyUsage).toBe(1 << 4); // keyAgreement
    expect(certDetails(derOf(certs.chainClient)).dnsSans).toEqual(['app.example.com', 'api.example.com']);
    expect(opensslExtension(certs.chainClient, 'subjectAltName')).toBe('DNS:app.example.com, DNS:api.example.com');
    expect(certDetails(derOf(certs.untrustedClient)).authorityKeyId).toBe('');
    expect(certDetails(derOf(certs.unicodeClient)).commonName).toBe('zoë ✓ 証明書');
  });

  it('metadata names the certificate as Vault does (decimal serial)', () => {
    const leaf = parseDer(derOf(certs.client))!;
    expect(certMetadata(leaf, 'ca')).toEqual({
      cert_name: 'ca',
      common_name: 'test client',
      serial_number: '2001',
      subject_key_id: leaf.details.subjectKeyId,
      authority_key_id: certDetails(derOf(certs.clientCa)).subjectKeyId,
    });
  });
});

describe('parsing never throws on garbage', () => {
  it('parseDer answers undefined for every truncation and many corruptions of a real certificate', () => {
    const der = derOf(certs.chainClient);
    expect(parseDer(der)).toBeDefined();
    for (const bad of [Buffer.alloc(0), Buffer.from('garbage'), Buffer.concat([der, Buffer.from([0])])]) expect(parseDer(bad)).toBeUndefined();
    for (let end = 0; end < der.length; end += 7) expect(parseDer(der.subarray(0, end))).toBeUndefined();
    for (let i = 0; i < der.length; i += 3) {
      const corrupt = Buffer.from(der);
      corrupt[i] = corrupt[i]! ^ 0xff;
      // Either unreadable, or readable and then refused like any other certificate: never a crash.
      expect(() => parseDer(corrupt)).not.toThrow();
      try {
        verifyClientCertificate({ leaf: corrupt, chain: [corrupt] }, [trust('ca', certs.clientCa)], NOW);
      } catch (err) {
        expect(isApiError(err)).toBe(true);
      }
    }
  });

  it('parsePem takes exactly one PEM certificate, else a 400 naming the field', () => {
    expect(parsePem(certs.client.cert, 'certificate').details.commonName).toBe('test client');
    expect(parsePem(`\n  ${certs.client.cert}\n`, 'certificate').details.commonName).toBe('test client');
    const bad = ['', 'garbage', certs.client.key, certs.client.cert + certs.clientCa.cert, `junk\n${certs.client.cert}`,
      '-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n'];
    for (const pem of bad) {
      expect(() => parsePem(pem, 'certificate')).toThrow(/field 'certificate' must be exactly one PEM-encoded X\.509 certificate/);
      try {
        parsePem(pem, 'certificate');
      } catch (err) {
        expect(isApiError(err, 'ERR_INVALID_FIELD') && err.status).toBe(400);
      }
    }
  });

  it('a presented certificate that does not parse is a 400', () => {
    expect(refusal(Buffer.from('garbage'), [trust('ca', certs.clientCa)])).toEqual({ status: 400, message: 'the client certificate could not be parsed' });
  });
});

describe('verifyClientCertificate', () => {
  const clientCa = trust('client-ca', certs.clientCa);

  it('accepts a certificate signed by a registered CA, and a registered leaf as itself', () => {
    expect(accepted(certs.client, [clientCa])).toBe('client-ca');
    expect(accepted(certs.untrustedClient, [clientCa, trust('lone', certs.untrustedClient)])).toBe('lone');
    expect(accepted(certs.client, [trust('leaf', certs.client)])).toBe('leaf');
    // No keyUsage extension: nothing to check there.
    expect(accepted(certs.noKeyUsageClient, [clientCa])).toBe('client-ca');
  });

  it('refuses with a distinct message each: another CA, expired, not yet valid, serverAuth only, no digitalSignature', () => {
    const cases = [
      [certs.otherClient, 'the client certificate is not signed by a registered certificate'],
      [certs.expiredClient, 'the client certificate has expired'],
      [certs.futureClient, 'the client certificate is not valid yet'],
      [certs.serverAuthClient, 'the client certificate is not for client authentication: its extended key usage lacks clientAuth'],
      [certs.noSignatureClient, 'the client certificate is not for client authentication: its key usage lacks digitalSignature'],
    ] as const;
    for (const [leaf, message] of cases) expect(refusal(leaf, [clientCa])).toEqual({ status: 401, message });
    expect(new Set(cases.map((c) => c[1])).size).toBe(cases.length);
  });

  it('checks the dates against the clock it is given', () => {
    const leaf = parseDer(derOf(certs.client))!;
    // The CA was made first, perhaps a second earlier: its validity may end before the leaf's.
    expect(accepted(certs.client, [clientCa], [], Math.min(leaf.notAfter, clientCa.cert.notAfter))).toBe('client-ca');
    expect(refusal(certs.client, [clientCa], [], leaf.notAfter + 1000).message).toBe('the client certificate has expired');
    expect(refusal(certs.client, [clientCa], [], leaf.notBefore - 1000).message).toBe('the client certificate is not valid yet');
    // The expired certificate was good in its time, but its CA was not yet valid then.
    const expired = parseDer(derOf(certs.expiredClient))!;
    expect(refusal(certs.expiredClient, [clientCa], [], expired.notBefore + 1000).message).toBe('the client certificate is not signed by a registered certificate');
  });

  it('checks signatures, not only names: a forged certificate with the CA\'s issuer name is refused', () => {
    expect(new X509Certificate(certs.forgedClient.cert).checkIssued(new X509Certificate(certs.clientCa.cert))).toBe(true);
    expect(refusal(certs.forgedClient, [clientCa]).message).toBe('the client certificate is not signed by a registered certificate');
    expect(refusal(certs.forgedClient, [clientCa], [certs.impostorCa]).status).toBe(401);
    expect(accepted(certs.forgedClient, [trust('impostor', certs.impostorCa)])).toBe('impostor');
  });

  it('issues only through CAs: not through a registered or presented leaf, nor an expired intermediate', () => {
    expect(new X509Certificate(certs.leafSignedClient.cert).checkIssued(new X509Certificate(certs.noKeyUsageClient.cert))).toBe(true);
    expect(refusal(certs.leafSignedClient, [trust('leaf', certs.noKeyUsageClient)]).message).toBe('the client certificate is not signed by a registered certificate');
    expect(refusal(certs.leafSignedClient, [clientCa], [certs.noKeyUsageClient]).status).toBe(401);
    expect(refusal(certs.expiredChainClient, [clientCa], [certs.expiredIntermediateCa]).message).toBe('the client certificate is not signed by a registered certificate');
    expect(refusal(certs.expiredChainClient, [trust('expired', certs.expiredIntermediateCa)]).status).toBe(401);
  });

  it('a registered leaf vouches only for itself, not for what its key could sign', () => {
    expect(refusal(certs.client, [trust('lone', certs.untrustedClient)]).message).toBe('the client certificate is not signed by a registered certificate');
    // A CA-signed certificate is not accepted through a registered sibling leaf either.
    expect(refusal(certs.serverAuthClient, [trust('leaf', certs.client)]).status).toBe(401);
  });

  it('follows presented intermediates up to a registered CA, and only real links', () => {
    expect(accepted(certs.chainClient, [clientCa], [certs.intermediateCa])).toBe('client-ca');
    expect(accepted(certs.chainClient, [trust('intermediate', certs.intermediateCa)])).toBe('intermediate');
    expect(refusal(certs.chainClient, [clientCa]).message).toBe('the client certificate is not signed by a registered certificate');
    const resumed = (() => {
      try {
        verifyClientCertificate({ leaf: derOf(certs.chainClient), chain: [], resumed: true }, [clientCa], NOW);
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(resumed).toMatch(/^the client certificate is not signed by a registered certificate \(on a resumed TLS session/);
    // Unrelated or non-CA certificates in the chain link nothing.
    expect(refusal(certs.chainClient, [clientCa], [certs.otherCa, certs.client]).status).toBe(401);
    expect(refusal(certs.otherClient, [clientCa], [certs.intermediateCa, certs.clientCa]).status).toBe(401);
    // A chain that loops ends.
    expect(refusal(certs.chainClient, [trust('other', certs.otherCa)], [certs.intermediateCa, certs.clientCa, certs.intermediateCa]).status).toBe(401);
  });

  it('applies name constraints, trying every registration the certificate chains to', () => {
    const cn = (patterns: string[]) => trust('cn', certs.clientCa, { allowedCommonNames: patterns });
    const dns = (patterns: string[]) => trust('dns', certs.clientCa, { allowedDnsSans: patterns });
    expect(accepted(certs.client, [cn(['test *'])])).toBe('cn');
    expect(refusal(certs.client, [cn(['Test client', 'other'])])).toEqual({ status: 401, message: "the client certificate's common name is not allowed by the registered certificate" });
    expect(accepted(certs.chainClient, [dns(['*.EXAMPLE.com'])], [certs.intermediateCa])).toBe('dns');
    expect(accepted(certs.chainClient, [dns(['api.example.com'])], [certs.intermediateCa])).toBe('dns');
    expect(refusal(certs.chainClient, [dns(['*.example.org'])], [certs.intermediateCa]).message).toBe("the client certificate's DNS names are not allowed by the registered certificate");
    expect(refusal(certs.client, [dns(['*'])]).message).toBe("the client certificate's DNS names are not allowed by the registered certificate");
    expect(accepted(certs.client, [cn(['nobody']), trust('open', certs.clientCa)])).toBe('open');
  });
});

describe('matchesGlob', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['a*c', 'abc', true],
    ['a*c', 'ac', true],
    ['a*c', 'abd', false],
    ['*.example.com', 'app.example.com', true],
    ['*.example.com', 'example.com', false],
    ['a**b*c', 'axxbyyc', true],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['', '', true],
    ['', 'x', false],
  ])('%j against %j is %s', (pattern, value, expected) => {
    expect(matchesGlob(pattern, value)).toBe(expected);
  });
});
