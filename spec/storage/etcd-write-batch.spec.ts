import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdClient, type EtcdClient } from '../../lib/storage/etcd/client.js';
import { createEtcdStorage } from '../../lib/storage/etcd/storage.js';
import { createWriteBatcher, MAX_BATCH_OPS } from '../../lib/storage/etcd/write-batch.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';

/** Group commit of etcd writes (write-batch.ts) against a real member. */

let etcd: EtcdCluster;
let client: EtcdClient;
beforeAll(async () => {
  etcd = await startEtcd(1);
  client = createEtcdClient({ endpoints: [etcd.address], requestTimeoutMs: 5000 });
});
afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

/** The real client, with every call it makes counted by method. */
function counted(): { client: EtcdClient; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  return {
    calls,
    client: {
      ...client,
      call: (method: string, body: object) => {
        calls[method] = (calls[method] ?? 0) + 1;
        return client.call(method, body);
      },
    } as EtcdClient,
  };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
let run = 0;
const freshPrefix = (): string => `/batch-${process.pid}-${++run}/`;

describe('etcd write batching', () => {
  it('sends a lone write as a plain put, and concurrent writes as few txns, every one stored', async () => {
    const { client: c, calls } = counted();
    const storage = createEtcdStorage({ client: c, prefix: freshPrefix() });
    await storage.put('alone', Buffer.from('1'));
    expect(calls).toEqual({ 'kv/put': 1 });

    await Promise.all(Array.from({ length: 300 }, (_, i) => storage.put(`k${i}`, Buffer.from(`v${i}`))));
    // The first leaves alone; the rest wait for it and leave in batches of at most 128.
    const txns = calls['kv/txn'] ?? 0;
    expect(txns).toBeGreaterThanOrEqual(Math.ceil(299 / MAX_BATCH_OPS));
    expect(txns + (calls['kv/put'] ?? 0) - 1).toBeLessThan(20);
    for (let i = 0; i < 300; i += 37) expect(Buffer.from((await storage.get(`k${i}`))!).toString()).toBe(`v${i}`);
    expect(await storage.list('')).toHaveLength(301);

    // Deletes batch with puts.
    await Promise.all([storage.delete('k1'), storage.delete('k2'), storage.put('k3', Buffer.from('again')), storage.delete('alone')]);
    expect(await storage.get('k1')).toBeNull();
    expect(await storage.get('alone')).toBeNull();
    expect(Buffer.from((await storage.get('k3'))!).toString()).toBe('again');
  });

  it('keeps writes to one key in call order while batching the others', async () => {
    const storage = createEtcdStorage({ client, prefix: freshPrefix() });
    const writes = [];
    for (let i = 0; i < 50; i++) {
      writes.push(storage.put('same', Buffer.from(`v${i}`)));
      writes.push(storage.put(`other${i}`, Buffer.from('x')));
    }
    await Promise.all(writes);
    expect(Buffer.from((await storage.get('same'))!).toString()).toBe('v49');
  });

  it('fails every write of a batch etcd refuses, and stores none of them', async () => {
    const prefix = freshPrefix();
    const batcher = createWriteBatcher(client);
    // The first leaves alone; the next three share a txn, two of them on one key: etcd refuses it whole.
    const first = batcher.put(b64(`${prefix}first`), b64('1'));
    const batch = [batcher.put(b64(`${prefix}a`), b64('a')), batcher.put(b64(`${prefix}dup`), b64('1')), batcher.put(b64(`${prefix}dup`), b64('2'))];
    await first;
    const outcomes = await Promise.allSettled(batch);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const stored = await client.call<{ kvs?: unknown[] }>('kv/range', { key: b64(`${prefix}a`) });
    expect(stored.kvs ?? []).toHaveLength(0);
    // The batcher goes on with the next writes.
    await batcher.put(b64(`${prefix}after`), b64('ok'));
  });
});
