import { childrenOf, contentsOf, DerError, expectTag, isOid, readNode, rootOf, TAG, type DerNode } from './der.js';

/**
 * What the cert backend needs from a certificate that node's X509Certificate does not give
 * (node's `keyUsage` is the *extended* key usage list): the key usage bits, the key
 * identifiers, the subject's common name and its DNS names, read from the DER.
 */

export interface CertDetails {
  /** The subject's common name ('' when it has none); the last one when there are several, as Go's x509 reads it. */
  commonName: string;
  /** The subjectAltName's dNSName entries. */
  dnsSans: string[];
  /** The keyUsage extension's bits (bit i is named bit i: 0 digitalSignature, 5 keyCertSign), or undefined when absent. */
  keyUsage: number | undefined;
  /** Lowercase colon-separated hex, '' when absent. */
  subjectKeyId: string;
  authorityKeyId: string;
}

export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5 } as const;

const OID = {
  commonName: [0x55, 0x04, 0x03],
  subjectKeyId: [0x55, 0x1d, 0x0e],
  keyUsage: [0x55, 0x1d, 0x0f],
  subjectAltName: [0x55, 0x1d, 0x11],
  authorityKeyId: [0x55, 0x1d, 0x23],
} as const;

const CONTEXT_0 = 0x80; // [0] primitive: AuthorityKeyIdentifier.keyIdentifier
const CONTEXT_2 = 0x82; // [2] primitive: GeneralName.dNSName
const EXTENSIONS = 0xa3; // [3] constructed: TBSCertificate.extensions
const VERSION = 0xa0; // [0] constructed: TBSCertificate.version

/** Reads the details; throws a DerError on anything malformed. */
export function certDetails(der: Uint8Array): CertDetails {
  const cert = expectTag(rootOf(der), TAG.SEQUENCE);
  const tbs = expectTag(childrenOf(der, cert)[0], TAG.SEQUENCE);
  const fields = childrenOf(der, tbs);
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo follow the optional version.
  const first = fields[0]?.tag === VERSION ? 1 : 0;
  const subject = expectTag(fields[first + 4], TAG.SEQUENCE);
  const details: CertDetails = { commonName: commonNameOf(der, subject), dnsSans: [], keyUsage: undefined, subjectKeyId: '', authorityKeyId: '' };
  const extensions = fields.slice(first + 6).find((node) => node.tag === EXTENSIONS);
  if (extensions === undefined) return details;
  const seen = new Set<string>();
  for (const ext of childrenOf(der, expectTag(childrenOf(der, extensions)[0], TAG.SEQUENCE))) {
    const parts = childrenOf(der, expectTag(ext, TAG.SEQUENCE));
    const id = expectTag(parts[0], TAG.OID);
    const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING);
    const key = contentsOf(der, id).toString('hex');
    // RFC 5280 §4.2: an extension appears at most once; two differing copies would be ambiguous.
    if (seen.has(key)) throw new DerError('duplicate extension');
    seen.add(key);
    const inner = (): DerNode => soleElementOf(der, value);
    if (isOid(der, id, OID.keyUsage)) details.keyUsage = keyUsageBits(der, expectTag(inner(), TAG.BIT_STRING));
    else if (isOid(der, id, OID.subjectKeyId)) details.subjectKeyId = hexOf(contentsOf(der, expectTag(inner(), TAG.OCTET_STRING)));
    else if (isOid(der, id, OID.authorityKeyId)) {
      const keyId = childrenOf(der, expectTag(inner(), TAG.SEQUENCE)).find((n) => n.tag === CONTEXT_0);
      if (keyId) details.authorityKeyId = hexOf(contentsOf(der, keyId));
    } else if (isOid(der, id, OID.subjectAltName)) {
      details.dnsSans = childrenOf(der, expectTag(inner(), TAG.SEQUENCE))
        .filter((n) => n.tag === CONTEXT_2)
        .map((n) => contentsOf(der, n).toString('latin1'));
    }
  }
  return details;
}

/** An extension's value: one DER element filling the OCTET STRING. */
function soleElementOf(der: Uint8Array, value: DerNode): DerNode {
  const node = readNode(der, value.start, value.end);
  if (node.end !== value.end) throw new DerError('trailing bytes in an extension');
  return node;
}

function keyUsageBits(der: Uint8Array, bits: DerNode): number {
  const bytes = contentsOf(der, bits);
  if (bytes.length === 0) throw new DerError('empty key usage');
  let mask = 0;
  // bytes[0] counts the unused bits of the last byte; named bit i is bit (7 - i % 8) of byte 1 + i / 8.
  for (let i = 0; i < Math.min((bytes.length - 1) * 8, 16); i++) {
    if (bytes[1 + (i >> 3)]! & (0x80 >> (i & 7))) mask |= 1 << i;
  }
  return mask;
}

/** The last commonName of the Name (a SEQUENCE of SETs of {type, value}). */
function commonNameOf(der: Uint8Array, name: DerNode): string {
  let found = '';
  for (const rdn of childrenOf(der, name)) {
    for (const pair of childrenOf(der, expectTag(rdn, TAG.SET))) {
      const [type, value] = childrenOf(der, expectTag(pair, TAG.SEQUENCE));
      if (type && value && isOid(der, type, OID.commonName)) found = stringOf(contentsOf(der, value), value.tag);
    }
  }
  return found;
}

/** The DirectoryString forms: UTF8String, PrintableString, IA5String, T61String, BMPString, UniversalString. */
function stringOf(bytes: Buffer, tag: number): string {
  switch (tag) {
    case 0x0c:
      return bytes.toString('utf8');
    case 0x13:
    case 0x16:
    case 0x14:
      return bytes.toString('latin1');
    case 0x1e: {
      if (bytes.length % 2 !== 0) throw new DerError('odd BMPString');
      const swapped = Buffer.from(bytes);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case 0x1c: {
      if (bytes.length % 4 !== 0) throw new DerError('bad UniversalString');
      const points: number[] = [];
      for (let i = 0; i < bytes.length; i += 4) points.push(bytes.readUInt32BE(i));
      if (points.some((p) => p > 0x10ffff)) throw new DerError('bad UniversalString');
      return String.fromCodePoint(...points);
    }
    default:
      throw new DerError('unsupported string type');
  }
}

function hexOf(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
