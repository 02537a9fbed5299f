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
