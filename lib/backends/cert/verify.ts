import { X509Certificate } from 'node:crypto';
import { ApiError } from '../../errors.js';
import { certDetails, KEY_USAGE, type CertDetails } from './cert-details.js';

/**
 * The cert backend's own verification of a TLS client certificate (the listener only asks
 * for it, api.md §1): pure functions over node:crypto's X509Certificate and the clock's
 * time, so they are tested on real certificates without a connection.
 */

export interface ParsedCert {
  x509: X509Certificate;
  details: CertDetails;
  /** Unix milliseconds. */
  notBefore: number;
  notAfter: number;
}

/** A registered certificate (`certs/:name`) and the constraints a login through it must meet. */
export interface TrustedCert {
  name: string;
  cert: ParsedCert;
  allowedCommonNames: readonly string[];
  allowedDnsSans: readonly string[];
}

/** What the client sent at its handshake: its certificate and the issuers it came with (DER). */
export interface Presented {
  leaf: Buffer;
  chain: readonly Buffer[];
  /** The TLS session was resumed, so the chain the client first presented is not known (TlsInfo.sessionResumed). */
  resumed?: boolean;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

/** Parses a DER certificate, or answers undefined: no input, garbage included, makes this throw. */
export function parseDer(der: Uint8Array): ParsedCert | undefined {
  try {
    const x509 = new X509Certificate(der);
    const notBefore = Date.parse(x509.validFrom);
    const notAfter = Date.parse(x509.validTo);
    if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) return undefined;
    return { x509, details: certDetails(der), notBefore, notAfter };
  } catch {
    return undefined;
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----/g;

/** One PEM certificate (surrounding whitespace allowed), parsed; a 400 naming `field` otherwise. */
export function parsePem(pem: string, field: string): ParsedCert {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  const outside = pem.replace(PEM_BLOCK, '').trim();
  const parsed = blocks.length === 1 && outside === '' ? parseDer(Buffer.from(blocks[0]![1]!, 'base64')) : undefined;
  if (!parsed) throw new ApiError('ERR_INVALID_FIELD', `field '${field}' must be exactly one PEM-encoded X.509 certificate`);
  return parsed;
}

const refused = (message: string): ApiError => new ApiError('ERR_PERMISSION_DENIED', message);

/** Checks the presented certificate and answers the registered certificate it logs in through. */
export function verifyClientCertificate(presented: Presented, trusted: readonly TrustedCert[], now: number): { match: TrustedCert; leaf: ParsedCert } {
  const leaf = parseDer(presented.leaf);
  if (!leaf) throw new ApiError('ERR_INVALID_REQUEST', 'the client certificate could not be parsed');
  if (now < leaf.notBefore) throw refused('the client certificate is not valid yet');
  if (now > leaf.notAfter) throw refused('the client certificate has expired');
  const extended = leaf.x509.keyUsage;
  if (extended !== undefined && !extended.includes(CLIENT_AUTH) && !extended.includes(ANY_EXTENDED_KEY_USAGE)) {
    throw refused('the client certificate is not for client authentication: its extended key usage lacks clientAuth');
  }
  if (leaf.details.keyUsage !== undefined && !hasBit(leaf.details.keyUsage, KEY_USAGE.digitalSignature)) {
    throw refused('the client certificate is not for client authentication: its key usage lacks digitalSignature');
  }

  // Only issuers that could sign at all are kept; an unreadable one is simply not a link.
  const intermediates = presented.chain.map(parseDer).filter((c): c is ParsedCert => c !== undefined && canIssue(c, now));
  const issued = memoisedIssued();
  const matches = trusted.filter((entry) => chainsTo(leaf, entry.cert, intermediates, now, issued));
  if (matches.length === 0) {
    // Said, so a client whose intermediates were lost knows to log in on a fresh TLS session.
    const why = presented.resumed && presented.chain.length === 0 ? ' (on a resumed TLS session the intermediates first presented are not known: log in on a new one)' : '';
    throw refused(`the client certificate is not signed by a registered certificate${why}`);
  }

  let refusal: string | undefined;
  for (const match of matches) {
    const why = constraintFailure(leaf, match);
    if (why === undefined) return { match, leaf };
    refusal ??= why;
  }
  throw refused(refusal!);
}

/** The leaf is the registered certificate itself, or is signed by it (directly or through presented intermediates). */
function chainsTo(leaf: ParsedCert, anchor: ParsedCert, intermediates: readonly ParsedCert[], now: number, issued: Issued): boolean {
  if (leaf.x509.fingerprint256 === anchor.x509.fingerprint256) return true;
  if (!canIssue(anchor, now)) return false;
  // A breadth-first walk up the presented issuers; each one is visited once, so a loop ends.
  const queue = [leaf];
  const visited = new Set<ParsedCert>(queue);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (issued(next, anchor)) return true;
    for (const candidate of intermediates) {
      if (!visited.has(candidate) && issued(next, candidate)) {
        visited.add(candidate);
        queue.push(candidate);
      }
    }
  }
  return false;
}

/** A CA certificate, within its validity, whose key usage (when it has one) allows signing certificates. */
function canIssue(cert: ParsedCert, now: number): boolean {
  const usage = cert.details.keyUsage;
  return cert.x509.ca && now >= cert.notBefore && now <= cert.notAfter && (usage === undefined || hasBit(usage, KEY_USAGE.keyCertSign));
}

type Issued = (child: ParsedCert, parent: ParsedCert) => boolean;

/** Signature checks remembered for one login: several registered CAs can share the presented intermediates. */
function memoisedIssued(): Issued {
  const known = new Map<string, boolean>();
  return (child, parent) => {
    const key = `${child.x509.fingerprint256}>${parent.x509.fingerprint256}`;
    let answer = known.get(key);
    if (answer === undefined) {
      try {
        answer = child.x509.checkIssued(parent.x509) && child.x509.verify(parent.x509.publicKey);
      } catch {
        answer = false;
      }
      known.set(key, answer);
    }
    return answer;
  };
}

/** Why the leaf fails the registered certificate's name constraints, or undefined when it meets them. */
function constraintFailure(leaf: ParsedCert, entry: TrustedCert): string | undefined {
  const cn = leaf.details.commonName;
  if (entry.allowedCommonNames.length > 0 && !entry.allowedCommonNames.some((pattern) => matchesGlob(pattern, cn))) {
    return 'the client certificate\'s common name is not allowed by the registered certificate';
  }
  // DNS names compare without case (RFC 4343); a common name is compared as written, as Vault does.
  const sans = leaf.details.dnsSans.map((name) => name.toLowerCase());
  if (entry.allowedDnsSans.length > 0 && !entry.allowedDnsSans.some((pattern) => sans.some((san) => matchesGlob(pattern.toLowerCase(), san)))) {
    return 'the client certificate\'s DNS names are not allowed by the registered certificate';
  }
  return undefined;
}

/** `*` matches any run of characters (none included); everything else matches itself. No regex: at worst pattern × value steps. */
export function matchesGlob(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

function hasBit(mask: number, bit: number): boolean {
  return (mask & (1 << bit)) !== 0;
}

/** The login's metadata about the certificate, in Vault's names and forms. */
export function certMetadata(leaf: ParsedCert, certName: string): Record<string, string> {
  return {
    cert_name: certName,
    common_name: leaf.details.commonName,
    // Decimal, as Vault shows it; node gives hex (and a negative serial, which DER allows, as is).
    serial_number: /^[0-9A-F]+$/i.test(leaf.x509.serialNumber) ? BigInt(`0x${leaf.x509.serialNumber}`).toString(10) : leaf.x509.serialNumber,
    subject_key_id: leaf.details.subjectKeyId,
    authority_key_id: leaf.details.authorityKeyId,
  };
}
