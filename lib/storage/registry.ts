import { createInmemStorage } from './inmem.js';
import type { ClosableStorage } from './storage.js';

/**
 * Storage types selectable by `storage "<type>" { ... }`: one file plus one line here.
 * A factory validates its own options and throws an Error with a readable message.
 */
export type StorageFactory = (options: Readonly<Record<string, string>>) => Promise<ClosableStorage>;

export const storageBackends: Record<string, StorageFactory> = {
  inmem: async () => createInmemStorage(),
};

export async function createStorage(type: string, options: Readonly<Record<string, string>>): Promise<ClosableStorage> {
  const factory = Object.hasOwn(storageBackends, type) ? storageBackends[type] : undefined;
  if (!factory) throw new Error(`unknown storage type '${type}' (known: ${Object.keys(storageBackends).join(', ')})`);
  return factory(options);
}
