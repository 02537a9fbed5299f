import type { EtcdClient } from './client.js';

/**
 * Group commit for etcd writes. Writes that arrive while one batch is on its way to etcd wait
 * and leave together as the next one: a single `kv/txn` whose success branch holds every put
 * and delete. etcd commits a txn as one raft entry, with one fsync, so under concurrent load
 * both etcd and this process spend a fraction of the work per write; a lone write leaves at
 * once (no timer), so its latency is unchanged.
 *
 * Each write's promise settles with its batch: the txn is atomic, so either every write in it
 * is stored or none is, and a failure rejects them all. A txn may not name one key twice; the
 * storage already sends writes to one key one at a time (storage.ts, inKeyOrder), so a batch
 * never does.
 */

/** etcd's default `--max-txn-ops`. */
export const MAX_BATCH_OPS = 128;

type Op = { request_put: { key: string; value: string } } | { request_delete_range: { key: string } };

interface Pending {
  op: Op;
  resolve(): void;
  reject(err: unknown): void;
}

export interface WriteBatcher {
  /** `key` and `value` base64, as the gateway takes them. */
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export function createWriteBatcher(client: EtcdClient, maxOps = MAX_BATCH_OPS): WriteBatcher {
  let queue: Pending[] = [];
  let inFlight = false;

  const send = (batch: Pending[]): Promise<unknown> => {
    // One write: the plain call, as etcd's own clients send it.
    if (batch.length === 1) {
      const { op } = batch[0]!;
      return 'request_put' in op ? client.call('kv/put', op.request_put) : client.call('kv/deleterange', op.request_delete_range);
    }
    return client.call('kv/txn', { success: batch.map((p) => p.op) });
  };

  const flush = (): void => {
    if (inFlight || queue.length === 0) return;
    const batch = queue.length <= maxOps ? queue : queue.slice(0, maxOps);
    queue = queue.length <= maxOps ? [] : queue.slice(maxOps);
    inFlight = true;
    send(batch).then(
      () => {
        for (const p of batch) p.resolve();
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    ).finally(() => {
      inFlight = false;
      flush();
    });
  };

  const enqueue = (op: Op): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      queue.push({ op, resolve, reject });
      flush();
    });

  return {
    put: (key, value) => enqueue({ request_put: { key, value } }),
    delete: (key) => enqueue({ request_delete_range: { key } }),
  };
}
