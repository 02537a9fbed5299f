import type { CacheSize, ClosableStorage } from './storage.js';

/**
 * A read cache in front of a durable storage: least recently used entries go first once the
 * cached values exceed a byte budget. It sits below the barrier, so it holds ciphertext only
 * and a sealed server keeps nothing readable in it.
 *
 * Freshness: a get that missed may only fill the cache if no write to that key started or
 * finished while it was reading. Every put/delete drops the entry when it starts and again
 * when it ends, and stamps the key with a new epoch at its end; a get remembers the epoch at
 * its start and fills only if the key is not being written and was not stamped since. So a
 * get that read the old value just before a write landed can never cache it afterwards.
 *
 * The stamps are kept only while some get is in flight. Under a steady stream of overlapping
 * reads that moment may never come, so they are capped: past the cap they are dropped and
 * every get started before that moment is refused the fill, which is what a stamp on its
 * key would have done at worst.
 *
 * Misses are not cached: for the file storage a miss costs a map lookup, and caching them
 * would let a stream of random keys (unknown tokens, say) evict every useful entry.
 */

export interface CacheOptions {
  /** Total bytes of cached values (plus a per-entry overhead); default 32 MiB. */
  maxBytes?: number;
  /** Values above this size bypass the cache; default a sixteenth of maxBytes. */
  maxEntryBytes?: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

export interface CachedStorage extends ClosableStorage {
  stats(): CacheStats;
  /** Sizes and bounds of the cached values and of the write stamps. */
  memory(): { values: CacheSize; stamps: CacheSize };
  /** Empties the cache (the storage itself is untouched). */
  purge(): void;
}

export const DEFAULT_CACHE_BYTES = 32 << 20;
/** A rough cost of a Map entry and its key, so many tiny values still respect the budget. */
const ENTRY_OVERHEAD = 96;
/** Write stamps kept at most (and their estimated bytes) before they are dropped for a floor. */
const STAMP_LIMIT = 4096;
const STAMP_MAX_BYTES = 1 << 20;
const STAMP_OVERHEAD = 48;

export function createCachedStorage(inner: ClosableStorage, options: CacheOptions = {}): CachedStorage {
  const maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
  const maxEntryBytes = options.maxEntryBytes ?? Math.floor(maxBytes / 16);
  // Map order is recency order: a hit moves the entry to the end, eviction takes the front.
  const entries = new Map<string, Uint8Array>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  let epoch = 0;
  /** Writes in flight per key. */
  const writing = new Map<string, number>();
  /** The epoch at which a write to the key last ended; only needed while some get is in flight. */
  const stamped = new Map<string, number>();
  let stampBytes = 0;
  /** Gets that started before this epoch may not fill: their stamps were dropped. */
  let floor = 0;
  let readsInFlight = 0;

  const cost = (key: string, value: Uint8Array): number => value.length + key.length * 2 + ENTRY_OVERHEAD;

  const drop = (key: string): void => {
    const old = entries.get(key);
    if (old === undefined) return;
    entries.delete(key);
    bytes -= cost(key, old);
  };

  const fill = (key: string, value: Uint8Array): void => {
    const size = cost(key, value);
    if (value.length > maxEntryBytes || size > maxBytes) return;
    drop(key);
    entries.set(key, Uint8Array.prototype.slice.call(value));
    bytes += size;
    for (const [oldest, old] of entries) {
      if (bytes <= maxBytes) break;
      entries.delete(oldest);
      bytes -= cost(oldest, old);
    }
  };

  const clearStamps = (): void => {
    stamped.clear();
    stampBytes = 0;
  };

  const stamp = (key: string): void => {
    const size = key.length * 2 + STAMP_OVERHEAD;
    if (!stamped.has(key)) {
      if (stamped.size >= STAMP_LIMIT || stampBytes + size > STAMP_MAX_BYTES) {
        clearStamps();
        floor = epoch;
        return;
      }
      stampBytes += size;
    }
    stamped.set(key, epoch);
  };

  const write = async (key: string, run: () => Promise<void>): Promise<void> => {
    writing.set(key, (writing.get(key) ?? 0) + 1);
    drop(key);
    try {
      await run();
    } finally {
      // Whether or not it failed, the stored value may have changed.
      const left = writing.get(key)! - 1;
      if (left === 0) writing.delete(key);
      else writing.set(key, left);
      epoch += 1;
      if (readsInFlight > 0) stamp(key);
      drop(key);
    }
  };

  return {
    async get(key) {
      const cached = entries.get(key);
      if (cached !== undefined) {
        hits += 1;
        entries.delete(key);
        entries.set(key, cached);
        return Uint8Array.prototype.slice.call(cached);
      }
      misses += 1;
      const started = epoch;
      readsInFlight += 1;
      try {
        const value = await inner.get(key);
        const fresh = !writing.has(key) && started >= floor && (stamped.get(key) ?? -1) <= started;
        if (value !== null && fresh) fill(key, value);
        return value;
      } finally {
        readsInFlight -= 1;
        // With no get in flight, no remembered start epoch can be older than the stamps.
        if (readsInFlight === 0) clearStamps();
      }
    },
    put: (key, value) => write(key, () => inner.put(key, value)),
    delete: (key) => write(key, () => inner.delete(key)),
    list: (prefix) => inner.list(prefix),
    async close() {
      entries.clear();
      bytes = 0;
      await inner.close?.();
    },
    stats: () => ({ hits, misses, entries: entries.size, bytes }),
    memory: () => ({
      values: { entries: entries.size, bytes, maxEntries: Math.floor(maxBytes / ENTRY_OVERHEAD), maxBytes },
      stamps: { entries: stamped.size, bytes: stampBytes, maxEntries: STAMP_LIMIT, maxBytes: STAMP_MAX_BYTES },
    }),
    purge() {
      entries.clear();
      bytes = 0;
    },
  };
}
