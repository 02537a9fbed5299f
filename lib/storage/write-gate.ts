import { ApiError } from '../errors.js';
import { createSerialQueue } from '../serial.js';
import type { ClosableStorage } from './storage.js';

/**
 * A gate on the physical storage's writes, for snapshots (core/sys/snapshot.ts). Every put and
 * delete passes through it; `hold(fn)` closes it: it waits until the writes in flight have
 * settled, holds back new ones, runs `fn` against the storage behind the gate, and reopens.
 * So what `fn` reads is one point in time, with no write half done (a snapshot is
 * consistent), and what it writes meets no other write (a restore is not interleaved).
 *
 * Reads pass through unheld: they change nothing. Holds run one at a time.
 *
 * A write held back by a hold that *replaced* the storage (a restore) is refused, never
 * applied: it was encrypted under the keyring that was just replaced, and would land as an
 * entry nobody can decrypt. The server is sealed by then, hence ERR_SEALED (503).
 */

export interface WriteGate {
  /** The storage with gated writes; other properties (an HA lock, stats) come from the inner storage. */
  readonly storage: ClosableStorage;
  hold<T>(fn: (inner: ClosableStorage) => Promise<T>, options?: { replaces?: boolean }): Promise<T>;
}

export function createWriteGate(inner: ClosableStorage): WriteGate {
  let inFlight = 0;
  let drained: (() => void) | null = null;
  /** Settles when the current hold ends; null while the gate is open. */
  let held: Promise<void> | null = null;
  let replacements = 0;
  const holds = createSerialQueue();

  const settled = (): void => {
    inFlight -= 1;
    if (inFlight === 0 && drained !== null) {
      const wake = drained;
      drained = null;
      wake();
    }
  };

  const start = (run: () => Promise<void>): Promise<void> => {
    inFlight += 1;
    let pending: Promise<void>;
    try {
      pending = run();
    } catch (err) {
      settled();
      return Promise.reject(err);
    }
    // then(ok, fail) rather than finally(): one promise instead of three, on every write.
    return pending.then(
      () => settled(),
      (err: unknown) => {
        settled();
        throw err;
      },
    );
  };

  const waitThenStart = async (run: () => Promise<void>): Promise<void> => {
    while (held !== null) {
      const before = replacements;
      await held;
      if (replacements !== before) {
        throw new ApiError('ERR_SEALED', 'nomad is sealed: its storage was replaced by a snapshot restore while this write waited');
      }
    }
    return start(run);
  };

  // The common case (gate open) costs one counter and one then, no extra await.
  const gated = (run: () => Promise<void>): Promise<void> => (held === null ? start(run) : waitThenStart(run));

  const storage: ClosableStorage = Object.assign(Object.create(inner) as ClosableStorage, {
    get: (key: string) => inner.get(key),
    put: (key: string, value: Uint8Array) => gated(() => inner.put(key, value)),
    delete: (key: string) => gated(() => inner.delete(key)),
    list: (prefix: string) => inner.list(prefix),
  });

  return {
    storage,
    hold(fn, options = {}) {
      return holds(async () => {
        let reopen!: () => void;
        held = new Promise<void>((resolve) => (reopen = resolve));
        try {
          if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
          return await fn(inner);
        } finally {
          // Counted before the waiters wake, so each of them sees it.
          if (options.replaces) replacements += 1;
          held = null;
          reopen();
        }
      });
    },
  };
}
