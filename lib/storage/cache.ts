import { createFillGuard } from './fill-guard.js';
import type { CacheSize, ClosableStorage } from './storage.js';

/**
 * A read cache in front of a durable storage: least recently used entries go first once the
 * cached values exceed a byte budget.
 *
 * Why two read caches: this one sits below the barrier and holds ciphertext, so it survives a
 * seal (a sealed server keeps nothing readable in it) and spares the disk or network read of
 * the file storage and any remote storage; the barrier's own cache (lib/crypto/plaintext-cache.ts)
 * holds decrypted values, dies at seal, and spares the AES-GCM decryption. What they hold and
 * how long it may live differ; when a fill is fresh does not: both follow the one rule in
 * ./fill-guard.ts (a get may fill only if no write to its key started or ended while it read,
 * none is in flight, and the cache was not purged meanwhile). Every put/delete also drops the
 * entry when it starts and again when it ends.
 *
 * Every get ends its read in a `finally`, so the write stamps are kept only while some get is
 * in flight, and capped for a stream of overlapping gets that never leaves that moment.
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
  /** Empties the cache (the storage itself is untouched); gets in flight will not fill it. */
  purge(): void;
  /**
   * The storage behind the cache, for a full scan (a snapshot) that would otherwise evict
   * every hot entry. Only while writes are held off (storage/write-gate.ts): it bypasses the
   * cache's bookkeeping, so a write through it would leave the cache stale.
   */
  readonly uncached: ClosableStorage;
}

export const DEFAULT_CACHE_BYTES = 32 << 20;
/** A rough cost of a Map entry and its key, so many tiny values still respect the budget. */
const ENTRY_OVERHEAD = 96;

export function createCachedStorage(inner: ClosableStorage, options: CacheOptions = {}): CachedStorage {
  const maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
  const maxEntryBytes = options.maxEntryBytes ?? Math.floor(maxBytes / 16);
  // Map order is recency order: a hit moves the entry to the end, eviction takes the front.
  const entries = new Map<string, Uint8Array>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  const guard = createFillGuard({ readsEnd: true });

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

  const purge = (): void => {
    entries.clear();
    bytes = 0;
    // A get that began before the purge may not fill after it.
    guard.clear();
  };

  const write = async (key: string, run: () => Promise<void>): Promise<void> => {
    guard.writeStarted(key);
    drop(key);
    try {
      await run();
    } finally {
      // Whether or not it failed, the stored value may have changed.
      guard.writeEnded(key);
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
      const ticket = guard.begin();
      try {
        const value = await inner.get(key);
        if (value !== null && guard.mayFill(key, ticket)) fill(key, value);
        return value;
      } finally {
        guard.end();
      }
    },
    put: (key, value) => write(key, () => inner.put(key, value)),
    delete: (key) => write(key, () => inner.delete(key)),
    list: (prefix) => inner.list(prefix),
    async close() {
      purge();
      await inner.close?.();
    },
    stats: () => ({ hits, misses, entries: entries.size, bytes }),
    memory: () => ({
      values: { entries: entries.size, bytes, maxEntries: Math.floor(maxBytes / ENTRY_OVERHEAD), maxBytes },
      stamps: guard.memory(),
    }),
    purge,
    uncached: inner,
  };
}
