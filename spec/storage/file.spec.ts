import { copyFile, readdir, readFile, stat, truncate, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openFileStorage, type FileStorage } from '../../lib/storage/file.js';
import { FILE_HEADER_BYTES, FRAME_HEADER_BYTES } from '../../lib/storage/file-log.js';
import { LOCK_FILE } from '../../lib/storage/lock.js';
import { exerciseStorage } from './contract.js';
import { tempDir, tempFileStorage } from './temp.js';

exerciseStorage('file', async () => tempFileStorage());
exerciseStorage('file, compacting on every write', async () => tempFileStorage({ compactMinBytes: 1 }));

const text = (value: Uint8Array | null): string | null => (value === null ? null : Buffer.from(value).toString());
const LOG = 'log-0000000001.nlog';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function newDir(): Promise<string> {
  const { dir, remove } = await tempDir();
  cleanups.push(remove);
  return dir;
}

async function openIn(dir: string, options?: Parameters<typeof openFileStorage>[1]): Promise<FileStorage> {
  const storage = await openFileStorage(dir, options);
  cleanups.push(() => storage.close());
  return storage;
}

async function startError(dir: string): Promise<string> {
  try {
    const storage = await openFileStorage(dir);
    await storage.close();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

describe('file storage: durability and recovery', () => {
  it('keeps every entry, overwrite and delete across a close and reopen', async () => {
    const dir = await newDir();
    const first = await openFileStorage(dir);
    await first.put('a', Buffer.from('1'));
    await first.put('b/c', Buffer.from('2'));
    await first.put('a', Buffer.from('3'));
    await first.put('gone', Buffer.from('4'));
    await first.delete('gone');
    await first.close();
    const second = await openIn(dir);
    expect(text(await second.get('a'))).toBe('3');
    expect(text(await second.get('b/c'))).toBe('2');
    expect(await second.get('gone')).toBeNull();
    expect(await second.list('')).toEqual(['a', 'b/']);
  });

  it('recovers from a crash at every byte of the last write: earlier entries intact, the torn one absent', async () => {
    const dir = await newDir();
    const storage = await openFileStorage(dir);
    await storage.put('before', Buffer.from('safe'));
    const sizeBefore = (await stat(join(dir, LOG))).size;
    await storage.put('torn', Buffer.from('x'.repeat(40)));
    await storage.close();
    const full = await readFile(join(dir, LOG));
    const frameLength = full.length - sizeBefore;
    expect(frameLength).toBeGreaterThan(FRAME_HEADER_BYTES);
    for (let cut = sizeBefore; cut < full.length; cut++) {
      const copy = await newDir();
      await writeFile(join(copy, LOG), full.subarray(0, cut), { mode: 0o600 });
      const reopened = await openFileStorage(copy);
      try {
        expect(text(await reopened.get('before'))).toBe('safe');
        expect(await reopened.get('torn')).toBeNull();
        // The torn tail is cut off, so the next write lands right after the last good frame.
        expect((await stat(join(copy, LOG))).size).toBe(sizeBefore);
        await reopened.put('after', Buffer.from('new'));
      } finally {
        await reopened.close();
      }
      const again = await openFileStorage(copy);
      expect(text(await again.get('after'))).toBe('new');
      await again.close();
    }
  });

  it('treats garbage after the last write as a torn tail', async () => {
    const dir = await newDir();
    const storage = await openFileStorage(dir);
    await storage.put('kept', Buffer.from('yes'));
    await storage.close();
    await appendFile(join(dir, LOG), Buffer.from('\x4e\x4d\x46\x31 not a real frame, just noise'));
    const reopened = await openIn(dir);
    expect(text(await reopened.get('kept'))).toBe('yes');
  });

  it('refuses to start, changing nothing, when damage sits before intact entries', async () => {
    const dir = await newDir();
    const storage = await openFileStorage(dir);
    await storage.put('first', Buffer.from('aaaa'));
    await storage.put('second', Buffer.from('bbbb'));
    await storage.close();
    const file = join(dir, LOG);
    const bytes = await readFile(file);
    bytes[FILE_HEADER_BYTES + FRAME_HEADER_BYTES + 12] ^= 0x01;
    await writeFile(file, bytes);
    expect(await startError(dir)).toMatch(/damaged at byte 24.*restore the directory from a backup/);
    expect((await readFile(file)).equals(bytes)).toBe(true);
    // The failed start released its lock: after a repair, the directory opens.
    await truncate(file, FILE_HEADER_BYTES);
    await (await openFileStorage(dir)).close();
  });

  it('shares syncs between concurrent writes (group commit)', async () => {
    const { storage, cleanup } = await tempFileStorage();
    cleanups.push(cleanup);
    await Promise.all(Array.from({ length: 200 }, (_, i) => storage.put(`k${i}`, Buffer.from(`v${i}`))));
    const { frames, records } = storage.stats();
    expect(records).toBe(200);
    expect(frames).toBeLessThan(50);
  });

  it('shows a write to readers only once it is durable', async () => {
    const { storage, cleanup } = await tempFileStorage();
    cleanups.push(cleanup);
    const put = storage.put('pending', Buffer.from('v'));
    expect(await storage.get('pending')).toBeNull();
    await put;
    expect(text(await storage.get('pending'))).toBe('v');
  });
});

describe('file storage: compaction', () => {
  it('rewrites the log down to the live entries and survives a reopen', async () => {
    const dir = await newDir();
    const storage = await openFileStorage(dir, { compactMinBytes: 64 << 10 });
    for (let round = 0; round < 40; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => storage.put(`key/${i}`, Buffer.alloc(200, round))));
    }
    await storage.put('deleted', Buffer.alloc(1000));
    await storage.delete('deleted');
    const stats = storage.stats();
    expect(stats.compactions).toBeGreaterThan(0);
    expect(stats.logBytes).toBeLessThan(64 << 10);
    await storage.compact();
    expect(storage.stats().generation).toBe(stats.generation + 1);
    expect((await readdir(dir)).sort()).toEqual([`log-${String(stats.generation + 1).padStart(10, '0')}.nlog`, LOCK_FILE].sort());
    await storage.close();
    const reopened = await openIn(dir);
    for (let i = 0; i < 20; i++) expect(Buffer.from((await reopened.get(`key/${i}`))!).equals(Buffer.alloc(200, 39))).toBe(true);
    expect(await reopened.get('deleted')).toBeNull();
    expect(await reopened.list('')).toEqual(['key/']);
  });

  it('recovers from a crash during compaction: an unfinished log is ignored, a finished one wins', async () => {
    const dir = await newDir();
    const storage = await openFileStorage(dir);
    await storage.put('k', Buffer.from('old'));
    await storage.put('k', Buffer.from('new'));
    await storage.close();
    // Crash before the rename: a half-written .tmp beside the intact log.
    await writeFile(join(dir, 'log-0000000002.nlog.tmp'), 'half a log');
    let reopened = await openFileStorage(dir);
    expect(text(await reopened.get('k'))).toBe('new');
    expect((await readdir(dir)).sort()).toEqual([LOG, LOCK_FILE].sort());
    // Crash after the rename, before the old log was deleted: the newer generation wins.
    await reopened.compact();
    await reopened.close();
    await copyFile(join(dir, 'log-0000000002.nlog'), join(dir, 'saved'));
    reopened = await openFileStorage(dir);
    await reopened.put('k', Buffer.from('newest'));
    await reopened.close();
    await copyFile(join(dir, 'saved'), join(dir, 'log-0000000002.nlog'));
    await writeFile(join(dir, LOG), 'stale generation');
    reopened = await openIn(dir);
    expect(text(await reopened.get('k'))).toBe('new');
    expect((await readdir(dir)).sort()).toEqual(['log-0000000002.nlog', LOCK_FILE, 'saved']);
  });
});

