import { openFileStorage } from './file.js';
import { createInmemStorage } from './inmem.js';
import type { ClosableStorage } from './storage.js';

/**
 * Storage types selectable by `storage "<type>" { ... }`: one file plus one line here.
 * A factory validates its own options and throws an Error with a readable message.
 */
export type StorageFactory = (options: Readonly<Record<string, string>>) => Promise<ClosableStorage>;

function onlyOptions(type: string, options: Readonly<Record<string, string>>, known: string[]): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new Error(`storage "${type}": unknown option '${name}'${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`);
    }
  }
}

export const storageBackends: Record<string, StorageFactory> = {
  inmem: async (options) => {
    onlyOptions('inmem', options, []);
    return createInmemStorage();
  },
  file: async (options) => {
    onlyOptions('file', options, ['path']);
    if (!options.path) throw new Error('storage "file": path is required, e.g. storage "file" { path = "/var/lib/nomad-api" }');
    return openFileStorage(options.path);
  },
  etcd: async (options) => {
    // Loaded when configured: the etcd client, lock and batcher are six modules a server on
    // file or inmem storage would otherwise compile at every start.
    const [{ ETCD_OPTIONS }, { openEtcdStorage }] = await Promise.all([import('./etcd/options.js'), import('./etcd/open.js')]);
    onlyOptions('etcd', options, ETCD_OPTIONS);
    return openEtcdStorage(options);
  },
};

/** Whether a type keeps its data outside this process, so a read cache in front of it pays. */
export function isDurableStorage(type: string): boolean {
  return type !== 'inmem';
}

export async function createStorage(type: string, options: Readonly<Record<string, string>>): Promise<ClosableStorage> {
  const factory = Object.hasOwn(storageBackends, type) ? storageBackends[type] : undefined;
  if (!factory) throw new Error(`unknown storage type '${type}' (known: ${Object.keys(storageBackends).join(', ')})`);
  return factory(options);
}
