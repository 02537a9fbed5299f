import { hash as sha256Once } from 'node:crypto';
import { randomBytes, randomUUID } from '../crypto/random.js';
import type { CacheSize, Storage } from '../storage/storage.js';
import { clearPrefix, createView } from '../storage/view.js';
import type { CallerAuth, TokenMemo } from './request.js';

/**
 * The token store's state: entries keyed by a keyed hash (SHA-256 over a random salt
 * kept behind the barrier) of the token. The raw token is never stored, and lookups go
 * through the hash, so no code path compares raw tokens byte by byte.
 */

export interface TokenEntry {
  /** The salted SHA-256 of the token (see createTokenStore): its identity in storage. */
  hash: string;
  accessor: string;
  /** The parent's hash, '' for orphans. */
  parent: string;
  policies: string[];
  meta: Record<string, string>;
  displayName: string;
  /** Uses left; 0 means unlimited. */
  numUses: number;
  /** Unix seconds. */
  creationTime: number;
  /** The TTL the token was created or last renewed with, seconds; 0 = no expiry. */
  ttl: number;
  explicitMaxTtl: number;
  period: number;
  renewable: boolean;
  /** The path that created it, e.g. `auth/token/create`. */
  path: string;
  /** Unix ms when the token expires, 0 = never. */
  expireTime: number;
  lastRenewalTime: number;
  /** CIDR blocks the token may be used from (a login's bound_cidrs); absent or empty: anywhere. */
  boundCidrs?: string[];
}

export interface TokenStore {
  /** Loads or creates the hashing salt; called on unseal. */
  setup(): Promise<void>;
  /** Drops cached entries and key material; called on seal. */
  teardown(): void;
  hash(token: string): string;
  /** Stores a new entry for a freshly generated (or given) token. */
  create(fields: Omit<TokenEntry, 'hash' | 'accessor' | 'creationTime' | 'lastRenewalTime'>, id?: string): Promise<{ token: string; entry: TokenEntry }>;
  lookup(token: string): Promise<TokenEntry | null>;
  /**
   * For the fast path only: the entry if it is cached (no storage read, no waiting); undefined
   * means "ask `lookup`". With a connection's memo, a token the connection sent before is
   * not hashed again.
   */
  cached(token: string, memo?: TokenMemo): TokenEntry | undefined;
  lookupByHash(hash: string): Promise<TokenEntry | null>;
  lookupAccessor(accessor: string): Promise<TokenEntry | null>;
  save(entry: TokenEntry): Promise<void>;
  /** Removes one entry and its indexes (not its children). */
  remove(entry: TokenEntry): Promise<void>;
  children(hash: string): Promise<string[]>;
  /** Makes a token an orphan: drops its parent link (revoke-orphan keeps children this way). */
  detach(entry: TokenEntry): Promise<void>;
  /** What the cache of decrypted entries holds (sizes only). */
  cacheSize(): CacheSize;
}

/**
 * Decrypted entries kept, and their estimated bytes: twice the entry's JSON (its strings, as
 * UTF-16 at worst) plus the slot, the object and the caller derived from it.
 */
const CACHE_LIMIT = 8192;
const CACHE_MAX_BYTES = 8 << 20;
const CACHE_ENTRY_BYTES = 256;

