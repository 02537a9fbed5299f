import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ApiError } from '../errors.js';
import {
  FILE_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  OP_DELETE,
  OP_PUT,
  RECORD_HEADER_BYTES,
  appendNeedsDatasync,
  encodeFrame,
  recordBytes,
  syncDir,
  writeAll,
  type LogRecord,
} from './file-log.js';
import { CompactionFatalError, compactLog, type Location } from './file-compact.js';
import { checkDir, notWritable, recover } from './file-open.js';
import { acquireLock, type DirLock } from './lock.js';
import { checkKey, checkPrefix, type ClosableStorage } from './storage.js';

/**
 * `storage "file"`: an append-only log in one directory (format in file-log.ts), with every
 * live key indexed in memory (key → where its value sits in the log).
 *
 * Durability: a write is acknowledged only after its frame is durable (written through an
 * O_DSYNC handle, or written and fdatasync'd where O_DSYNC does not exist), and
 * only then does it become visible to reads, so nobody ever reads a value a crash could take
 * back. Writes that arrive while a sync is in flight share the next frame and the next sync
 * (group commit). One writer appends in call order, so the last acknowledged put of a key wins.
 */

export interface FileStorageOptions {
  /** The log is compacted once it is this large and more than half of it is dead. */
  compactMinBytes?: number;
}

export interface FileStorageStats {
  generation: number;
  logBytes: number;
  liveBytes: number;
  keys: number;
  frames: number;
  records: number;
  compactions: number;
}

export interface FileStorage extends ClosableStorage {
  readonly dir: string;
  /** Waits for queued writes, closes the log and releases the lock. */
  close(): Promise<void>;
  stats(): FileStorageStats;
  /** Rewrites the log with only the live entries (it also happens on its own). */
  compact(): Promise<void>;
}

type Job =
  | { kind: 'write'; record: LogRecord; key: string; resolve: () => void; reject: (err: unknown) => void }
  | { kind: 'compact'; resolve: () => void; reject: (err: unknown) => void };

const DEFAULT_COMPACT_MIN = 64 << 20;
/** A frame gathers queued writes up to this size (one record of any size always fits). */
const MAX_FRAME_PAYLOAD = 4 << 20;

export function storageError(what: string, cause: unknown): ApiError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new ApiError('ERR_STORAGE', `file storage: ${what} failed${code ? ` (${code})` : ''}`, { cause });
}

async function readValue(location: Location): Promise<Uint8Array> {
  const { file, offset, length } = location;
  if (length === 0) return new Uint8Array(0);
  const buf = Buffer.allocUnsafe(length);
  file.readers += 1;
  try {
    let got = 0;
    while (got < length) {
      const { bytesRead } = await file.fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) throw new Error('log shorter than its index');
      got += bytesRead;
    }
  } catch (err) {
    throw storageError('read', err);
  } finally {
    file.readers -= 1;
    if (file.retired && file.readers === 0) void file.fh.close().catch(() => undefined);
  }
  return buf;
}

export async function openFileStorage(pathOption: string, options: FileStorageOptions = {}): Promise<FileStorage> {
  const dir = resolve(pathOption);
  await checkDir(dir);
  let lock: DirLock;
  try {
    lock = await acquireLock(dir);
  } catch (err) {
    throw notWritable(dir, err);
  }
  try {
    return await start(dir, lock, options);
  } catch (err) {
    await lock.release().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    throw code === undefined ? err : new Error(`cannot open file storage in ${dir}: ${(err as Error).message}`);
  }
}

