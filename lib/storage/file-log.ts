import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import * as zlib from 'node:zlib';

/**
 * The file storage's on-disk format: one append-only log file per generation.
 *
 *   file    = header frame*
 *   header  = "NOMADLOG" | u32 version | u32 reserved (0) | u64 seq of the first frame   (24 bytes)
 *   frame   = u32 magic | u32 payload length | u64 seq | u32 crc32 | payload             (20 + n)
 *   payload = record*
 *   record  = u8 op (1 put, 2 delete) | u32 key length | u32 value length | key (UTF-8) | value
 *
 * All integers are big-endian. The CRC covers the frame's first 16 bytes and its payload.
 * Frame seqs rise by exactly one, across generations too, so a frame that was not written in
 * this order (a stale block, a frame from another file) never passes for the next one.
 */

export const OP_PUT = 1;
export const OP_DELETE = 2;
export const FILE_HEADER_BYTES = 24;
export const FRAME_HEADER_BYTES = 20;
export const RECORD_HEADER_BYTES = 9;

const FILE_MAGIC = Buffer.from('NOMADLOG', 'latin1');
const FORMAT_VERSION = 1;
const FRAME_MAGIC = 0x4e4d4631; // "NMF1"
const FRAME_MAGIC_BYTES = Buffer.from([0x4e, 0x4d, 0x46, 0x31]);

/** zlib.crc32 arrived in Node 20.15; older 20.x releases get the table version. */
const crc32: (data: Uint8Array, value?: number) => number =
  typeof zlib.crc32 === 'function' ? zlib.crc32 : tableCrc32();

