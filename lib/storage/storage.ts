import { ApiError } from '../errors.js';

/**
 * The physical storage contract (api.md §7). Storage is untrusted: everything but
 * `core/seal-config` reaches it already encrypted by the barrier.
 *
 * Keys are `/`-separated paths without a leading `/`. `list(prefix)` is one level deep:
 * the immediate children of `prefix` (which is "" or ends in `/`), folders ending in `/`,
 * sorted; a key and a folder of the same name coexist (`foo` and `foo/`).
 */
export interface Storage {
  /** The stored bytes, or null when the key does not exist. */
  get(key: string): Promise<Uint8Array | null>;
  /** Creates or replaces the entry; resolves once the write is durable for this backend. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Removes the entry; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Immediate children of `prefix`, sorted, folders suffixed with `/`. */
  list(prefix: string): Promise<string[]>;
}

/**
 * How much a cache or memo holds, and the most it may hold (README, "Memory bounds"). Bytes
 * are the owner's estimate of what the entries keep alive, erring high (strings count two
 * bytes a character); a cache bounded by bytes alone gives as maxEntries the count its
 * per-entry overhead allows.
 */
export interface CacheSize {
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
}

/** A storage that owns resources (files, sockets, locks) to release on shutdown. */
export interface ClosableStorage extends Storage {
  close?(): Promise<void>;
}

/** Splits the children of `prefix` out of a sorted or unsorted list of full keys. */
export function childrenOf(keys: Iterable<string>, prefix: string): string[] {
  const out = new Set<string>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (rest === '') continue;
    const slash = rest.indexOf('/');
    out.add(slash === -1 ? rest : rest.slice(0, slash + 1));
  }
  return [...out].sort();
}

/** The longest key any storage accepts, in UTF-8 bytes: room for deep paths, a bound for every backend. */
export const MAX_KEY_BYTES = 4096;

/**
 * The one key rule every storage applies (api.md §7). Keys are stored faithfully, byte for
 * byte: unicode, spaces, `%`, `.` and `..` segments are ordinary characters, never
 * normalized or resolved. Rejected, because no listing could show them consistently or
 * because two different strings would collide: the empty key, a leading `/`, a trailing
 * `/` (that names a folder), an empty segment (`//`), NUL, a lone UTF-16 surrogate (it has
 * no UTF-8 form), and keys over MAX_KEY_BYTES.
 */
export function checkKey(key: string): void {
  const why = keyProblem(key);
  if (why !== null) throw new ApiError('ERR_INVALID_PATH', `invalid storage key: ${why}`);
}

/** A list prefix is "" or a valid key followed by `/`. */
export function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  const why = prefix.endsWith('/') ? keyProblem(prefix.slice(0, -1)) : 'a list prefix must be empty or end in "/"';
  if (why !== null) throw new ApiError('ERR_INVALID_PATH', `invalid storage prefix: ${why}`);
}

// Without the u flag a pair is two code units; with it, only an unpaired half matches.
const LONE_SURROGATE = /\p{Cs}/u;

function keyProblem(key: string): string | null {
  if (key === '') return 'the key is empty';
  if (key.startsWith('/')) return 'a key must not start with "/"';
  if (key.endsWith('/')) return 'a key must not end in "/"';
  if (key.includes('//')) return 'a key must not contain an empty segment ("//")';
  if (key.includes('\0')) return 'a key must not contain NUL';
  if (LONE_SURROGATE.test(key)) return 'a key must be well-formed unicode';
  if (key.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    return `a key must not be longer than ${MAX_KEY_BYTES} bytes`;
  }
  return null;
}
