import type { CacheSize } from '../../storage/storage.js';

/**
 * Token buckets, one per (limit, client address), refilled lazily when used: a bucket holds
 * what it had at its last use and when that was, and the tokens earned since are worked out
 * on the next one. No timer, no sweep.
 *
 * Bounded memory rests on one fact: a bucket that has refilled to full (and blocks nobody)
 * behaves exactly as no bucket at all, so it can be dropped whenever. The Map keeps buckets
 * in order of last use (a use moves its bucket to the end); each new bucket first drops the
 * oldest few that are idle, and at the hard cap the oldest one whatever its state. That
 * last rule can forgive a flooding address early; it is the safe trade, because reaching it
 * takes `maxEntries` other addresses sending within one refill time, and each of those has
 * a fresh burst of its own anyway: forgiving the oldest gives such a client nothing it did
 * not already have, while an unbounded map would let it exhaust the server's memory.
 */

/** A limit's numbers; times in seconds. */
export interface Limit {
  /** Tokens earned per `interval`. */
  readonly rate: number;
  readonly interval: number;
  /** The bucket's size: how many requests may pass at once after a quiet spell. */
  readonly burst: number;
  /** Once refused, refuse everything for this long (0: just wait for the next token). */
  readonly blockInterval: number;
}

interface Bucket {
  limit: Limit;
  tokens: number;
  /** Milliseconds (the store's clock). */
  updatedAt: number;
  blockedUntil: number;
}

/** The outcome of one take. One object per store, overwritten by the next take: read it at once. */
export interface Take {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the next request would pass (≥ 1 when refused; 0 when allowed). */
  retryAfter: number;
  /** Seconds until the bucket is full again. */
  reset: number;
}

export interface BucketStore {
  /** Spends a token of `limit`'s bucket for `address`, or refuses. `key` tells limits apart. */
  take(key: string, limit: Limit, address: string): Take;
  /** Drops every bucket whose key starts with `prefix` (a limit that changed or went away). */
  dropPrefix(prefix: string): void;
  clear(): void;
  size(): CacheSize;
}

export interface BucketStoreOptions {
  maxEntries?: number;
  /** Milliseconds; tests inject a clock. */
  now?: () => number;
}

export const MAX_BUCKETS = 65_536;
/** Idle buckets looked at (from the oldest) before each new one is added. */
const SWEEP_PER_INSERT = 4;
/** A bucket object, its Map slot and the key's string header, roughly; the key's characters count apart. */
const BUCKET_BYTES = 160;
/** The longest key: a limit key (short) plus an IPv6 address with a zone. */
const MAX_KEY_CHARS = 80;

/**
 * Who a bucket is for. `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) and
 * `10.0.0.1` are one client. An IPv6 client is its /64: one host is routinely given a whole
 * /64, so counting single IPv6 addresses would let it pick a fresh bucket (and push real
 * clients' buckets out of the table) for every request.
 */
export function clientAddressOf(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.', 7)) return address.slice(7);
  return address.includes(':') ? ipv6Network64(address) : address;
}

/** `2001:db8:1:2:a:b:c:d` → `2001:db8:1:2::/64`; what cannot be read is kept whole. */
function ipv6Network64(address: string): string {
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  // An embedded IPv4 tail (`::1.2.3.4`) sits in the last 32 bits: outside the /64.
  const halves = bare.split('::');
  if (halves.length > 2) return address;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail] : head;
  const network = groups.slice(0, 4);
  if (network.length < 4 || network.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return address;
  return `${network.map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}

export function createBucketStore(options: BucketStoreOptions = {}): BucketStore {
  const maxEntries = options.maxEntries ?? MAX_BUCKETS;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  let keyChars = 0;
  const result: Take = { allowed: true, remaining: 0, retryAfter: 0, reset: 0 };

  const refill = (bucket: Bucket, at: number): void => {
    const { rate, interval, burst } = bucket.limit;
    const elapsed = at - bucket.updatedAt;
    if (elapsed > 0) bucket.tokens = Math.min(burst, bucket.tokens + (elapsed / 1000) * (rate / interval));
    bucket.updatedAt = at;
  };

  const idle = (bucket: Bucket, at: number): boolean => {
    if (bucket.blockedUntil > at) return false;
    const { rate, interval, burst } = bucket.limit;
    return bucket.tokens + ((at - bucket.updatedAt) / 1000) * (rate / interval) >= burst;
  };

  const remove = (key: string): void => {
    buckets.delete(key);
    keyChars -= key.length;
  };

  const makeRoom = (at: number): void => {
    let looked = 0;
    for (const [key, bucket] of buckets) {
      if (looked++ === SWEEP_PER_INSERT) break;
      if (idle(bucket, at)) remove(key);
    }
    while (buckets.size >= maxEntries) remove(buckets.keys().next().value as string);
  };

  /** Seconds for `tokens` more tokens at the limit's rate. */
  const secondsFor = (tokens: number, limit: Limit): number => (tokens * limit.interval) / limit.rate;

  return {
    take(limitKey, limit, address) {
      const at = now();
      const key = limitKey + clientAddressOf(address);
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        makeRoom(at);
        bucket = { limit, tokens: limit.burst, updatedAt: at, blockedUntil: 0 };
        keyChars += key.length;
      } else {
        // To the end of the Map: the oldest entries are then the least recently used.
        buckets.delete(key);
        refill(bucket, at);
      }
      buckets.set(key, bucket);

      if (bucket.blockedUntil > at) {
        result.allowed = false;
        result.remaining = 0;
        result.retryAfter = Math.max(1, Math.ceil((bucket.blockedUntil - at) / 1000));
      } else if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        result.allowed = true;
        result.remaining = Math.floor(bucket.tokens);
        result.retryAfter = 0;
      } else {
        result.allowed = false;
        result.remaining = 0;
        if (limit.blockInterval > 0) {
          bucket.blockedUntil = at + limit.blockInterval * 1000;
          result.retryAfter = Math.max(1, Math.ceil(limit.blockInterval));
        } else {
          result.retryAfter = Math.max(1, Math.ceil(secondsFor(1 - bucket.tokens, limit)));
        }
      }
      const untilFull = secondsFor(limit.burst - bucket.tokens, limit);
      result.reset = Math.ceil(Math.max(untilFull, (bucket.blockedUntil - at) / 1000, 0));
      return result;
    },

    dropPrefix(prefix) {
      for (const key of buckets.keys()) if (key.startsWith(prefix)) remove(key);
    },

    clear() {
      buckets.clear();
      keyChars = 0;
    },

    size() {
      return {
        entries: buckets.size,
        bytes: buckets.size * BUCKET_BYTES + keyChars * 2,
        maxEntries,
        maxBytes: maxEntries * (BUCKET_BYTES + MAX_KEY_CHARS * 2),
      };
    },
  };
}
