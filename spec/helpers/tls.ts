import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real certificates for TLS specs, made once per test process with the `openssl` CLI
 * (OpenSSL 3, as on Debian 12) into a temporary directory removed when the process ends:
 *   - a CA and a server certificate it signed for `localhost` and `127.0.0.1`;
 *   - a separate client CA and a client certificate it signed;
 *   - a self-signed client certificate nobody trusts.
 * Keys are P-256 (fast to make). Our own openssl config is used, never the system one.
 */

export interface CertFiles {
  /** PEM file paths. */
  certFile: string;
  keyFile: string;
  /** PEM contents. */
  cert: string;
  key: string;
}

export interface TestTls {
  dir: string;
  /** Signs the server certificate: clients trust this to verify the server. */
  ca: CertFiles;
  /** For `localhost` and IP `127.0.0.1`, signed by `ca`. */
  server: CertFiles;
  /** Signs `client`: a listener verifying client certificates trusts this one. */
  clientCa: CertFiles;
  /** Signed by `clientCa`. */
  client: CertFiles;
  /** Self-signed, trusted by no one. */
  untrustedClient: CertFiles;
}

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[member_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[self_client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
[intermediate_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[chain_client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:app.example.com, DNS:api.example.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server_auth_only_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[no_signature_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyAgreement
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_no_aki_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[no_key_usage_ext]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# For openssl ca, the one command of OpenSSL 3.0 that signs with explicit dates.
[ca]
default_ca = dated_ca
[dated_ca]
database = index.txt
new_certs_dir = .
serial = dated.serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[any_name]
commonName = supplied
`;

const CACHE = Symbol.for('nomad-api.spec.testTls');
type Cached = { [CACHE]?: TestTls };

function openssl(dir: string, args: string[]): void {
  // OPENSSL_CONF: commands without -config must not read the system file either.
  execFileSync('openssl', args, {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, OPENSSL_CONF: join(dir, 'openssl.cnf') },
  });
}

function files(dir: string, name: string): CertFiles {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed certificate: a CA (`ca_ext`) or a lone leaf (`self_client_ext`). */
function selfSigned(dir: string, name: string, subject: string, extensions: string): CertFiles {
  openssl(dir, [
    'req', '-config', 'openssl.cnf', '-x509', ...NEW_KEY, '-sha256', '-days', '30',
    '-subj', subject, '-extensions', extensions, '-keyout', `${name}.key`, '-out', `${name}.crt`,
  ]);
  return files(dir, name);
}

/** A key, a CSR, and a certificate signed by `issuer`. */
function signed(dir: string, name: string, subject: string, issuer: string, extensions: string, serial: number): CertFiles {
  // -utf8: a subject is read as UTF-8 (ASCII ones are unchanged by it).
  openssl(dir, ['req', '-config', 'openssl.cnf', '-new', '-utf8', ...NEW_KEY, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`,
    '-set_serial', String(serial), '-sha256', '-days', '30',
    '-extfile', 'openssl.cnf', '-extensions', extensions, '-out', `${name}.crt`,
  ]);
  return files(dir, name);
}

/** Signed by `issuer` with explicit dates (`YYYYMMDDHHMMSSZ`): an expired or a not-yet-valid certificate. */
function signedWithDates(dir: string, name: string, subject: string, issuer: string, dates: { start: string; end: string }, serial: number, extensions = 'client_ext'): CertFiles {
  openssl(dir, ['req', '-config', 'openssl.cnf', '-new', ...NEW_KEY, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'dated.serial'), `${serial.toString(16).padStart(4, '0')}\n`);
  openssl(dir, [
    'ca', '-config', 'openssl.cnf', '-batch', '-notext', '-in', `${name}.csr`, '-cert', `${issuer}.crt`, '-keyfile', `${issuer}.key`,
    '-startdate', dates.start, '-enddate', dates.end, '-extensions', extensions, '-out', `${name}.crt`,
  ]);
  return files(dir, name);
}

function generate(): TestTls {
  const dir = mkdtempSync(join(tmpdir(), 'nomad-api-tls-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup);
  // Vitest stops its worker processes with SIGTERM, which skips 'exit' hooks: clean up, then
  // die of the same signal (this listener is gone by then, so the default action applies).
  process.once('SIGTERM', () => {
    cleanup();
    process.kill(process.pid, 'SIGTERM');
  });
  writeFileSync(join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const ca = selfSigned(dir, 'ca', '/CN=nomad-api test CA', 'ca_ext');
  const server = signed(dir, 'server', '/CN=localhost', 'ca', 'server_ext', 1001);
  const clientCa = selfSigned(dir, 'client-ca', '/CN=nomad-api test client CA', 'ca_ext');
  const client = signed(dir, 'client', '/CN=test client', 'client-ca', 'client_ext', 2001);
  const untrustedClient = selfSigned(dir, 'untrusted-client', '/CN=untrusted client', 'self_client_ext');
  return { dir, ca, server, clientCa, client, untrustedClient };
}

/**
 * More client certificates for the cert auth backend, made on first use (in the same
 * directory, after testTls's), so specs that need only testTls do not pay for them.
 */
export interface CertAuthTls extends TestTls {
  /** A CA nobody registers, and a client certificate it signed. */
  otherCa: CertFiles;
  otherClient: CertFiles;
  /** Signed by `clientCa`, valid from 2020-01-01 to 2020-02-01. */
  expiredClient: CertFiles;
  /** Signed by `clientCa`, valid from 2099-01-01 on. */
  futureClient: CertFiles;
  /** Signed by `clientCa`, extended key usage serverAuth only. */
  serverAuthClient: CertFiles;
  /** Signed by `clientCa`, key usage keyAgreement only (no digitalSignature). */
  noSignatureClient: CertFiles;
  /** A CA signed by `clientCa`, and a leaf it signed with DNS names app.example.com and api.example.com. */
  intermediateCa: CertFiles;
  chainClient: CertFiles;
  /** A CA with the same subject as `clientCa` but its own key, and a leaf it signed without an authority key id: names match, signatures do not. */
  impostorCa: CertFiles;
  forgedClient: CertFiles;
  /** Signed by `clientCa`, common name `zoë ✓ 証明書` (a UTF8String). */
  unicodeClient: CertFiles;
  /** Signed by `clientCa`: CA:FALSE and no keyUsage extension (so only its CA:FALSE says it may not issue). */
  noKeyUsageClient: CertFiles;
  /** Signed with the key of `noKeyUsageClient`, a leaf: no one may issue through it. */
  leafSignedClient: CertFiles;
  /** A CA signed by `clientCa` whose validity ended in 2020, and a current leaf it signed. */
  expiredIntermediateCa: CertFiles;
  expiredChainClient: CertFiles;
}

const CERT_AUTH_CACHE = Symbol.for('nomad-api.spec.certAuthTls');
type CertAuthCached = { [CERT_AUTH_CACHE]?: CertAuthTls };

export function certAuthTls(): CertAuthTls {
  const cache = globalThis as CertAuthCached;
  if (cache[CERT_AUTH_CACHE]) return cache[CERT_AUTH_CACHE];
  const base = testTls();
  const dir = base.dir;
  const otherCa = selfSigned(dir, 'other-ca', '/CN=nomad-api other CA', 'ca_ext');
  const intermediateCa = signed(dir, 'intermediate-ca', '/CN=nomad-api intermediate CA', 'client-ca', 'intermediate_ext', 2101);
  const made: CertAuthTls = {
    ...base,
    otherCa,
    otherClient: signed(dir, 'other-client', '/CN=other client', 'other-ca', 'client_ext', 3001),
    expiredClient: signedWithDates(dir, 'expired-client', '/CN=expired client', 'client-ca', { start: '20200101000000Z', end: '20200201000000Z' }, 2002),
    futureClient: signedWithDates(dir, 'future-client', '/CN=future client', 'client-ca', { start: '20990101000000Z', end: '20991231000000Z' }, 2003),
    serverAuthClient: signed(dir, 'server-auth-client', '/CN=server auth client', 'client-ca', 'server_auth_only_ext', 2004),
    noSignatureClient: signed(dir, 'no-signature-client', '/CN=no signature client', 'client-ca', 'no_signature_ext', 2005),
    intermediateCa,
    chainClient: signed(dir, 'chain-client', '/CN=chain client', 'intermediate-ca', 'chain_client_ext', 2102),
    impostorCa: selfSigned(dir, 'impostor-ca', '/CN=nomad-api test client CA', 'ca_ext'),
    forgedClient: signed(dir, 'forged-client', '/CN=forged client', 'impostor-ca', 'client_no_aki_ext', 4001),
    unicodeClient: signed(dir, 'unicode-client', '/CN=zoë ✓ 証明書', 'client-ca', 'client_ext', 2008),
    noKeyUsageClient: signed(dir, 'no-key-usage-client', '/CN=no key usage client', 'client-ca', 'no_key_usage_ext', 2007),
    leafSignedClient: signed(dir, 'leaf-signed-client', '/CN=leaf signed client', 'no-key-usage-client', 'client_ext', 2006),
    expiredIntermediateCa: signedWithDates(dir, 'expired-intermediate-ca', '/CN=nomad-api expired intermediate CA', 'client-ca',
      { start: '20200101000000Z', end: '20200201000000Z' }, 2201, 'intermediate_ext'),
    expiredChainClient: signed(dir, 'expired-chain-client', '/CN=expired chain client', 'expired-intermediate-ca', 'client_ext', 2202),
  };
  cache[CERT_AUTH_CACHE] = made;
  return made;
}

const MEMBER_CACHE = Symbol.for('nomad-api.spec.etcdMemberTls');
type MemberCached = { [MEMBER_CACHE]?: EtcdMemberTls };

export interface EtcdMemberTls {
  /** Signed by `ca`, for serverAuth and clientAuth: etcd's gateway dials its own gRPC port with it. */
  member: CertFiles;
  /** `ca` and `clientCa` in one file: what a member trusts in a client certificate (its own included). */
  trustedCaFile: string;
}

/** An etcd member's certificate (made on first use, next to testTls's). */
export function etcdMemberTls(): EtcdMemberTls {
  const cache = globalThis as MemberCached;
  if (cache[MEMBER_CACHE]) return cache[MEMBER_CACHE];
  const base = testTls();
  const member = signed(base.dir, 'etcd-member', '/CN=etcd member', 'ca', 'member_ext', 5001);
  const trustedCaFile = join(base.dir, 'etcd-trusted-ca.pem');
  writeFileSync(trustedCaFile, base.ca.cert + base.clientCa.cert);
  cache[MEMBER_CACHE] = { member, trustedCaFile };
  return cache[MEMBER_CACHE];
}

const ROTATED_CACHE = Symbol.for('nomad-api.spec.rotatedServerTls');
type RotatedCached = { [ROTATED_CACHE]?: CertFiles };

/**
 * A second server certificate for `localhost` and `127.0.0.1`, its own key, signed by `ca`:
 * what a certificate rotation replaces `server` with (made on first use, next to testTls's).
 */
export function rotatedServerTls(): CertFiles {
  const cache = globalThis as RotatedCached;
  cache[ROTATED_CACHE] ??= signed(testTls().dir, 'server-rotated', '/CN=localhost', 'ca', 'server_ext', 1002);
  return cache[ROTATED_CACHE];
}

/** The test certificates, generated on first use and shared by every spec in this process. */
export function testTls(): TestTls {
  const cache = globalThis as Cached;
  cache[CACHE] ??= generate();
  return cache[CACHE];
}
