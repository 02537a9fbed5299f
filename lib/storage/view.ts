import type { Storage } from './storage.js';

const JOINED_LIMIT = 1024;

/**
 * A prefixed view of a storage: conceptually a "chroot". Every mount gets one, so a
 * backend can never name a key outside its own subtree.
 */
export function createView(storage: Storage, prefix: string): Storage {
  if (prefix !== '' && !prefix.endsWith('/')) throw new Error(`view prefix must end in '/': ${prefix}`);
  const peek = storage.peek?.bind(storage);
  // peek serves hot reads of the same few keys: remembering the joined key hands the cache
  // the same string each time, whose hash V8 has already computed, instead of a new one to
  // flatten and hash on every request.
  const joined = new Map<string, string>();
  const fullKey = (key: string): string => {
    let full = joined.get(key);
    if (full === undefined) {
      if (joined.size >= JOINED_LIMIT) joined.clear();
      full = prefix + key;
      joined.set(key, full);
    }
    return full;
  };
  return {
    get: (key) => storage.get(prefix + key),
    put: (key, value) => storage.put(prefix + key, value),
    delete: (key) => storage.delete(prefix + key),
    list: (sub) => storage.list(prefix + sub),
    peek: peek ? (key, read) => peek(fullKey(key), read) : undefined,
  };
}

/** Deletes every key under `prefix` in `storage` (depth first). */
export async function clearPrefix(storage: Storage, prefix = ''): Promise<void> {
  for (const child of await storage.list(prefix)) {
    if (child.endsWith('/')) await clearPrefix(storage, prefix + child);
    else await storage.delete(prefix + child);
  }
}
