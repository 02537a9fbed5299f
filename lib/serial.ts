/**
 * Runs async functions one at a time, in call order: each starts once the previous one has
 * settled, whether it resolved or failed. For state that is read, changed and written back
 * (the seal state, the mount table, the keyring), so two changes never start from the same
 * state and lose one another.
 */
export type SerialQueue = <T>(fn: () => Promise<T>) => Promise<T>;

export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn);
    // The next task waits for this one to settle; its failure is the caller's to see, not the queue's.
    tail = run.catch(() => undefined);
    return run;
  };
}
