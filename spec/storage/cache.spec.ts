import { describe, expect, it } from 'vitest';
import { createCachedStorage } from '../../lib/storage/cache.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import type { ClosableStorage, Storage } from '../../lib/storage/storage.js';
import { exerciseStorage } from './contract.js';
import { tempFileStorage } from './temp.js';

exerciseStorage('cache over file', async () => {
  const { storage, cleanup } = await tempFileStorage();
  return { storage: createCachedStorage(storage), cleanup };
});
exerciseStorage('cache over inmem, 64 KiB budget', async () => ({
  storage: createCachedStorage(createInmemStorage(), { maxBytes: 64 << 10 }),
  cleanup: async () => {},
}));

const text = (value: Uint8Array | null): string | null => (value === null ? null : Buffer.from(value).toString());

/** An inmem storage that counts gets and can hold a get or put until the test lets it go. */
function controlled(): ClosableStorage & { gets: number; holdNextGet(): () => void; holdNextPut(): () => void } {
  const inner = createInmemStorage();
  let getGate: Promise<void> | null = null;
  let putGate: Promise<void> | null = null;
  const gate = (): [Promise<void>, () => void] => {
    let open!: () => void;
    return [new Promise<void>((resolve) => (open = resolve)), () => open()];
  };
  const storage = {
    gets: 0,
    async get(key: string) {
      storage.gets += 1;
      const value = await inner.get(key);
      const wait = getGate;
      getGate = null;
      if (wait) await wait;
      return value;
    },
    async put(key: string, value: Uint8Array) {
      const wait = putGate;
      putGate = null;
      if (wait) await wait;
      await inner.put(key, value);
    },
    delete: (key: string) => inner.delete(key),
    list: (prefix: string) => inner.list(prefix),
    holdNextGet() {
      const [wait, open] = gate();
      getGate = wait;
      return open;
    },
    holdNextPut() {
      const [wait, open] = gate();
      putGate = wait;
      return open;
    },
  };
  return storage;
}