function tableCrc32(): (data: Uint8Array, value?: number) => number {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (data, value = 0) => {
    let c = ~value >>> 0;
    for (const byte of data) c = table[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return ~c >>> 0;
  };
}

export function encodeFileHeader(firstSeq: number): Buffer {
  const out = Buffer.alloc(FILE_HEADER_BYTES);
  FILE_MAGIC.copy(out, 0);
  out.writeUInt32BE(FORMAT_VERSION, 8);
  out.writeBigUInt64BE(BigInt(firstSeq), 16);
  return out;
}

/** The seq of the file's first frame, or null when this is not a log of our format. */
export function parseFileHeader(header: Buffer): number | null {
  if (header.length < FILE_HEADER_BYTES || !header.subarray(0, 8).equals(FILE_MAGIC)) return null;
  if (header.readUInt32BE(8) !== FORMAT_VERSION) return null;
  return Number(header.readBigUInt64BE(16));
}

export interface LogRecord {
  op: typeof OP_PUT | typeof OP_DELETE;
  key: Buffer;
  /** Empty for deletes. */
  value: Uint8Array;
}

export function recordBytes(record: LogRecord): number {
  return RECORD_HEADER_BYTES + record.key.length + record.value.length;
}

/** The frame as buffers for one writev: values are not copied, whatever their size. */
export function encodeFrame(seq: number, records: LogRecord[]): { buffers: Uint8Array[]; length: number } {
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  const buffers: Uint8Array[] = [head];
  let payload = 0;
  for (const record of records) {
    const header = Buffer.alloc(RECORD_HEADER_BYTES);
    header[0] = record.op;
    header.writeUInt32BE(record.key.length, 1);
    header.writeUInt32BE(record.value.length, 5);
    buffers.push(header, record.key);
    if (record.value.length > 0) buffers.push(record.value);
    payload += recordBytes(record);
  }
  head.writeUInt32BE(FRAME_MAGIC, 0);
  head.writeUInt32BE(payload, 4);
  head.writeBigUInt64BE(BigInt(seq), 8);
  let crc = crc32(head.subarray(0, 16));
  for (let i = 1; i < buffers.length; i++) crc = crc32(buffers[i]!, crc);
  head.writeUInt32BE(crc, 16);
  return { buffers, length: FRAME_HEADER_BYTES + payload };
}

/** A record found in a frame, with the absolute file offset of its value. */
export interface ScannedRecord {
  op: typeof OP_PUT | typeof OP_DELETE;
  key: string;
  valueOffset: number;
  valueLength: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The records of a frame whose CRC passed, or null when its structure is still wrong. */
function parseRecords(payload: Buffer, payloadOffset: number): ScannedRecord[] | null {
  const out: ScannedRecord[] = [];
  let at = 0;
  while (at < payload.length) {
    if (payload.length - at < RECORD_HEADER_BYTES) return null;
    const op = payload[at]!;
    const keyLength = payload.readUInt32BE(at + 1);
    const valueLength = payload.readUInt32BE(at + 5);
    const keyStart = at + RECORD_HEADER_BYTES;
    const valueStart = keyStart + keyLength;
    if ((op !== OP_PUT && op !== OP_DELETE) || valueStart + valueLength > payload.length) return null;
    if (op === OP_DELETE && valueLength !== 0) return null;
    let key: string;
    try {
      key = utf8.decode(payload.subarray(keyStart, valueStart));
    } catch {
      return null;
    }
    out.push({ op, key, valueOffset: payloadOffset + valueStart, valueLength });
    at = valueStart + valueLength;
  }
  return out;
}

/** Reads through a file in large windows, so a scan of many small frames costs few syscalls. */
class WindowReader {
  #fh: FileHandle;
  #size: number;
  #start = 0;
  #window = Buffer.alloc(0);

  constructor(fh: FileHandle, size: number) {
    this.#fh = fh;
    this.#size = size;
  }

  /** `length` bytes at `position`, or null when the file is shorter. */
  async read(position: number, length: number): Promise<Buffer | null> {
    if (position + length > this.#size) return null;
    const from = position - this.#start;
    if (from >= 0 && from + length <= this.#window.length) return this.#window.subarray(from, from + length);
    const want = Math.min(Math.max(length, 8 << 20), this.#size - position);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.#fh.read(buf, got, want - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < length) return null;
    this.#start = position;
    this.#window = buf.subarray(0, got);
    return this.#window.subarray(0, length);
  }
}

/** The frame at `at` if it is intact and carries `seq` (any seq ≥ `seq` when `anySeqFrom`). */
async function frameAt(reader: WindowReader, at: number, seq: number, anySeqFrom = false) {
  const head = await reader.read(at, FRAME_HEADER_BYTES);
  if (head === null || head.readUInt32BE(0) !== FRAME_MAGIC) return null;
  const length = head.readUInt32BE(4);
  const frameSeq = Number(head.readBigUInt64BE(8));
  if (anySeqFrom ? frameSeq < seq : frameSeq !== seq) return null;
  const expected = head.readUInt32BE(16);
  const headCrc = crc32(head.subarray(0, 16));
  const payload = await reader.read(at + FRAME_HEADER_BYTES, length);
  if (payload === null || crc32(payload, headCrc) !== expected) return null;
  const records = parseRecords(payload, at + FRAME_HEADER_BYTES);
  return records === null ? null : { records, length: FRAME_HEADER_BYTES + length };
}

export interface ScanResult {
  /** The end of the last intact frame: where the next frame goes. */
  end: number;
  nextSeq: number;
  frames: number;
  /** Bytes after `end` that belong to no intact frame (a write torn by a crash). */
  tornBytes: number;
  /** Set when an intact frame follows the damage: not a torn tail but a corrupt file. */
  corruptAt?: number;
}

/**
 * Replays every intact frame in order. A crash can only tear the last frame (the writer
 * never starts a frame before the previous one is synced), so damage followed by any intact
 * frame is corruption, which is reported rather than silently cut away.
 */
export async function scanLog(fh: FileHandle, size: number, firstSeq: number, onRecord: (r: ScannedRecord) => void): Promise<ScanResult> {
  const reader = new WindowReader(fh, size);
  let at = FILE_HEADER_BYTES;
  let seq = firstSeq;
  let frames = 0;
  for (;;) {
    const frame = await frameAt(reader, at, seq);
    if (frame === null) break;
    for (const record of frame.records) onRecord(record);
    at += frame.length;
    seq += 1;
    frames += 1;
  }
  const result: ScanResult = { end: at, nextSeq: seq, frames, tornBytes: size - at };
  if (size > at) {
    const later = await findLaterFrame(reader, fh, at + 1, size, seq);
    if (later !== null) result.corruptAt = at;
  }
  return result;
}

/** The offset of an intact frame with seq ≥ `seq` anywhere in [from, size), or null. */
async function findLaterFrame(reader: WindowReader, fh: FileHandle, from: number, size: number, seq: number): Promise<number | null> {
  const chunk = 1 << 20;
  for (let start = from; start < size; start += chunk) {
    const length = Math.min(chunk + FRAME_MAGIC_BYTES.length - 1, size - start);
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await fh.read(buf, 0, length, start);
    let hit = buf.subarray(0, bytesRead).indexOf(FRAME_MAGIC_BYTES);
    while (hit !== -1 && hit < chunk) {
      if ((await frameAt(reader, start + hit, seq, true)) !== null) return start + hit;
      hit = buf.subarray(0, bytesRead).indexOf(FRAME_MAGIC_BYTES, hit + 1);
    }
  }
  return null;
}

/** Makes a rename or a new file in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes every byte of `buffers` at `position` (writev may stop short). */
export async function writeAll(fh: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    let { bytesWritten } = await fh.writev(pending, at);
    if (bytesWritten === 0) throw new Error('short write');
    at += bytesWritten;
    const rest: Uint8Array[] = [];
    for (const buf of pending) {
      if (bytesWritten >= buf.length) bytesWritten -= buf.length;
      else {
        rest.push(bytesWritten === 0 ? buf : buf.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}


/**
 * Where the platform has O_DSYNC, a write on the append handle returns only once its data is
 * durable: the same guarantee as write + fdatasync in one system call (one thread-pool hop
 * fewer per commit). Elsewhere `appendNeedsDatasync` says the writer must call datasync itself.
 */
const DSYNC: number | undefined = constants.O_DSYNC;
export const appendNeedsDatasync = DSYNC === undefined;

export function openForAppend(path: string): Promise<FileHandle> {
  return open(path, constants.O_RDWR | (DSYNC ?? 0));
}
