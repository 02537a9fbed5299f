import type { CacheSize } from '../storage/storage.js';

/**
 * The barrier's read cache of decrypted entries, so a hot secret is not decrypted on every
 * read (AES-GCM set-up is most of a read's cost). It lives only while unsealed: sealing
 * zeroes and drops every value, as it does the keys.
 *
 * Freshness: a read may fill the cache only if no write or seal happened while it was
 * reading (a global sequence number, bumped at the start and end of every write); writes
 * drop the key's entry at both ends. So a value read just before a write landed is never
 * cached after it.
 */

export interface PlaintextCache {
  /** A copy of the cached value, or undefined. */
  get(key: string): Buffer | undefined;
  /** `read` lent the cached bytes themselves (it must neither change nor keep them), or undefined. */
  peek<T>(key: string, read: (value: Uint8Array) => T): T | undefined;
  /** The current sequence number, to pass back to `fill`. */
  readonly sequence: number;
  fill(key: string, value: Buffer, sequenceAtStart: number): void;
  /** Call at the start and at the end of a write to `key`. */
  invalidate(key: string): void;
  /** Zeroes and drops everything (seal). */
  clear(): void;
  /** What it holds; bytes are bounded, so entries are too (each costs at least the overhead). */
  size(): CacheSize;
}

const ENTRY_OVERHEAD = 64;

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
  let sequence = 0;

  const cost = (key: string, value: Buffer): number => key.length * 2 + value.length + ENTRY_OVERHEAD;
  const drop = (key: string): void => {
    const old = entries.get(key);
    if (!old) return;
    entries.delete(key);
    bytes -= cost(key, old.value);
    old.value.fill(0);
  };
  const evict = (): void => {
    for (const [key, entry] of entries) {
      if (bytes <= maxBytes) return;
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
    get sequence() {
      return sequence;
    },
    fill(key, value, sequenceAtStart) {
      if (sequenceAtStart !== sequence || value.length > maxEntryBytes) return;
      drop(key);
      const copy = Buffer.from(value);
      entries.set(key, { value: copy, used: false });
      bytes += cost(key, copy);
      // Entries given a second chance are re-visited in the same pass, so one pass is enough.
      evict();
    },
    invalidate(key) {
      sequence++;
      drop(key);
    },
    clear() {
      sequence++;
      for (const entry of entries.values()) entry.value.fill(0);
      entries.clear();
      bytes = 0;
    },
    size: () => ({ entries: entries.size, bytes, maxEntries: Math.floor(maxBytes / ENTRY_OVERHEAD), maxBytes }),
  };
}
