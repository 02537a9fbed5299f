import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStorage, type FileStorage, type FileStorageOptions } from '../../lib/storage/file.js';

/** A fresh directory for a test, removed by `remove()`. */
export async function tempDir(prefix = 'nomad-storage-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A file storage in a fresh directory; cleanup closes it and removes the directory. */
export async function tempFileStorage(options?: FileStorageOptions): Promise<{ storage: FileStorage; dir: string; cleanup(): Promise<void> }> {
  const { dir, remove } = await tempDir();
  const storage = await openFileStorage(dir, options);
  return {
    storage,
    dir,
    cleanup: async () => {
      await storage.close();
      await remove();
    },
  };
}
