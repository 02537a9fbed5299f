import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors.js';
import { checkKey } from './storage.js';

/**
 * The storage snapshot file (README, "Snapshots"): every physical entry, as stored (so still
 * encrypted by the barrier), sorted by key, with a SHA-256 over everything before it.
 *
 *   header   "NMDSNAP\n" (8 bytes) · version u8 = 1 · 3 zero bytes · entry count u64 BE ·
 *            created at, Unix ms u64 BE                                     (28 bytes)
 *   entries  count × { key length u32 BE · key UTF-8 · value length u32 BE · value }
 *   trailer  "NMDSEND\n" (8 bytes) · SHA-256 of every byte before the digest (32 bytes)
 *
 * Keys are strictly increasing (JS string order), so a file has one reading and no
 * duplicates. Integers are big-endian. Nothing in it is secret without the unseal keys:
 * values are the barrier's ciphertext, and `core/seal-config` (plaintext) says only how many
 * shares there are.
 */

export const SNAPSHOT_MAGIC = Buffer.from('NMDSNAP\n', 'latin1');
export const SNAPSHOT_END = Buffer.from('NMDSEND\n', 'latin1');
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_CONTENT_TYPE = 'application/octet-stream';
const HEADER_BYTES = 28;
const DIGEST_BYTES = 32;
const TRAILER_BYTES = SNAPSHOT_END.length + DIGEST_BYTES;
/** Entries are gathered into chunks about this size, so a stream writes few large buffers. */
const CHUNK_BYTES = 256 << 10;

export type SnapshotEntry = readonly [key: string, value: Uint8Array];

export interface SnapshotInfo {
  entries: SnapshotEntry[];
  createdAt: number;
}

/** The exact size of the encoded snapshot, for Content-Length. */
export function snapshotSize(entries: readonly SnapshotEntry[]): number {
  let size = HEADER_BYTES + TRAILER_BYTES;
  for (const [key, value] of entries) size += 8 + Buffer.byteLength(key, 'utf8') + value.length;
  return size;
}

/**
 * The snapshot's bytes, in chunks of about CHUNK_BYTES (lazily: only one chunk is built
 * ahead of the consumer). `entries` must be sorted by key.
 */
export function* encodeSnapshot(entries: readonly SnapshotEntry[], createdAt = Date.now()): Generator<Buffer> {
  const hash = createHash('sha256');
  const header = Buffer.alloc(HEADER_BYTES);
  SNAPSHOT_MAGIC.copy(header, 0);
  header[8] = SNAPSHOT_VERSION;
  header.writeBigUInt64BE(BigInt(entries.length), 12);
  header.writeBigUInt64BE(BigInt(createdAt), 20);
  let parts: Buffer[] = [header];
  let size = header.length;
  const flush = (): Buffer => {
    const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    hash.update(chunk);
    parts = [];
    size = 0;
    return chunk;
  };
  for (const [key, value] of entries) {
    const keyBytes = Buffer.from(key, 'utf8');
    const lengths = Buffer.allocUnsafe(4);
    lengths.writeUInt32BE(keyBytes.length, 0);
    const valueLength = Buffer.allocUnsafe(4);
    valueLength.writeUInt32BE(value.length, 0);
    parts.push(lengths, keyBytes, valueLength, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    size += 8 + keyBytes.length + value.length;
    if (size >= CHUNK_BYTES) yield flush();
  }
  parts.push(SNAPSHOT_END);
  size += SNAPSHOT_END.length;
  const last = flush();
  yield Buffer.concat([last, hash.digest()]);
}

/** The whole snapshot as one buffer (specs, small storages). */
export function encodeSnapshotBuffer(entries: readonly SnapshotEntry[], createdAt?: number): Buffer {
  return Buffer.concat([...encodeSnapshot(entries, createdAt)]);
}

function invalid(why: string): ApiError {
  // Never quotes the bytes: they are ciphertext, and the message may reach a log.
  return new ApiError('ERR_INVALID_REQUEST', `invalid snapshot: ${why}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a snapshot completely (checksum first, then the framing of every entry) and returns
 * its entries, or throws ERR_INVALID_REQUEST (400). Values are views into `bytes`.
 */
export function decodeSnapshot(bytes: Buffer): SnapshotInfo {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) throw invalid('too short (truncated?)');
  if (!bytes.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) throw invalid('not a nomad-api storage snapshot (bad magic)');
  if (bytes[8] !== SNAPSHOT_VERSION) throw invalid(`unsupported format version ${bytes[8]} (this server reads version ${SNAPSHOT_VERSION})`);
  const digestAt = bytes.length - DIGEST_BYTES;
  const expected = createHash('sha256').update(bytes.subarray(0, digestAt)).digest();
  if (!timingSafeEqual(expected, bytes.subarray(digestAt))) throw invalid('checksum mismatch (the file is damaged or truncated)');
  if (bytes[9] !== 0 || bytes[10] !== 0 || bytes[11] !== 0) throw invalid('reserved header bytes are not zero');
  const count = bytes.readBigUInt64BE(12);
  const createdAt = Number(bytes.readBigUInt64BE(20));
  const end = digestAt - SNAPSHOT_END.length;
  if (!bytes.subarray(end, digestAt).equals(SNAPSHOT_END)) throw invalid('missing end marker');
  // Each entry takes at least 8 bytes: a count beyond that cannot be honest.
  if (count > BigInt(Math.floor((end - HEADER_BYTES) / 8))) throw invalid('entry count larger than the file');
  const entries: SnapshotEntry[] = [];
  let at = HEADER_BYTES;
  let previous: string | undefined;
  for (let i = 0n; i < count; i++) {
    if (at + 4 > end) throw invalid('entry past the end');
    const keyLength = bytes.readUInt32BE(at);
    at += 4;
    if (at + keyLength + 4 > end) throw invalid('entry past the end');
    let key: string;
    try {
      key = utf8.decode(bytes.subarray(at, at + keyLength));
    } catch {
      throw invalid('a key is not valid UTF-8');
    }
    at += keyLength;
    try {
      checkKey(key);
    } catch {
      throw invalid('a key is not a valid storage key');
    }
    if (previous !== undefined && !(previous < key)) throw invalid('keys are not in strictly increasing order');
    const valueLength = bytes.readUInt32BE(at);
    at += 4;
    if (at + valueLength > end) throw invalid('entry past the end');
    entries.push([key, bytes.subarray(at, at + valueLength)]);
    at += valueLength;
    previous = key;
  }
  if (at !== end) throw invalid('bytes left between the last entry and the end marker');
  return { entries, createdAt };
}
