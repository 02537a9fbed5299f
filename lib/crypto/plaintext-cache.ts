import { createFillGuard } from '../storage/fill-guard.js';
import type { CacheSize } from '../storage/storage.js';

/**
 * The barrier's read cache of decrypted entries, so a hot secret is not decrypted on every
 * read (AES-GCM set-up is most of a read's cost). It lives only while unsealed: sealing
 * zeroes and drops every value, as it does the keys.
 *
 * Why two read caches: durable storages have their own cache below the barrier
 * (lib/storage/cache.ts), of ciphertext, which survives a seal and spares disk or network
 * reads; this one holds plaintext, dies at seal, and spares decryption. They share one
 * freshness rule, lib/storage/fill-guard.ts: a read may fill only if no write to its key
 * started or ended while it read, none is in flight, and no seal happened meanwhile. A write
 * to another key does not stop the fill. Writes also drop the key's entry at both ends.
 *
 * The barrier ends a read only by filling (a miss or an error just returns), so this cache
 * cannot tell when no read is in flight: its write stamps stay until the cap pushes the
 * oldest out, and count against the byte budget with the values (`size()` reports both).
 */

export interface PlaintextCache {
  /** A copy of the cached value, or undefined. */
  get(key: string): Buffer | undefined;
  /** `read` lent the cached bytes themselves (it must neither change nor keep them), or undefined. */
  peek<T>(key: string, read: (value: Uint8Array) => T): T | undefined;
  /** Call before reading from storage, and pass the ticket back to `fill`. */
  ticket(): number;
  /** Caches a copy of `value`, read under `ticket`, if that is still fresh (fill-guard.ts). */
  fill(key: string, value: Buffer, ticket: number): void;
  /** Call when a write to `key` starts, and `writeEnded` when it ends, failed or not. */
  writeStarted(key: string): void;
  writeEnded(key: string): void;
  /** Zeroes and drops everything, and refuses the fills of reads begun before (seal). */
  clear(): void;
  /**
   * What it holds, values and write stamps together; bytes are bounded, so entries are too
   * (each costs at least the overhead).
   */
  size(): CacheSize;
}

/** Per value; a write stamp costs at least as much (fill-guard.ts), so `maxEntries` bounds both. */
const ENTRY_OVERHEAD = 64;
/**
 * Write stamps kept at most. Past them a read is refused its fill only if more keys than this
 * were written while it read (a read here takes microseconds, or one disk read): plenty.
 */
const STAMP_LIMIT = 1024;
const STAMP_MAX_BYTES = 256 << 10;

interface Entry {
  value: Buffer;
  /** Read since eviction last passed it (the CLOCK algorithm's reference bit). */
  used: boolean;
}

export function createPlaintextCache(maxBytes = 16 << 20, maxEntryBytes = 64 << 10): PlaintextCache {
  // Approximate LRU without reordering on every hit (a hit only sets a bit): eviction walks
  // from the oldest entry, giving each recently used one a second chance at the back.
  const entries = new Map<string, Entry>();
  let bytes = 0;
  // Stamps take part of the byte budget, a sixteenth at most (so a tiny cache keeps values).
  const guard = createFillGuard({ maxEntries: STAMP_LIMIT, maxBytes: Math.min(STAMP_MAX_BYTES, Math.floor(maxBytes / 16)) });

  const cost = (key: string, value: Buffer): number => key.length * 2 + value.length + ENTRY_OVERHEAD;
  const drop = (key: string): void => {
    const old = entries.get(key);
    if (!old) return;
    entries.delete(key);
    bytes -= cost(key, old.value);
    old.value.fill(0);
  };
  const evict = (): void => {
    const budget = maxBytes - guard.memory().bytes;
    for (const [key, entry] of entries) {
      if (bytes <= budget) return;
      if (entry.used) {
        entry.used = false;
        entries.delete(key);
        entries.set(key, entry);
      } else drop(key);
    }
  };

  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entry.used = true;
      return Buffer.from(entry.value);
    },
    peek(key, read) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entry.used = true;
      return read(entry.value);
    },
    ticket: () => guard.begin(),
    fill(key, value, ticket) {
      if (value.length > maxEntryBytes || !guard.mayFill(key, ticket)) return;
      drop(key);
      const copy = Buffer.from(value);
      entries.set(key, { value: copy, used: false });
      bytes += cost(key, copy);
      // Entries given a second chance are re-visited in the same pass, so one pass is enough.
      evict();
    },
    writeStarted(key) {
      guard.writeStarted(key);
      drop(key);
    },
    writeEnded(key) {
      guard.writeEnded(key);
      drop(key);
      // The new stamp takes its share of the budget.
      evict();
    },
    clear() {
      guard.clear();
      for (const entry of entries.values()) entry.value.fill(0);
      entries.clear();
      bytes = 0;
    },
    size() {
      const stamps = guard.memory();
      return { entries: entries.size + stamps.entries, bytes: bytes + stamps.bytes, maxEntries: Math.floor(maxBytes / ENTRY_OVERHEAD), maxBytes };
    },
  };
}
