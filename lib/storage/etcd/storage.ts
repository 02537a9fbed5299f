import { ApiError } from '../../errors.js';
import { checkKey, checkPrefix, type ClosableStorage } from '../storage.js';
import type { HaLock, HaLockOptions } from '../ha.js';
import type { EtcdClient } from './client.js';
import { createEtcdLock } from './lock.js';
import { createWriteBatcher } from './write-batch.js';

/**
 * The storage contract (lib/storage/storage.ts) on etcd. Each storage key is one etcd key,
 * `<path><key>`, its value the stored bytes; both travel base64 (the gateway's encoding).
 * Values are limited by the members' `--max-request-bytes` (1.5 MiB by default): run etcd
 * with a larger limit to store bigger values.
 *
 * Keys under `<path>/` (an empty first segment, which no valid storage key has) belong to
 * the HA lock (lock.ts) and never show in a listing.
 */

/** Keys asked for per range call when listing: small, since most of a page may be skipped. */
const LIST_PAGE = 256;

export interface EtcdStorageOptions {
  client: EtcdClient;
  /** The key prefix, ending in "/". */
  prefix: string;
  /** Whether this storage offers the HA lock (`ha_enabled`). */
  haEnabled?: boolean;
  /** The HA lock's TTL when its holder names none; default 15 s. */
  lockTtlSeconds?: number;
}

export interface EtcdStorage extends ClosableStorage {
  readonly client: EtcdClient;
  readonly prefix: string;
  readonly haEnabled: boolean;
  /** The HA lock at `<path>/ha/lock`; only present with `ha_enabled = "true"` (see lib/storage/ha.ts). */
  haLock?: (options: HaLockOptions) => HaLock;
  close(): Promise<void>;
}

/** Where the HA lock lives: `<path>/ha/lock`, inside the prefix (one etcd permission covers both) yet never listed. */
export const haLockKey = (prefix: string): string => `${prefix}/ha/lock`;

interface KeyValue {
  key?: string;
  value?: string;
}
interface RangeResponse {
  kvs?: KeyValue[];
  more?: boolean;
}

const b64 = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64');

/** The first key after every key that starts with `bytes`: its last byte incremented. */
export function prefixEnd(bytes: Buffer): Buffer {
  const end = Buffer.from(bytes);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i] += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: to the end of the keyspace
}

function storageError(what: string, cause: unknown): ApiError {
  return new ApiError('ERR_STORAGE', `etcd storage: ${what} failed`, { cause });
}

export function createEtcdStorage(options: EtcdStorageOptions): EtcdStorage {
  const { client, prefix } = options;
  const full = (key: string): string => b64(prefix + key);
  let closed = false;
  const writes = createWriteBatcher(client);
  // Writes to one key leave in call order, one at a time: concurrent requests on different
  // sockets could otherwise reach etcd in any order, and an earlier put would win.
  const writeTails = new Map<string, Promise<unknown>>();
  function inKeyOrder<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = writeTails.get(key) ?? Promise.resolve();
    const mine = previous.then(work);
    const tail = mine.catch(() => undefined);
    writeTails.set(key, tail);
    void tail.then(() => {
      if (writeTails.get(key) === tail) writeTails.delete(key);
    });
    return mine;
  }

  async function run<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (closed) throw new ApiError('ERR_STORAGE', 'etcd storage is closed');
    try {
      return await work();
    } catch (err) {
      throw storageError(what, err);
    }
  }

  const haEnabled = options.haEnabled ?? false;
  return {
    client,
    prefix,
    haEnabled,
    ...(haEnabled
      ? { haLock: (lockOptions: HaLockOptions) => createEtcdLock(client, haLockKey(prefix), { ...lockOptions, ttlSeconds: lockOptions.ttlSeconds ?? options.lockTtlSeconds ?? 15 }) }
      : {}),
    async get(key) {
      checkKey(key);
      return run('get', async () => {
        const res = await client.call<RangeResponse>('kv/range', { key: full(key) });
        const kv = res.kvs?.[0];
        if (kv === undefined) return null;
        // An empty value is left out of the answer, like every empty field.
        return new Uint8Array(Buffer.from(kv.value ?? '', 'base64'));
      });
    },
    async put(key, value) {
      checkKey(key);
      const encoded = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
      await inKeyOrder(key, () => run('put', () => writes.put(full(key), encoded)));
    },
    async delete(key) {
      checkKey(key);
      await inKeyOrder(key, () => run('delete', () => writes.delete(full(key))));
    },
    async list(listPrefix) {
      checkPrefix(listPrefix);
      return run('list', () => listChildren(Buffer.from(prefix + listPrefix)));
    },
    async close() {
      closed = true;
      client.close();
    },
  };

  /**
   * One level deep, in work proportional to the folder's direct children: keys-only pages
   * over the folder's range, and past a key inside a subfolder (`folder/sub/...`) the next
   * page starts after the whole subfolder (`folder/sub0`, '0' being the byte after '/').
   */
  async function listChildren(folder: Buffer): Promise<string[]> {
    const end = b64(prefixEnd(folder));
    const children = new Set<string>();
    let start = folder;
    for (;;) {
      const res = await client.call<RangeResponse>('kv/range', { key: b64(start), range_end: end, keys_only: true, limit: LIST_PAGE });
      const kvs = res.kvs ?? [];
      let next: Buffer | null = null;
      for (const kv of kvs) {
        const key = Buffer.from(kv.key ?? '', 'base64');
        if (next !== null && Buffer.compare(key, next) < 0) continue; // inside a subfolder already counted
        const rest = key.subarray(folder.length);
        const slash = rest.indexOf(0x2f);
        if (slash === -1) {
          children.add(rest.toString('utf8'));
          next = null;
          continue;
        }
        // An empty segment at the root is the HA lock's namespace: skipped, never listed.
        if (slash > 0) children.add(rest.subarray(0, slash + 1).toString('utf8'));
        next = Buffer.concat([folder, rest.subarray(0, slash), Buffer.from('0')]);
      }
      if (!res.more || kvs.length === 0) break;
      const last = Buffer.from(kvs[kvs.length - 1].key ?? '', 'base64');
      const afterLast = Buffer.concat([last, Buffer.from([0])]);
      start = next !== null && Buffer.compare(next, afterLast) > 0 ? next : afterLast;
    }
    return [...children].sort();
  }
}