describe('read cache', () => {
  it('serves repeated reads from memory and returns copies', async () => {
    const inner = controlled();
    const cache = createCachedStorage(inner);
    await cache.put('k', Buffer.from('v'));
    const first = await cache.get('k');
    first!.fill(0);
    expect(text(await cache.get('k'))).toBe('v');
    expect(text(await cache.get('k'))).toBe('v');
    expect(inner.gets).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1, entries: 1 });
  });

  it('is invalidated by put and delete', async () => {
    const inner = controlled();
    const cache = createCachedStorage(inner);
    await cache.put('k', Buffer.from('one'));
    expect(text(await cache.get('k'))).toBe('one');
    await cache.put('k', Buffer.from('two'));
    expect(text(await cache.get('k'))).toBe('two');
    await cache.delete('k');
    expect(await cache.get('k')).toBeNull();
  });

  it('does not cache misses', async () => {
    const inner = controlled();
    const cache = createCachedStorage(inner);
    await cache.get('missing');
    await cache.get('missing');
    expect(inner.gets).toBe(2);
    expect(cache.stats().entries).toBe(0);
  });

  it('never keeps a value read before a put that finished while the read was in flight', async () => {
    const inner = controlled();
    const cache = createCachedStorage(inner);
    await cache.put('k', Buffer.from('old'));
    const release = inner.holdNextGet();
    const slowRead = cache.get('k');
    await cache.put('k', Buffer.from('new'));
    release();
    expect(text(await slowRead)).toBe('old');
    expect(text(await cache.get('k'))).toBe('new');
    expect(text(await cache.get('k'))).toBe('new');
  });

  it('never keeps a value read while a put was still in flight', async () => {
    const inner = controlled();
    const cache = createCachedStorage(inner);
    await cache.put('k', Buffer.from('old'));
    const release = inner.holdNextPut();
    const slowWrite = cache.put('k', Buffer.from('new'));
    expect(text(await cache.get('k'))).toBe('old');
    release();
    await slowWrite;
    expect(text(await cache.get('k'))).toBe('new');
  });

  it('still keeps a value read while another key was written', async () => {
    const inner = controlled();
    const cache = createCachedStorage(inner);
    await cache.put('k', Buffer.from('v'));
    const release = inner.holdNextGet();
    const slowRead = cache.get('k');
    await cache.put('other', Buffer.from('x'));
    release();
    expect(text(await slowRead)).toBe('v');
    expect(text(await cache.get('k'))).toBe('v');
    expect(inner.gets).toBe(1);
  });

  it('never fills after a purge with a value read before it', async () => {
    const inner = controlled();
    const cache = createCachedStorage(inner);
    await cache.put('k', Buffer.from('v'));
    const release = inner.holdNextGet();
    const slowRead = cache.get('k');
    cache.purge();
    release();
    expect(text(await slowRead)).toBe('v');
    expect(cache.stats().entries).toBe(0);
    await cache.get('k');
    expect(cache.stats().entries).toBe(1);
  });

  it('drops the entry even when a write fails, since the storage may have changed', async () => {
    const inner = createInmemStorage();
    const failing: Storage = {
      ...inner,
      async put(key, value) {
        await inner.put(key, value);
        throw new Error('applied, then failed');
      },
    };
    const cache = createCachedStorage(failing);
    await inner.put('k', Buffer.from('old'));
    expect(text(await cache.get('k'))).toBe('old');
    await expect(cache.put('k', Buffer.from('new'))).rejects.toThrow(/applied/);
    expect(text(await cache.get('k'))).toBe('new');
  });

  it('stays within its byte budget, evicting the least recently used first', async () => {
    const cache = createCachedStorage(createInmemStorage(), { maxBytes: 10_000, maxEntryBytes: 5000 });
    for (let i = 0; i < 10; i++) await cache.put(`k${i}`, Buffer.alloc(1000, i));
    await cache.get('k0');
    for (let i = 1; i < 10; i++) {
      await cache.get(`k${i}`);
      await cache.get('k0');
    }
    expect(cache.stats().bytes).toBeLessThanOrEqual(10_000);
    const { hits } = cache.stats();
    await cache.get('k0');
    expect(cache.stats().hits).toBe(hits + 1);
    const before = cache.stats().misses;
    await cache.get('k1');
    expect(cache.stats().misses).toBe(before + 1);
  });

  it('caps its write stamps under reads that never stop overlapping, and still refuses a stale fill', async () => {
    const inner = controlled();
    const cache = createCachedStorage(inner);
    await cache.put('k', Buffer.from('old'));
    const release = inner.holdNextGet();
    // In flight for the whole test: the stamps are never dropped for lack of readers.
    const slowRead = cache.get('k');
    await cache.put('k', Buffer.from('new'));
    for (let i = 0; i < 3_000; i++) await cache.put(`w${i}`, Buffer.from('v'));
    for (let i = 0; i < 3_000; i++) await cache.put(`${'long/'.repeat(60)}${i}`, Buffer.from('v'));
    const { stamps } = cache.memory();
    expect(stamps.entries).toBeLessThanOrEqual(stamps.maxEntries);
    expect(stamps.bytes).toBeLessThanOrEqual(stamps.maxBytes);
    // k's stamp went with the others, yet the read that began before its write may not fill.
    release();
    expect(text(await slowRead)).toBe('old');
    expect(text(await cache.get('k'))).toBe('new');
    expect(text(await cache.get('k'))).toBe('new');
    expect(cache.memory().stamps.entries).toBe(0);
  });

  it('reports its values against the byte budget', async () => {
    const cache = createCachedStorage(createInmemStorage(), { maxBytes: 10_000, maxEntryBytes: 5000 });
    for (let i = 0; i < 50; i++) {
      await cache.put(`k${i}`, Buffer.alloc(1000, i));
      await cache.get(`k${i}`);
    }
    const { values } = cache.memory();
    expect(values).toMatchObject({ maxBytes: 10_000, entries: cache.stats().entries, bytes: cache.stats().bytes });
    expect(values.bytes).toBeLessThanOrEqual(values.maxBytes);
    expect(values.entries).toBeLessThanOrEqual(values.maxEntries);
  });

  it('lets values over the entry limit bypass the cache', async () => {
    const cache = createCachedStorage(createInmemStorage(), { maxBytes: 1 << 20 });
    await cache.put('big', Buffer.alloc(100 << 10));
    await cache.get('big');
    expect(cache.stats().entries).toBe(0);
  });
});
