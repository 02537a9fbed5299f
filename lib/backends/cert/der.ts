/**
 * A minimal DER reader: just enough to walk an X.509 certificate for the parts node's
 * X509Certificate does not expose (key usage bits, key identifiers, the subject's common
 * name, DNS names). Every length is checked against its parent, so malformed input throws
 * a DerError and never reads outside the buffer.
 */

export class DerError extends Error {
  override name = 'DerError';
}

export interface DerNode {
  /** The identifier octet: class, constructed bit and tag number (low tag numbers only). */
  tag: number;
  /** Where the contents start and end in the buffer. */
  start: number;
  end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** The element at `offset`, which must end by `limit`. */
export function readNode(buf: Uint8Array, offset: number, limit: number): DerNode {
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = buf[offset]!;
  // High tag numbers (0x1f) appear nowhere in the parts of a certificate read here.
  if ((tag & 0x1f) === 0x1f) throw new DerError('unsupported tag');
  let length = buf[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    // DER forbids the indefinite form (0x80); four octets are more than any certificate needs.
    if (octets === 0 || octets > 4 || start + octets > limit) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[start + i]!;
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new DerError('element overruns its parent');
  return { tag, start, end };
}

/** The elements inside a constructed one, in order. */
export function childrenOf(buf: Uint8Array, node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let offset = node.start;
  while (offset < node.end) {
    const child = readNode(buf, offset, node.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** The one top-level element that must fill the buffer. */
export function rootOf(buf: Uint8Array): DerNode {
  const node = readNode(buf, 0, buf.length);
  if (node.end !== buf.length) throw new DerError('trailing bytes');
  return node;
}

export function expectTag(node: DerNode | undefined, tag: number): DerNode {
  if (node === undefined || node.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}`);
  return node;
}

export function contentsOf(buf: Uint8Array, node: DerNode): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + node.start, node.end - node.start);
}

/** Whether an OID element holds these encoded arcs (e.g. [0x55, 0x1d, 0x0f] for 2.5.29.15). */
export function isOid(buf: Uint8Array, node: DerNode, encoded: readonly number[]): boolean {
  if (node.tag !== TAG.OID || node.end - node.start !== encoded.length) return false;
  for (let i = 0; i < encoded.length; i++) if (buf[node.start + i] !== encoded[i]) return false;
  return true;
}
