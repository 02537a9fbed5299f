import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FILE_HEADER_BYTES,
  OP_PUT,
  RECORD_HEADER_BYTES,
  encodeFileHeader,
  openForAppend,
  parseFileHeader,
  scanLog,
  syncDir,
  writeAll,
} from './file-log.js';
import { logName, type Location, type LogFile } from './file-compact.js';
import { createKeyTree, type KeyTree } from './key-tree.js';
import { LockError } from './lock.js';

/** Opening a file storage: checking its directory, choosing its log, and crash recovery. */

const LOG_NAME = /^log-(\d{10})\.nlog$/;

/** Checks the directory and explains each way it can be unusable. */
export async function checkDir(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`storage directory ${dir} does not exist; create it (mode 0700) first`);
    throw new Error(`cannot access storage directory ${dir} (${code})`);
  }
  if (!info.isDirectory()) throw new Error(`storage path ${dir} is not a directory`);
}

export function notWritable(dir: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    const who = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
    return new Error(`storage directory ${dir} is not writable by this process${who} (${code})`);
  }
  return err instanceof LockError ? err : new Error(`cannot lock storage directory ${dir}: ${(err as Error).message}`);
}

/** Picks the newest complete log (creating the first one); `older` are superseded generations. */
async function openLog(dir: string): Promise<{ generation: number; fh: FileHandle; path: string; older: number[] }> {
  const names = await readdir(dir);
  const generations = names.flatMap((n) => (LOG_NAME.test(n) ? [Number(LOG_NAME.exec(n)![1])] : [])).sort((a, b) => a - b);
  // A .tmp log is a compaction or creation that never finished; the log it was to replace is intact.
  for (const name of names) if (name.endsWith('.nlog.tmp')) await rm(join(dir, name), { force: true });
  let generation = generations.pop();
  if (generation === undefined) {
    generation = 1;
    const path = join(dir, logName(generation));
    const fh = await open(`${path}.tmp`, 'wx', 0o600);
    try {
      await writeAll(fh, [encodeFileHeader(1)], 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(`${path}.tmp`, path);
    await syncDir(dir);
  }
  const path = join(dir, logName(generation));
  const fh = await openForAppend(path);
  await fh.chmod(0o600);
  return { generation, fh, path, older: generations };
}

export interface Recovered {
  file: LogFile;
  generation: number;
  index: KeyTree<Location>;
  liveBytes: number;
  end: number;
  nextSeq: number;
  frames: number;
}

/** Rebuilds the index from the newest log and cuts off the tail of a write a crash tore. */
export async function recover(dir: string): Promise<Recovered> {
  const opened = await openLog(dir);
  const file: LogFile = { fh: opened.fh, path: opened.path, readers: 0, retired: false };
  try {
    const index = createKeyTree<Location>();
    let liveBytes = 0;
    const { size } = await file.fh.stat();
    const header = Buffer.alloc(FILE_HEADER_BYTES);
    await file.fh.read(header, 0, FILE_HEADER_BYTES, 0);
    const firstSeq = parseFileHeader(header);
    if (firstSeq === null) throw new Error(`${file.path} is not a nomad-api storage log (bad header)`);
    const scan = await scanLog(file.fh, size, firstSeq, (r) => {
      const keyBytes = Buffer.byteLength(r.key, 'utf8');
      const old = r.op === OP_PUT ? index.set(r.key, { file, offset: r.valueOffset, length: r.valueLength }) : index.delete(r.key);
      if (old !== undefined) liveBytes -= RECORD_HEADER_BYTES + keyBytes + old.length;
      if (r.op === OP_PUT) liveBytes += RECORD_HEADER_BYTES + keyBytes + r.valueLength;
    });
    if (scan.corruptAt !== undefined) {
      throw new Error(
        `${file.path} is damaged at byte ${scan.corruptAt}: intact entries follow the damage, so a crash cannot explain it; ` +
          'nothing was changed, restore the directory from a backup',
      );
    }
    if (scan.tornBytes > 0) {
      // The tail of a write a crash interrupted: it was never acknowledged, so it is cut away.
      await file.fh.truncate(scan.end);
      await file.fh.sync();
    }
    // Left by a compaction that crashed before deleting them; removed only once the newer one
    // has proved readable, so a damaged newest log never costs the older copy too.
    for (const old of opened.older) await rm(join(dir, logName(old)), { force: true });
    return { file, generation: opened.generation, index, liveBytes, end: scan.end, nextSeq: scan.nextSeq, frames: scan.frames };
  } catch (err) {
    await file.fh.close().catch(() => undefined);
    throw err;
  }
}

