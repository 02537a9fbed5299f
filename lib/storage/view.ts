import { createBoundedMemo } from './bounded-memo.js';
import type { CacheSize, Storage } from './storage.js';

/** Joined keys remembered per view, their estimated bytes, and the longest key remembered. */
const JOINED_LIMIT = 1024;
const JOINED_MAX_BYTES = 256 << 10;
const JOINED_MAX_KEY_LENGTH = 512;
/** A Map slot and the two string headers, roughly. */
const JOINED_ENTRY_BYTES = 64;

/** A storage view; `keysSize()` reads its memo of joined keys. */
export interface View extends Storage {
  keysSize(): CacheSize;
}

/**
 * A prefixed view of a storage: conceptually a "chroot". Every mount gets one, so a
 * backend can never name a key outside its own subtree.
 */
export function createView(storage: Storage, prefix: string): View {
  if (prefix !== '' && !prefix.endsWith('/')) throw new Error(`view prefix must end in '/': ${prefix}`);
  const peek = storage.peek?.bind(storage);
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
    get: (key) => storage.get(prefix + key),
    put: (key, value) => storage.put(prefix + key, value),
    delete: (key) => storage.delete(prefix + key),
    list: (sub) => storage.list(prefix + sub),
    peek: peek ? (key, read) => peek(fullKey(key), read) : undefined,
    keysSize: () => memo.size(),
  };
}

/** Deletes every key under `prefix` in `storage` (depth first). */
export async function clearPrefix(storage: Storage, prefix = ''): Promise<void> {
  for (const child of await storage.list(prefix)) {
    if (child.endsWith('/')) await clearPrefix(storage, prefix + child);
    else await storage.delete(prefix + child);
  }
}
