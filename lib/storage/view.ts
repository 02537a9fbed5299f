import { createBoundedMemo } from './bounded-memo.js';
import type { CacheSize, Storage } from './storage.js';

/** Joined keys remembered per view, their estimated bytes, and the longest key remembered. */
const JOINED_LIMIT = 1024;
const JOINED_MAX_BYTES = 256 << 10;
const JOINED_MAX_KEY_LENGTH = 512;
/** A Map slot and the two string headers, roughly. */
const JOINED_ENTRY_BYTES = 64;

/**
 * A storage whose hot values are already in memory (the barrier, through its plaintext
 * cache). `peek` exists for the core's synchronous fast path alone (core/fast-path.ts):
 * it answers `read(value)` with no I/O and no waiting, or undefined for "ask `get`" (which
 * says nothing about whether the key exists). `read` is lent the storage's own bytes,
 * uncopied: it must neither change nor keep them. Ordinary code, backends included, uses
 * the async Storage methods only.
 */
export interface PeekableStorage extends Storage {
  peek<T>(key: string, read: (value: Uint8Array) => T): T | undefined;
}

/** A mount's view of the barrier: async storage for its backend, `peek` for the fast path. */
export interface MountView extends PeekableStorage {
  /** The memo of joined keys that keeps `peek` cheap (sizes only). */
  keysSize(): CacheSize;
}

/**
 * A prefixed view of a storage: conceptually a "chroot". Every mount and every core table
 * gets one, so its owner can never name a key outside its own subtree.
 */
export function createView(storage: Storage, prefix: string): Storage {
  checkViewPrefix(prefix);
  return {
    get: (key) => storage.get(prefix + key),
    put: (key, value) => storage.put(prefix + key, value),
    delete: (key) => storage.delete(prefix + key),
    list: (sub) => storage.list(prefix + sub),
  };
}

/** A view that can also peek (a mount's view of the barrier). */
export function createMountView(storage: PeekableStorage, prefix: string): MountView {
  checkViewPrefix(prefix);
  // peek serves hot reads of the same few keys: remembering the joined key hands the cache
  // the same string each time, whose hash V8 has already computed, instead of a new one to
  // flatten and hash on every request.
  const memo = createBoundedMemo<string, string>(JOINED_LIMIT, JOINED_MAX_BYTES);
  const joined = memo.entries;
  // The miss path is its own function: the hit stays small enough for V8 to inline.
  const join = (key: string): string => {
    const full = prefix + key;
    // A long key is not a hot one, and a few of them would wipe the memo: join it afresh.
    if (key.length <= JOINED_MAX_KEY_LENGTH) memo.remember(key, full, (key.length + full.length) * 2 + JOINED_ENTRY_BYTES);
    return full;
  };
  const fullKey = (key: string): string => joined.get(key) ?? join(key);
  return {
    ...createView(storage, prefix),
    peek: (key, read) => storage.peek(fullKey(key), read),
    keysSize: () => memo.size(),
  };
}

function checkViewPrefix(prefix: string): void {
  if (prefix !== '' && !prefix.endsWith('/')) throw new Error(`view prefix must end in '/': ${prefix}`);
}

/** Deletes every key under `prefix` in `storage` (depth first). */
export async function clearPrefix(storage: Storage, prefix = ''): Promise<void> {
  for (const child of await storage.list(prefix)) {
    if (child.endsWith('/')) await clearPrefix(storage, prefix + child);
    else await storage.delete(prefix + child);
  }
}