describe('file storage: files, lock and startup errors', () => {
  it('creates its files with mode 0600 and releases the lock on close', async () => {
    const dir = await newDir();
    const storage = await openFileStorage(dir);
    await storage.put('x', Buffer.from('y'));
    expect((await stat(join(dir, LOG))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, LOCK_FILE))).mode & 0o777).toBe(0o600);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).split('\n')[0]).toBe(String(process.pid));
    await storage.close();
    expect(await readdir(dir)).toEqual([LOG]);
  });

  it('never uses a key as a file name', async () => {
    const { storage, dir, cleanup } = await tempFileStorage();
    cleanups.push(cleanup);
    for (const key of ['../escape', '..', 'nomad.lock', 'log-0000000001.nlog', 'a/../../etc/passwd']) await storage.put(key, Buffer.from('v'));
    expect((await readdir(dir)).sort()).toEqual([LOG, LOCK_FILE].sort());
  });

  it('refuses a directory this process already holds', async () => {
    const dir = await newDir();
    await openIn(dir);
    expect(await startError(dir)).toMatch(new RegExp(`storage directory ${dir} is already in use`));
  });

  it('refuses a directory locked by another live process, naming it', async () => {
    const dir = await newDir();
    await writeFile(join(dir, LOCK_FILE), `${process.ppid}\nnonce\n`);
    expect(await startError(dir)).toMatch(new RegExp(`storage directory ${dir} is in use by another running server \\(pid ${process.ppid}\\)`));
  });

  it('takes over the lock of a process that no longer runs', async () => {
    const dir = await newDir();
    await writeFile(join(dir, LOCK_FILE), '2147483646\nstale\n');
    const storage = await openIn(dir);
    await storage.put('k', Buffer.from('v'));
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).split('\n')[0]).toBe(String(process.pid));
  });

  it('explains a missing directory and a path that is a file', async () => {
    const dir = await newDir();
    expect(await startError(join(dir, 'nope'))).toMatch(/storage directory .*nope does not exist/);
    await writeFile(join(dir, 'file'), '');
    expect(await startError(join(dir, 'file'))).toMatch(/storage path .*file is not a directory/);
  });

  it('refuses a file that is not a log', async () => {
    const dir = await newDir();
    await writeFile(join(dir, LOG), 'definitely not a log header');
    expect(await startError(dir)).toMatch(/not a nomad-api storage log/);
    expect(await readdir(dir)).toEqual([LOG]);
  });

  it('rejects use after close', async () => {
    const dir = await newDir();
    const storage = await openFileStorage(dir);
    await storage.close();
    await expect(storage.get('k')).rejects.toThrow(/closed/);
    await expect(storage.put('k', Buffer.from('v'))).rejects.toThrow(/closed/);
  });
});
