import type { CacheSize } from './storage.js';

/**
 * The freshness rule of both read caches, the ciphertext one below the barrier
 * (lib/storage/cache.ts) and the plaintext one in it (lib/crypto/plaintext-cache.ts), written
 * once: a read that missed may fill the cache with what it read only if, since it began, no
 * write to that key started or ended, none is still in flight, and the cache was not cleared.
 * A value read just before a write landed is then never cached after it; a write to another
 * key does not stop the fill.
 *
 * A read takes a ticket (the current epoch) when it begins. A write marks its key as being
 * written when it starts and, when it ends (failed or not), moves the epoch on and stamps the
 * key with it. `mayFill(key, ticket)` holds if the key is not being written, its stamp is not
 * newer than the ticket, and the ticket is not below the floor.
 *
 * Stamps are bounded: past `maxEntries` or `maxBytes` the oldest go first. One invariant keeps
 * that safe: a stamp is only ever forgotten together with raising the floor to it, so the
 * reads it would have refused (tickets older than it) are refused by the floor instead; reads
 * of other keys begun after it still fill. `clear` (seal, purge) forgets every stamp and raises
 * the floor above every ticket handed out so far.
 *
 * When every `begin` is matched by an `end` (`readsEnd`), stamps are kept only while some read
 * is in flight: a write that ends with no read in flight stamps nothing, and the last read to
 * end forgets them all. Otherwise they stay until the cap pushes them out.
 */

export interface FillGuardOptions {
  /** Stamps kept at most; default 4,096. */
  maxEntries?: number;
  /** Estimated bytes of stamps kept at most (keys at two bytes a character plus an overhead); default 1 MiB. */
  maxBytes?: number;
  /** Whether the caller ends every read it begins (in a `finally`); see above. Default false. */
  readsEnd?: boolean;
}

export interface FillGuard {
  /** At the start of a read that may fill: the ticket to hand to `mayFill`. */
  begin(): number;
  /** With `readsEnd`: the read is over, filled or not. */
  end(): void;
  /** Whether the read that began with `ticket` may fill `key` now. */
  mayFill(key: string, ticket: number): boolean;
  /** A write to `key` starts; `writeEnded` must follow, even when the write fails. */
  writeStarted(key: string): void;
  writeEnded(key: string): void;
  /** Refuses the fill of every read begun so far, and forgets the stamps (writes in flight stay marked). */
  clear(): void;
  /** The stamps kept, against their bounds (writes in flight are bounded by concurrency and not counted). */
  memory(): CacheSize;
}

const STAMP_LIMIT = 4096;
const STAMP_MAX_BYTES = 1 << 20;
/** A rough cost of a Map entry and its number, on top of the key's characters. */
const STAMP_OVERHEAD = 64;

/** What a stamp is counted at: its key at two bytes a character plus the overhead. */
export function stampCost(key: string): number {
  return key.length * 2 + STAMP_OVERHEAD;
}

export function createFillGuard(options: FillGuardOptions = {}): FillGuard {
  const maxEntries = options.maxEntries ?? STAMP_LIMIT;
  const maxBytes = options.maxBytes ?? STAMP_MAX_BYTES;
  const readsEnd = options.readsEnd ?? false;
  /** Moves on at the end of every write and at every clear; a ticket is its value at a read's start. */
  let epoch = 0;
  /** Tickets below this may not fill: the stamps that would have judged them were forgotten. */
  let floor = 0;
  /** Writes in flight per key. */
  const writing = new Map<string, number>();
  /** The epoch at which a write to the key last ended; Map order is epoch order (oldest first). */
  const stamps = new Map<string, number>();
  let stampBytes = 0;
  /** Reads begun and not yet ended (with `readsEnd` only). */
  let reading = 0;

  const forgetAll = (): void => {
    stamps.clear();
    stampBytes = 0;
    floor = epoch;
  };

  const forgetOldest = (): void => {
    for (const [key, at] of stamps) {
      stamps.delete(key);
      stampBytes -= stampCost(key);
      if (at > floor) floor = at;
      return;
    }
  };

  const stamp = (key: string): void => {
    const cost = stampCost(key);
    if (cost > maxBytes || maxEntries < 1) {
      // Too big to keep at all: raise the floor to it, which makes every other stamp moot too.
      forgetAll();
      return;
    }
    if (stamps.delete(key)) stampBytes -= cost;
    while (stamps.size >= maxEntries || stampBytes + cost > maxBytes) forgetOldest();
    stamps.set(key, epoch);
    stampBytes += cost;
  };

  return {
    begin() {
      if (readsEnd) reading += 1;
      return epoch;
    },
    end() {
      if (!readsEnd || reading === 0) return;
      reading -= 1;
      // No read in flight: no ticket handed out so far can still ask, so no stamp is needed.
      if (reading === 0 && stamps.size > 0) forgetAll();
    },
    mayFill(key, ticket) {
      if (ticket < floor || writing.has(key)) return false;
      const at = stamps.get(key);
      return at === undefined || at <= ticket;
    },
    writeStarted(key) {
      writing.set(key, (writing.get(key) ?? 0) + 1);
    },
    writeEnded(key) {
      const left = (writing.get(key) ?? 1) - 1;
      if (left === 0) writing.delete(key);
      else writing.set(key, left);
      epoch += 1;
      // With no read in flight, every later ticket is at least this epoch: nothing to stamp.
      if (!readsEnd || reading > 0) stamp(key);
    },
    clear() {
      epoch += 1;
      forgetAll();
    },
    memory: () => ({ entries: stamps.size, bytes: stampBytes, maxEntries, maxBytes }),
  };
}