async function start(dir: string, lock: DirLock, options: FileStorageOptions): Promise<FileStorage> {
  const compactMin = options.compactMinBytes ?? DEFAULT_COMPACT_MIN;
  const recovered = await recover(dir);
  const { index } = recovered;
  let { file, generation, liveBytes, end, frames } = recovered;
  let seq = recovered.nextSeq;
  let records = 0;
  let compactions = 0;
  let compactAfter = compactMin;
  let broken: unknown = null;
  let closed = false;
  const queue: Job[] = [];
  let running = false;
  let idle: (() => void) | null = null;

  const apply = (key: string, record: LogRecord, offset: number): void => {
    const old = record.op === OP_PUT ? index.set(key, { file, offset, length: record.value.length }) : index.delete(key);
    if (old !== undefined) liveBytes -= RECORD_HEADER_BYTES + record.key.length + old.length;
    if (record.op === OP_PUT) liveBytes += recordBytes(record);
  };

  const compactNow = async (): Promise<void> => {
    const result = await compactLog({ dir, generation: generation + 1, seq, index, readValue });
    const old = file;
    file = result.file;
    for (const [key, location] of result.locations) index.set(key, location);
    generation += 1;
    end = result.end;
    seq = result.nextSeq;
    compactions += 1;
    compactAfter = Math.max(compactMin, 2 * end);
    old.retired = true;
    if (old.readers === 0) await old.fh.close().catch(() => undefined);
    // Best effort: a leftover older generation is deleted by the next start anyway.
    await rm(old.path, { force: true }).catch(() => undefined);
    await syncDir(dir).catch(() => undefined);
  };

  const writeFrame = async (batch: Array<Extract<Job, { kind: 'write' }>>): Promise<void> => {
    const frame = encodeFrame(seq, batch.map((j) => j.record));
    try {
      await writeAll(file.fh, frame.buffers, end);
      if (appendNeedsDatasync) await file.fh.datasync();
    } catch (err) {
      // Cut the failed frame off; if even that fails, the log's tail is unknown: stop writing.
      try {
        await file.fh.truncate(end);
        await file.fh.sync();
      } catch (rollbackError) {
        broken = rollbackError;
      }
      for (const job of batch) job.reject(storageError('write', err));
      return;
    }
    let at = end + FRAME_HEADER_BYTES;
    for (const job of batch) {
      apply(job.key, job.record, at + RECORD_HEADER_BYTES + job.record.key.length);
      at += recordBytes(job.record);
    }
    end += frame.length;
    seq += 1;
    frames += 1;
    records += batch.length;
    for (const job of batch) job.resolve();
  };

  const run = async (): Promise<void> => {
    while (queue.length > 0) {
      if (broken !== null) {
        for (const job of queue.splice(0)) job.reject(storageError('write (the log could not be repaired after an earlier failure; restart the server)', broken));
        break;
      }
      const head = queue[0]!;
      const due = end >= compactAfter && end > 2 * (liveBytes + FILE_HEADER_BYTES);
      if (head.kind === 'compact' || due) {
        if (head.kind === 'compact') queue.shift();
        try {
          await compactNow();
          if (head.kind === 'compact') head.resolve();
        } catch (err) {
          if (err instanceof CompactionFatalError) broken = err;
          compactAfter = end + compactMin;
          if (head.kind === 'compact') head.reject(storageError('compaction', err));
        }
        continue;
      }
      const batch: Array<Extract<Job, { kind: 'write' }>> = [];
      let bytes = 0;
      while (queue.length > 0 && queue[0]!.kind === 'write') {
        const job = queue[0] as Extract<Job, { kind: 'write' }>;
        if (batch.length > 0 && bytes + recordBytes(job.record) > MAX_FRAME_PAYLOAD) break;
        queue.shift();
        batch.push(job);
        bytes += recordBytes(job.record);
      }
      await writeFrame(batch);
    }
    running = false;
    idle?.();
  };

  const submit = (job: Job): void => {
    queue.push(job);
    if (!running) {
      running = true;
      void run();
    }
  };

  const ensureOpen = (): void => {
    if (closed) throw new ApiError('ERR_STORAGE', 'file storage is closed');
  };

  const write = async (key: string, op: typeof OP_PUT | typeof OP_DELETE, value: Uint8Array): Promise<void> => {
    checkKey(key);
    ensureOpen();
    if (value.length > 0xffffffff) throw new ApiError('ERR_INVALID_REQUEST', 'value too large for file storage');
    // Copied now: the caller may reuse its buffer before the frame is written.
    const record: LogRecord = { op, key: Buffer.from(key, 'utf8'), value: op === OP_PUT ? Buffer.from(value) : new Uint8Array(0) };
    return new Promise<void>((resolve, reject) => submit({ kind: 'write', record, key, resolve, reject }));
  };

  return {
    dir,
    async get(key) {
      checkKey(key);
      ensureOpen();
      const location = index.get(key);
      return location === undefined ? null : readValue(location);
    },
    put: (key, value) => write(key, OP_PUT, value),
    async delete(key) {
      checkKey(key);
      ensureOpen();
      // With no write queued or in flight the index is the whole truth: nothing to log.
      if (!running && index.get(key) === undefined) return;
      return write(key, OP_DELETE, new Uint8Array(0));
    },
    async list(prefix) {
      checkPrefix(prefix);
      ensureOpen();
      return index.list(prefix);
    },
    stats: () => ({ generation, logBytes: end, liveBytes, keys: index.size, frames, records, compactions }),
    compact() {
      ensureOpen();
      return new Promise((resolve, reject) => submit({ kind: 'compact', resolve, reject }));
    },
    async close() {
      if (closed) return;
      closed = true;
      if (running) await new Promise<void>((resolve) => (idle = resolve));
      file.retired = true;
      if (file.readers === 0) await file.fh.close().catch(() => undefined);
      await lock.release();
    },
  };
}