interface Slot {
  entry: TokenEntry;
  bytes: number;
  /** Used since eviction last passed it (the CLOCK algorithm's reference bit, as in the barrier's cache). */
  used: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Callers are derived once per entry object; a saved change is a new entry or a new caller.
const callers = new WeakMap<TokenEntry, CallerAuth>();

export function callerOf(entry: TokenEntry): CallerAuth {
  const known = callers.get(entry);
  if (known && known.policies === entry.policies) return known;
  const caller: CallerAuth = {
    tokenHash: entry.hash,
    accessor: entry.accessor,
    policies: entry.policies,
    displayName: entry.displayName,
    metadata: entry.meta,
    root: entry.policies.includes('root'),
  };
  callers.set(entry, caller);
  return caller;
}

/**
 * Whether two tokens are the same, in time that depends on their length only (no early exit
 * on the first differing character). Used only against a token the same connection sent.
 */
function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** `barrier` is the encrypted storage; the store keeps its data under `sys/token/`. */
export function createTokenStore(barrier: Storage): TokenStore {
  const view = createView(barrier, 'sys/token/');
  // Token hashes are SHA-256 over the salt (hex) followed by the token, in one call. A
  // secret-prefix hash is a sound keyed identifier here: no one can make a stored hash
  // without the salt, and length extension only yields hashes of tokens never issued. It
  // costs a fifth of a fresh HMAC, on every authenticated request.
  let prefix: string | null = null;
  // Bumped with every salt change (setup, teardown): a memo made with another salt is stale.
  let generation = 0;
  // Decrypted entries, so an authenticated request costs one salted hash and one map lookup. A hit
  // only sets a bit; the bookkeeping is done when an entry comes in.
  const cache = new Map<string, Slot>();
  let cacheBytes = 0;
  // Bumped at both ends of every removal: a read that overlapped one may not cache what it read,
  // or a revoked token could come back into the cache and stay usable.
  let removals = 0;

  const hash = (token: string): string => {
    if (prefix === null) throw new Error('token store used before setup');
    return sha256Once('sha256', prefix + token, 'hex');
  };
  const forget = (key: string): void => {
    const slot = cache.get(key);
    if (slot === undefined) return;
    cache.delete(key);
    cacheBytes -= slot.bytes;
  };
  const remember = (entry: TokenEntry, jsonLength: number): void => {
    forget(entry.hash);
    const bytes = jsonLength * 2 + CACHE_ENTRY_BYTES;
    if (bytes > CACHE_MAX_BYTES) return;
    // Room is made before the newcomer goes in, so it is never its own victim. Recently used
    // entries get a second chance at the back; the walk reaches them again, so it ends.
    for (const [key, slot] of cache) {
      if (cache.size < CACHE_LIMIT && cacheBytes + bytes <= CACHE_MAX_BYTES) break;
      cache.delete(key);
      if (slot.used) {
        slot.used = false;
        cache.set(key, slot);
      } else cacheBytes -= slot.bytes;
    }
    cache.set(entry.hash, { entry, bytes, used: false });
    cacheBytes += bytes;
  };
  const load = async (key: string): Promise<{ entry: TokenEntry; length: number } | null> => {
    const raw = await view.get(key);
    if (raw === null) return null;
    const text = decoder.decode(raw);
    return { entry: JSON.parse(text) as TokenEntry, length: text.length };
  };

  const store: TokenStore = {
    async setup() {
      const existing = await view.get('salt');
      let next: Buffer;
      if (existing) next = Buffer.from(existing);
      else {
        next = randomBytes(32);
        await view.put('salt', next);
      }
      prefix = next.toString('hex');
      generation++;
      next.fill(0);
    },
    teardown() {
      prefix = null;
      generation++;
      cache.clear();
      cacheBytes = 0;
    },
    hash,
    async create(fields, id) {
      const token = id ?? randomUUID();
      const entry: TokenEntry = {
        ...fields,
        hash: hash(token),
        accessor: randomUUID(),
        creationTime: Math.floor(Date.now() / 1000),
        lastRenewalTime: 0,
      };
      // Indexes first: an entry that exists is always reachable from its accessor and parent.
      await view.put(`accessor/${hash(entry.accessor)}`, encoder.encode(entry.hash));
      if (entry.parent) await view.put(`parent/${entry.parent}/${entry.hash}`, new Uint8Array(0));
      await store.save(entry);
      return { token, entry };
    },
    async lookup(token) {
      if (token === '') return null;
      return await store.lookupByHash(hash(token));
    },
    cached(token, memo) {
      if (token === '' || prefix === null) return undefined;
      let key: string;
      if (memo !== undefined && memo.generation === generation && sameToken(memo.token, token)) key = memo.hash;
      else {
        key = hash(token);
        if (memo !== undefined) {
          memo.token = token;
          memo.hash = key;
          memo.generation = generation;
        }
      }
      const slot = cache.get(key);
      if (slot === undefined) return undefined;
      slot.used = true;
      return slot.entry;
    },
    async lookupByHash(key) {
      const slot = cache.get(key);
      if (slot !== undefined) {
        slot.used = true;
        return slot.entry;
      }
      const started = removals;
      const loaded = await load(`id/${key}`);
      if (loaded === null) return null;
      if (started === removals) remember(loaded.entry, loaded.length);
      return loaded.entry;
    },
    async lookupAccessor(accessor) {
      const raw = await view.get(`accessor/${hash(accessor)}`);
      return raw === null ? null : store.lookupByHash(decoder.decode(raw));
    },
    async save(entry) {
      const json = JSON.stringify(entry);
      await view.put(`id/${entry.hash}`, encoder.encode(json));
      remember(entry, json.length);
    },
    async remove(entry) {
      removals++;
      forget(entry.hash);
      try {
        await view.delete(`id/${entry.hash}`);
      } finally {
        removals++;
        forget(entry.hash);
      }
      await view.delete(`accessor/${hash(entry.accessor)}`);
      if (entry.parent) await view.delete(`parent/${entry.parent}/${entry.hash}`);
      // Child links left behind (children already revoked or detached) go with the parent.
      await clearPrefix(view, `parent/${entry.hash}/`);
    },
    async children(key) {
      return view.list(`parent/${key}/`);
    },
    async detach(entry) {
      const parent = entry.parent;
      if (!parent) return;
      await store.save({ ...entry, parent: '' });
      await view.delete(`parent/${parent}/${entry.hash}`);
    },
    cacheSize: () => ({ entries: cache.size, bytes: cacheBytes, maxEntries: CACHE_LIMIT, maxBytes: CACHE_MAX_BYTES }),
  };
  return store;
}
