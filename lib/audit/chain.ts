import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Tamper evidence (beyond Vault). Every line carries `seq` (1, 2, …) and `crc`, the CRC-32 of
 * its own text up to `,"crc":`. Every write the device makes ends with a line that also
 * carries, as its last field, `chain` = HMAC-SHA256(chain key, the chain value before ‖ "\n" ‖
 * the text of the write's lines, each ended by "\n" but the last, which is taken without its
 * `chain` field). So every line is under a keyed value that also covers the line before it:
 * changing, removing, inserting or reordering lines breaks the chain, and `crc` names the line
 * an edit was made in (an edit that also fixes the unkeyed `crc` is caught by the keyed chain,
 * at the write it is in). A write holds at most MAX_LINES_PER_CHAIN lines before a chain
 * value, and with the device option `chain = "line"` every line carries one: one HMAC per
 * line (about 2 µs each) instead of one per write is what that costs.
 *
 * A write of one line (every line, in the first logs) is simply HMAC(key, previous ‖ "\n" ‖
 * the line without `chain`). The bytes hashed are the lines' own text, so verifying needs no
 * canonical re-encoding. A file starts with a `link` line carrying `prev`, the chain value the
 * previous file ended with ("" for the first file of a device), so rotated files verify as one
 * sequence.
 */

export interface ChainHead {
  /** The last line's seq (0 before the first line). */
  seq: number;
  /** The last chain value ("" before the first line). */
  chain: string;
}

export const GENESIS: ChainHead = { seq: 0, chain: '' };

/** Bounds how far an edit that fixed its line's `crc` can hide: one chain value per this many lines at most. */
export const MAX_LINES_PER_CHAIN = 64;

const CHAIN_TAIL = /,"chain":"([0-9a-f]{64})"\}$/;
const CRC_TAIL = /,"crc":"([0-9a-f]{8})"(?:,"chain":"[0-9a-f]{64}")?\}$/;

export function chainOf(key: Uint8Array, previous: string, covered: string): string {
  // One update: each is a call into C++.
  return createHmac('sha256', key).update(`${previous}\n${covered}`, 'utf8').digest('hex');
}

/** The `crc` of a line's text before its `,"crc":` field, as 8 hex digits. */
export function crcOf(text: string): string {
  return crc32(text).toString(16).padStart(8, '0');
}

// Fixed-width fields, filled in once the write's text is bytes (sealWrite).
const CRC_FIELD = ',"crc":"00000000"';
const CHAIN_FIELD = `,"chain":"${'0'.repeat(64)}"`;
const CRC_DIGITS_AT = ',"crc":"'.length;
const CHAIN_DIGITS_AT = ',"chain":"'.length;
const NEWLINE = 0x0a;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** 8 lower-case hex digits into `bytes` at `at`: a CRC above 2^31 is a double, which toString(16) formats slowly. */
function writeHex32(bytes: Buffer, at: number, value: number): void {
  for (let i = 7; i >= 0; i--) {
    bytes[at + i] = HEX_DIGITS[value & 15]!;
    value >>>= 4;
  }
}

/**
 * The bytes of one write: each body (a JSON object's text without its closing brace) gets `seq` and `crc`, and the last
 * (and, with `perLine`, each) a chain value over everything since the one before; `prefix`
 * (lines sealed already: a link line) goes first. The text is encoded once, with the fields
 * as placeholders, and the CRCs and HMACs are taken over those bytes and written into them:
 * no line is flattened or encoded twice (this runs for every request a device logs).
 * Returns the bytes and the new head.
 */
export function sealWrite(key: Uint8Array, head: ChainHead, bodies: readonly string[], perLine = false, prefix = ''): { bytes: Buffer; head: ChainHead } {
  let seq = head.seq;
  let text = prefix;
  for (let i = 0, run = 1; i < bodies.length; i++, run++) {
    const chained = perLine || i === bodies.length - 1 || run === MAX_LINES_PER_CHAIN;
    if (chained) run = 0;
    text += `${bodies[i]!},"seq":${++seq}${CRC_FIELD}${chained ? CHAIN_FIELD : ''}}\n`;
  }
  const bytes = Buffer.from(text, 'utf8');
  let chain = head.chain;
  let at = Buffer.byteLength(prefix, 'utf8');
  let writeStart = at;
  for (let i = 0, run = 1; i < bodies.length; i++, run++) {
    const chained = perLine || i === bodies.length - 1 || run === MAX_LINES_PER_CHAIN;
    // JSON text has no raw newline: each line ends at the next one.
    const end = bytes.indexOf(NEWLINE, at);
    const chainAt = end - 1 - CHAIN_FIELD.length;
    const crcAt = (chained ? chainAt : end - 1) - CRC_FIELD.length;
    writeHex32(bytes, crcAt + CRC_DIGITS_AT, crc32(bytes.subarray(at, crcAt)));
    if (chained) {
      run = 0;
      chain = createHmac('sha256', key).update(`${chain}\n`, 'utf8').update(bytes.subarray(writeStart, chainAt)).update('}').digest('hex');
      bytes.write(chain, chainAt + CHAIN_DIGITS_AT, 'latin1');
      writeStart = end + 1;
    }
    at = end + 1;
  }
  return { bytes, head: { seq, chain } };
}

/** A link line: the first line of every file a device opens empty, a write of its own. */
export function linkLine(key: Uint8Array, head: ChainHead): { text: string; head: ChainHead } {
  const sealed = sealWrite(key, head, [`{"time":"${new Date().toISOString()}","type":"link","prev":"${head.chain}"`]);
  return { text: sealed.bytes.toString('utf8'), head: sealed.head };
}

/** Splits a line into the text a chain value covers and the chain value; null when it carries none. */
export function splitLine(line: string): { canonical: string; chain: string } | null {
  const match = CHAIN_TAIL.exec(line);
  if (match === null) return null;
  return { canonical: `${line.slice(0, match.index)}}`, chain: match[1]! };
}

/**
 * Whether a line's `crc` matches its text: true or false, or undefined when it has none (the
 * first logs had none; a line without one is checked by its chain value alone).
 */
export function crcMatches(line: string): boolean | undefined {
  const match = CRC_TAIL.exec(line);
  if (match === null) return undefined;
  return crcOf(line.slice(0, match.index)) === match[1];
}

/** The head a file ends with, from its last complete line; null when that line carries no chain. */
export function headOfLine(line: string): ChainHead | null {
  const parts = splitLine(line);
  if (parts === null) return null;
  try {
    const seq = (JSON.parse(line) as { seq?: unknown }).seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) ? { seq, chain: parts.chain } : null;
  } catch {
    return null;
  }
}
