import type { SnapshotEntry } from './snapshot-format.js';
import type { Storage } from './storage.js';

/**
 * Reading every entry of a storage, and replacing its whole content, over the plain Storage
 * contract (so every backend: inmem, file, etcd). `list` is one level deep, so keys are found
 * folder by folder; gets and puts run a bounded number at a time, which is what keeps a
 * remote storage (etcd) from paying one round trip after another.
 *
 * The caller makes these consistent (storage/write-gate.ts holds other writes off).
 */

/** Storage calls in flight at once: enough to fill a network round trip or a group commit. */
const PARALLEL = 64;

/**
 * Entries the server needs to be unsealed, written last by a restore: until then the old
 * keyring still opens the old keys' entries, and the new one is in place only once every
 * entry that belongs to it is. (The barrier's own names, and the seal configuration.)
 */
export const WRITTEN_LAST = ['core/master-link', 'core/keyring', 'core/seal-config'];

async function eachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Every key in the storage, sorted. */
export async function listAllKeys(storage: Storage): Promise<string[]> {
  const keys: string[] = [];
  let folders = [''];
  while (folders.length > 0) {
    const deeper: string[] = [];
    await eachLimited(folders, PARALLEL, async (folder) => {
      for (const child of await storage.list(folder)) {
        if (child.endsWith('/')) deeper.push(folder + child);
        else keys.push(folder + child);
      }
    });
    folders = deeper;
  }
  return keys.sort(compareKeys);
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every entry in the storage, sorted by key. A key that vanishes between list and get is left
 * out. Behind a read cache (storage/cache.ts), the storage under it is read: a full scan
 * would evict every hot entry.
 */
export async function readAllEntries(cached: Storage): Promise<SnapshotEntry[]> {
  const storage = (cached as { uncached?: Storage }).uncached ?? cached;
  const keys = await listAllKeys(storage);
  const values: Array<Uint8Array | null> = new Array(keys.length).fill(null);
  const indexes = keys.map((_, i) => i);
  await eachLimited(indexes, PARALLEL, async (i) => {
    values[i] = await storage.get(keys[i]!);
  });
  const entries: SnapshotEntry[] = [];
  keys.forEach((key, i) => {
    const value = values[i];
    if (value !== null && value !== undefined) entries.push([key, value]);
  });
  return entries;
}

export interface ReplaceStats {
  written: number;
  deleted: number;
}

/**
 * Makes the storage hold exactly `entries`: writes every entry (WRITTEN_LAST ones last), then
 * deletes every key the snapshot does not have, then writes or deletes the WRITTEN_LAST keys.
 * Not atomic (no storage here offers a transaction over every key): see README, "Snapshots",
 * for what a crash in the middle leaves and how to recover.
 */
export async function replaceAllEntries(storage: Storage, entries: readonly SnapshotEntry[]): Promise<ReplaceStats> {
  const last = new Set(WRITTEN_LAST);
  const wanted = new Set(entries.map(([key]) => key));
  const existing = await listAllKeys(storage);
  const first = entries.filter(([key]) => !last.has(key));
  await eachLimited(first, PARALLEL, async ([key, value]) => storage.put(key, value));
  const extras = existing.filter((key) => !wanted.has(key) && !last.has(key));
  await eachLimited(extras, PARALLEL, (key) => storage.delete(key));
  let deleted = extras.length;
  const byKey = new Map(entries);
  for (const key of WRITTEN_LAST) {
    const value = byKey.get(key);
    if (value !== undefined) await storage.put(key, value);
    else if (existing.includes(key)) {
      await storage.delete(key);
      deleted += 1;
    }
  }
  return { written: entries.length, deleted };
}
