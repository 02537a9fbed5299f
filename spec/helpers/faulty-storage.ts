import { ApiError } from '../../lib/errors.js';
import type { ClosableStorage } from '../../lib/storage/storage.js';

/**
 * Fault injection: a storage wrapper that fails a chosen fraction of calls with
 * ERR_STORAGE, to prove that the layers above answer 500, keep serving and never leave
 * memory and storage disagreeing. A failed call never reaches the inner storage, which is
 * how the file storage fails too (a write it cannot sync is cut off the log, not applied).
 * The choice of which calls fail comes from a seeded generator, so a run can be replayed.
 * Test code: it lives under spec/, and lib/ never imports it (tsconfig.json's rootDir, lib,
 * would refuse the build).
 */

export type StorageOperation = 'get' | 'put' | 'delete' | 'list';

export interface FaultyOptions {
  /** Fraction of calls that fail, 0 (default) to 1. */
  rate?: number;
  /** Seed of the generator that picks the failing calls. */
  seed?: number;
  /** Which operations may fail; default all. */
  operations?: StorageOperation[];
  /** Only calls whose key (or list prefix) matches may fail; default all. */
  match?: (key: string) => boolean;
}

export interface FaultStats {
  calls: number;
  failures: number;
}

export interface FaultyStorage extends ClosableStorage {
  /** Changes the failure fraction at run time (0 turns faults off). */
  setRate(rate: number): void;
  readonly rate: number;
  stats(): FaultStats;
}

/** mulberry32: tiny, fast, and plenty for picking which calls fail. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`fault rate must be between 0 and 1, got ${rate}`);
  return rate;
}

export function createFaultyStorage(inner: ClosableStorage, options: FaultyOptions = {}): FaultyStorage {
  let rate = checkRate(options.rate ?? 0);
  const random = seededRandom(options.seed ?? 1);
  const operations = new Set<StorageOperation>(options.operations ?? ['get', 'put', 'delete', 'list']);
  let calls = 0;
  let failures = 0;

  const maybeFail = (operation: StorageOperation, key: string): void => {
    calls += 1;
    if (rate === 0 || !operations.has(operation) || (options.match && !options.match(key))) return;
    if (random() < rate) {
      failures += 1;
      throw new ApiError('ERR_STORAGE', `injected storage fault: ${operation} ${key}`);
    }
  };

  return {
    async get(key) {
      maybeFail('get', key);
      return inner.get(key);
    },
    async put(key, value) {
      maybeFail('put', key);
      return inner.put(key, value);
    },
    async delete(key) {
      maybeFail('delete', key);
      return inner.delete(key);
    },
    async list(prefix) {
      maybeFail('list', prefix);
      return inner.list(prefix);
    },
    async close() {
      await inner.close?.();
    },
    setRate(next) {
      rate = checkRate(next);
    },
    get rate() {
      return rate;
    },
    stats: () => ({ calls, failures }),
  };
}
