import type { CacheSize } from './storage.js';

/**
 * A memo bounded in entries and in estimated bytes, which starts over when either bound would
 * be passed (README, "Memory bounds"). Hot paths read `entries` directly, so a hit is one Map
 * lookup and no bookkeeping; only `remember` and `forget` count. The caller prices each entry
 * from its key alone (the key's and value's characters at two bytes each, plus a fixed cost),
 * and does not remember what is too long to be worth it. The path trie keeps a copy of this logic, since it
 * imports nothing (lib/router/router.ts).
 */
export interface BoundedMemo<K, V> {
  readonly entries: ReadonlyMap<K, V>;
  /** Adds (or replaces) an entry; an entry over the whole byte budget is not kept. */
  remember(key: K, value: V, cost: number): void;
  /** Drops an entry remembered at `cost`, if it is there. */
  forget(key: K, cost: number): void;
  clear(): void;
  size(): CacheSize;
}

export function createBoundedMemo<K, V>(maxEntries: number, maxBytes: number): BoundedMemo<K, V> {
  const entries = new Map<K, V>();
  let bytes = 0;
  const clear = (): void => {
    entries.clear();
    bytes = 0;
  };
  return {
    entries,
    remember(key, value, cost) {
      if (cost > maxBytes) return;
      if (entries.has(key)) bytes -= cost;
      else if (entries.size >= maxEntries || bytes + cost > maxBytes) clear();
      entries.set(key, value);
      bytes += cost;
    },
    forget(key, cost) {
      if (entries.delete(key)) bytes -= cost;
    },
    clear,
    size: () => ({ entries: entries.size, bytes, maxEntries, maxBytes }),
  };
}
