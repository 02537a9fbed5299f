import { createHmac } from 'node:crypto';

/**
 * Tamper evidence (beyond Vault): every line carries `seq` (1, 2, …) and, as its last field,
 * `chain` = HMAC-SHA256(chain key, previous line's chain ‖ "\n" ‖ the line without `chain`).
 * The bytes hashed are the line's own text (its `chain` field cut off), so verifying needs no
 * canonical re-encoding. A file starts with a `link` line carrying `prev`, the chain value
 * the previous file ended with ("" for the first file of a device), so rotated files verify
 * as one sequence. Changing, removing, inserting or reordering a line breaks the chain at it.
 */

export interface ChainHead {
  /** The last line's seq (0 before the first line). */
  seq: number;
  /** The last line's chain value ("" before the first line). */
  chain: string;
}

export const GENESIS: ChainHead = { seq: 0, chain: '' };

const TAIL = /,"chain":"([0-9a-f]{64})"\}$/;

export function chainOf(key: Uint8Array, previous: string, canonical: string): string {
  // One update: each is a call into C++, and this runs for every audit line.
  return createHmac('sha256', key).update(`${previous}\n${canonical}`, 'utf8').digest('hex');
}

/**
 * The line for `body` (a JSON object's text) after `head`, and the new head. `seq` (and, for a
 * link line, `prev`) are spliced in as text: the body is serialized once, by its maker.
 */
export function sealLine(key: Uint8Array, head: ChainHead, body: string, link = false): { line: string; head: ChainHead } {
  const seq = head.seq + 1;
  const canonical = `${body.slice(0, -1)},"seq":${seq}${link ? `,"prev":"${head.chain}"` : ''}}`;
  const chain = chainOf(key, head.chain, canonical);
  return { line: `${canonical.slice(0, -1)},"chain":"${chain}"}`, head: { seq, chain } };
}

/** A link line: the first line of every file a device opens empty. */
export function linkLine(key: Uint8Array, head: ChainHead): { line: string; head: ChainHead } {
  return sealLine(key, head, `{"time":"${new Date().toISOString()}","type":"link"}`, true);
}

/** Splits a line into the text its chain covers and the chain value; null when it has none. */
export function splitLine(line: string): { canonical: string; chain: string } | null {
  const match = TAIL.exec(line);
  if (match === null) return null;
  return { canonical: `${line.slice(0, match.index)}}`, chain: match[1]! };
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
