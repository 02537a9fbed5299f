import type { ClosableStorage } from '../storage/storage.js';
import type { StorageTimers } from './server-metrics.js';

/**
 * The physical storage, timed: each get, put, delete and list lands in its histogram,
 * failures included (a slow failure is still time spent). Wrapped once, under the barrier.
 */
export function timedStorage<S extends ClosableStorage>(inner: S, timers: StorageTimers): ClosableStorage & Omit<S, 'get' | 'put' | 'delete' | 'list'> {
  const timed = <A extends unknown[], R>(histogram: StorageTimers['get'], run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        return await run(...args);
      } finally {
        histogram.observe((performance.now() - start) / 1000);
      }
    };
  return Object.assign(Object.create(inner) as S, {
    get: timed(timers.get, (key: string) => inner.get(key)),
    put: timed(timers.put, (key: string, value: Uint8Array) => inner.put(key, value)),
    delete: timed(timers.delete, (key: string) => inner.delete(key)),
    list: timed(timers.list, (prefix: string) => inner.list(prefix)),
  });
}
