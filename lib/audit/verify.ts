import { timingSafeEqual } from 'node:crypto';
import { chainOf, crcMatches, splitLine, type ChainHead } from './chain.js';

/**
 * Checks audit files against their chain (chain.ts), pure: texts in, a verdict out. Files are
 * given in rotation order (oldest first); each must start with a link line, and each link
 * must name the chain value the previous file ended with. The first problem is reported:
 *
 * - deleted: a seq gap (a line removed), or a file that does not start with its link line;
 * - reordered: a seq that comes before the one it should follow (two lines swapped);
 * - inserted: a seq seen already, or out of sequence with no line it could have swapped with;
 * - modified: a line whose `crc` does not match its text (an edited value), or a write whose
 *   chain value does not match its lines (an edit that fixed the `crc` too; or the wrong
 *   key, when it is the first write);
 * - truncated: the last line of the last file is incomplete (no newline, not JSON), or a file
 *   ends with lines no chain value covers (a write cut short);
 * - link: a file that does not continue the one before it;
 * - tail: with the device's last seq and chain (sys/audit-chain), lines removed at the end.
 *
 * What it cannot see without that last seq: whole lines removed at the end of the newest file.
 */

export type ProblemKind = 'deleted' | 'reordered' | 'inserted' | 'modified' | 'truncated' | 'link' | 'tail' | 'empty';

export interface AuditFile {
  name: string;
  text: string;
}

export type Verdict =
  | { ok: true; lines: number; files: number; firstSeq: number; lastSeq: number; head: ChainHead; startsAfter: string }
  | { ok: false; kind: ProblemKind; file: string; line: number; message: string };

interface Parsed {
  seq: number | undefined;
  type: unknown;
  prev: unknown;
}

function parse(line: string): Parsed | null {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const seq = typeof value.seq === 'number' && Number.isSafeInteger(value.seq) ? value.seq : undefined;
    return { seq, type: value.type, prev: value.prev };
  } catch {
    return null;
  }
}

const same = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function verifyAuditFiles(key: Uint8Array, files: AuditFile[], deviceHead?: ChainHead): Verdict {
  let chain = '';
  let seq = 0;
  let firstSeq = 0;
  let startsAfter = '';
  let total = 0;
  let lastName = '';
  let lastLine = 0;
  for (let f = 0; f < files.length; f++) {
    const { name, text } = files[f]!;
    const lines = text.split('\n');
    const endsWithNewline = lines.at(-1) === '';
    if (endsWithNewline) lines.pop();
    const fail = (kind: ProblemKind, line: number, message: string): Verdict => ({ ok: false, kind, file: name, line, message });
    if (lines.length === 0) return fail('empty', 0, 'the file is empty: even a new audit file starts with a link line');
    const parsed = lines.map(parse);
    // The lines of the write under way (no chain value yet), with their newlines, and where it began.
    let covered = '';
    let writeStart = 0;
    for (let i = 0; i < lines.length; i++) {
      const n = i + 1;
      const line = lines[i]!;
      const entry = parsed[i];
      const lastOfAll = f === files.length - 1 && i === lines.length - 1;
      const parts = splitLine(line);
      const crc = crcMatches(line);
      if (entry === null || entry.seq === undefined || (parts === null && crc === undefined)) {
        if (lastOfAll && !endsWithNewline) return fail('truncated', n, `line ${n} is incomplete: the file was truncated (its tail is cut off)`);
        return fail('modified', n, `line ${n} is not a complete audit line (not JSON, or no seq, crc or chain): it was modified or inserted`);
      }
      if (i === 0) {
        if (entry.type !== 'link' || typeof entry.prev !== 'string') {
          return fail('deleted', n, 'line 1 is not a link line: the start of the file was removed');
        }
        if (f === 0) {
          chain = entry.prev;
          seq = entry.seq - 1;
          firstSeq = entry.seq;
          startsAfter = entry.prev;
        } else if (entry.prev !== chain || entry.seq !== seq + 1) {
          return fail('link', n, `the file does not continue ${lastName}: its link names seq ${entry.seq} after chain ${String(entry.prev).slice(0, 12)}…, but ${lastName} ends at seq ${seq} with chain ${chain.slice(0, 12)}… (files out of order, or lines missing between them)`);
        }
      } else if (entry.type === 'link' && (entry.prev !== chain || covered !== '')) {
        return fail('modified', n, `line ${n} is a link line that does not name the chain value before it`);
      }
      const expected = seq + 1;
      if (entry.seq !== expected) {
        const at = parsed.findIndex((p, j) => j > i && p?.seq === expected);
        if (entry.seq > expected && at !== -1) {
          return fail('reordered', n, `line ${n} (seq ${entry.seq}) comes before seq ${expected} (line ${at + 1}): lines were reordered`);
        }
        if (entry.seq > expected) {
          const missing = entry.seq - expected;
          return fail('deleted', n, `${missing} line${missing === 1 ? '' : 's'} missing before line ${n}: seq ${expected}${missing === 1 ? '' : `–${entry.seq - 1}`} ${missing === 1 ? 'was' : 'were'} deleted`);
        }
        const seen = parsed.slice(0, i).some((p) => p?.seq === entry.seq);
        return fail(seen ? 'inserted' : 'reordered', n, `line ${n} has seq ${entry.seq} where ${expected} was expected: ${seen ? 'a line was inserted (its seq is used twice)' : 'lines were reordered or a line was inserted'}`);
      }
      if (crc === false) return fail('modified', n, `line ${n} (seq ${entry.seq}) does not match its crc: it was modified`);
      seq = entry.seq;
      total++;
      if (parts === null) {
        // Inside a write: the chain value at its last line covers this one.
        if (covered === '') writeStart = n;
        covered += `${line}\n`;
        continue;
      }
      if (!same(chainOf(key, chain, `${covered}${parts.canonical}`), parts.chain)) {
        const hint = total === 1 || total === n - writeStart + 1 ? ' (or the key is not this device\'s)' : '';
        if (covered === '') return fail('modified', n, `line ${n} (seq ${entry.seq}) does not match its chain value: it was modified or inserted${hint}`);
        return fail('modified', writeStart, `lines ${writeStart}–${n} (seq ${entry.seq - (n - writeStart)}–${entry.seq}), one write, do not match their chain value: one of them was modified, its crc made to match${hint}`);
      }
      chain = parts.chain;
      covered = '';
    }
    if (covered !== '') {
      const count = lines.length - writeStart + 1;
      return fail('truncated', writeStart, `the last ${count === 1 ? 'line' : `${count} lines`} (from line ${writeStart}) ${count === 1 ? 'has' : 'have'} no chain value: the file was cut inside a write`);
    }
    lastName = name;
    lastLine = lines.length;
  }
  if (deviceHead !== undefined) {
    const fail = (message: string): Verdict => ({ ok: false, kind: 'tail', file: lastName, line: lastLine, message });
    if (deviceHead.seq > seq) {
      const missing = deviceHead.seq - seq;
      return fail(`the log ends at seq ${seq} but the device has written up to seq ${deviceHead.seq}: the last ${missing} line${missing === 1 ? ' was' : 's were'} removed`);
    }
    if (deviceHead.seq === seq && deviceHead.chain !== chain) return fail(`the log's last line (seq ${seq}) is not the one the device wrote`);
  }
  return { ok: true, lines: total, files: files.length, firstSeq, lastSeq: seq, head: { seq, chain }, startsAfter };
}
