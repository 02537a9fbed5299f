import { checkKey, checkPrefix, childrenOf, type Storage } from './storage.js';

/** Volatile storage for the dev server and tests. Values are copied in and out. */
export function createInmemStorage(): Storage {
  const entries = new Map<string, Uint8Array>();
  return {
    async get(key) {
      checkKey(key);
      const value = entries.get(key);
      return value === undefined ? null : Uint8Array.prototype.slice.call(value);
    },
    async put(key, value) {
      checkKey(key);
      entries.set(key, Uint8Array.prototype.slice.call(value));
    },
    async delete(key) {
      checkKey(key);
      entries.delete(key);
    },
    async list(prefix) {
      checkPrefix(prefix);
      return childrenOf(entries.keys(), prefix);
    },
  };
}
