import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FRAME_HEADER_BYTES,
  FILE_HEADER_BYTES,
  OP_PUT,
  RECORD_HEADER_BYTES,
  encodeFileHeader,
  encodeFrame,
  recordBytes,
  openForAppend,
  syncDir,
  writeAll,
  type LogRecord,
} from './file-log.js';
import type { KeyTree } from './key-tree.js';

/** One open log file. A retired file is closed once its last reader is done. */
export interface LogFile {
  fh: FileHandle;
  path: string;
  readers: number;
  retired: boolean;
}

/** Where a live value sits. */
export interface Location {
  file: LogFile;
  offset: number;
  length: number;
}

export interface CompactInput {
  dir: string;
  generation: number;
  /** The seq the new log's first frame takes: seqs go on rising across generations. */
  seq: number;
  index: KeyTree<Location>;
  readValue(location: Location): Promise<Uint8Array>;
}

export interface CompactResult {
  file: LogFile;
  locations: Array<[string, Location]>;
  end: number;
  nextSeq: number;
}

const FRAME_TARGET = 4 << 20;

/** A compaction failed half way in a state where appending to the old log is no longer safe. */
export class CompactionFatalError extends Error {
  override name = 'CompactionFatalError';
  constructor(cause: unknown) {
    super('compaction could not remove its unfinished log', { cause });
  }
}

export const logName = (generation: number): string => `log-${String(generation).padStart(10, '0')}.nlog`;

/**
 * Writes every live entry into the next generation's log. The caller holds all writes back
 * meanwhile, so the copy is exactly the current state. The new log is written under a .tmp
 * name, synced, and only then renamed into place and the directory synced: until that rename
 * is durable a crash leaves the old log authoritative (recovery deletes the .tmp), and after
 * it the new one, which recovery prefers to any older generation it then deletes.
 */
export async function compactLog(input: CompactInput): Promise<CompactResult> {
  const path = join(input.dir, logName(input.generation));
  const tmp = `${path}.tmp`;
  await rm(tmp, { force: true });
  const fh = await open(tmp, 'wx', 0o600);
  const locations: Array<[string, Location]> = [];
  // Locations point at the file object, whose handle is filled in once the log is in place.
  const file = { path, readers: 0, retired: false } as LogFile;
  let end = FILE_HEADER_BYTES;
  let seq = input.seq;
  let batch: Array<[string, LogRecord]> = [];
  let batchBytes = 0;

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const frame = encodeFrame(seq, batch.map(([, record]) => record));
    await writeAll(fh, frame.buffers, end);
    let at = end + FRAME_HEADER_BYTES;
    for (const [key, record] of batch) {
      locations.push([key, { file, offset: at + RECORD_HEADER_BYTES + record.key.length, length: record.value.length }]);
      at += recordBytes(record);
    }
    end += frame.length;
    seq += 1;
    batch = [];
    batchBytes = 0;
  };

  let renamed = false;
  try {
    await writeAll(fh, [encodeFileHeader(input.seq)], 0);
    for (const [key, location] of input.index.entries()) {
      const record: LogRecord = { op: OP_PUT, key: Buffer.from(key, 'utf8'), value: await input.readValue(location) };
      if (batch.length > 0 && batchBytes + recordBytes(record) > FRAME_TARGET) await flush();
      batch.push([key, record]);
      batchBytes += recordBytes(record);
    }
    await flush();
    await fh.sync();
    await rename(tmp, path);
    renamed = true;
    await syncDir(input.dir);
    await fh.close();
    file.fh = await openForAppend(path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    // The writer goes on appending to the old log, so a new one left in place would win at
    // the next start and lose those writes: it must be gone, durably, or writing must stop.
    if (renamed) {
      try {
        await rm(path, { force: true });
        await syncDir(input.dir);
      } catch (cleanupError) {
        throw new CompactionFatalError(cleanupError);
      }
    }
    throw err;
  }
  return { file, locations, end, nextSeq: seq };
}
