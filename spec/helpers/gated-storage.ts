import { createInmemStorage } from '../../lib/storage/inmem.js';
import type { ClosableStorage } from '../../lib/storage/storage.js';

/**
 * In-memory storage whose writes to chosen keys wait until the test lets them through: a
 * "slow disk" on demand, so a response can be kept pending while the test sends more on the
 * same connection. Physical keys end in the logical key (`logical/<mount>/slow`), so
 * matching on the end of the key is enough.
 */

export interface Gate {
  /** Resolves once a matching write has reached the storage (and is being held). */
  reached: Promise<void>;
  /** Lets every held write (and later ones) through. */
  open(): void;
}

export interface GatedStorage {
  storage: ClosableStorage;
  /** Holds writes to keys ending in `suffix` until the gate opens. */
  gate(suffix: string): Gate;
}

export function createGatedStorage(): GatedStorage {
  const inner = createInmemStorage();
  const gates: Array<{ suffix: string; opened: Promise<void>; reach: () => void }> = [];
  const storage: ClosableStorage = {
    get: (key) => inner.get(key),
    list: (prefix) => inner.list(prefix),
    delete: (key) => inner.delete(key),
    async put(key, value) {
      const gate = gates.find((g) => key.endsWith(g.suffix));
      if (gate) {
        gate.reach();
        await gate.opened;
      }
      return inner.put(key, value);
    },
  };
  return {
    storage,
    gate(suffix) {
      let reach!: () => void;
      let open!: () => void;
      const reached = new Promise<void>((resolve) => (reach = resolve));
      const opened = new Promise<void>((resolve) => (open = resolve));
      gates.push({ suffix, opened, reach });
      return { reached, open };
    },
  };
}
