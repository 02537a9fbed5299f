import { describe, expect, it } from 'vitest';
import { createTokenStore, type TokenStore } from '../../lib/core/tokens.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import type { Storage } from '../../lib/storage/storage.js';

/** The token store's cache of decrypted entries: bounded, CLOCK-evicted, never stale after a revocation. */

type Fields = Parameters<TokenStore['create']>[0];

const fields = (extra: Partial<Fields> = {}): Fields => ({
  parent: '', policies: ['default'], meta: {}, displayName: 'token', numUses: 0, ttl: 0,
  explicitMaxTtl: 0, period: 0, renewable: false, path: 'auth/token/create', expireTime: 0, ...extra,
});

/** An in-memory storage whose next get may be held after it has read its value. */
function holdingStorage(): Storage & { holdNextGet(): () => void } {
  const inner = createInmemStorage();
  let gate: Promise<void> | null = null;
  return {
    async get(key) {
      const value = await inner.get(key);
      const wait = gate;
      gate = null;
      if (wait) await wait;
      return value;
    },
    put: (key, value) => inner.put(key, value),
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
    holdNextGet() {
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => open();
    },
  };
}

async function storeOver(storage: Storage): Promise<TokenStore> {
  const store = createTokenStore(storage);
  await store.setup();
  return store;
}

describe('token cache', () => {
  it('stays within its bounds, and keeps a token in use through a flood of new ones', async () => {
    const store = await storeOver(createInmemStorage());
    const { token: hot } = await store.create(fields());
    for (let i = 0; i < 12_000; i++) {
      await store.create(fields());
      if (i % 100 === 0) expect(store.cached(hot)).toBeDefined();
    }
    const size = store.cacheSize();
    expect(size.entries).toBeGreaterThan(1_000);
    expect(size.entries).toBeLessThanOrEqual(size.maxEntries);
    expect(size.bytes).toBeLessThanOrEqual(size.maxBytes);
    expect(store.cached(hot)).toBeDefined();
  });

  it('is bounded by bytes when entries are large', async () => {
    const store = await storeOver(createInmemStorage());
    const meta = { note: 'm'.repeat(4000) };
    for (let i = 0; i < 3_000; i++) await store.create(fields({ meta }));
    const size = store.cacheSize();
    expect(size.entries).toBeLessThan(size.maxEntries / 2);
    expect(size.bytes).toBeLessThanOrEqual(size.maxBytes);
    expect(size.bytes).toBeGreaterThan(size.maxBytes / 2);
  });

  it('loads an evicted entry back from storage', async () => {
    const store = await storeOver(createInmemStorage());
    const { token: first, entry } = await store.create(fields());
    for (let i = 0; i < 10_000; i++) await store.create(fields());
    expect(store.cached(first)).toBeUndefined();
    expect(await store.lookup(first)).toEqual(entry);
    expect(store.cached(first)).toEqual(entry);
  });

  it('does not bring back a token revoked while its lookup was reading it', async () => {
    const storage = holdingStorage();
    const { token, entry } = await (await storeOver(storage)).create(fields());
    // A second store over the same storage starts with an empty cache.
    const store = await storeOver(storage);
    const release = storage.holdNextGet();
    const lookup = store.lookup(token);
    await store.remove(entry);
    release();
    // The lookup read the entry before it was removed: it may answer it, not cache it.
    expect((await lookup)?.hash).toBe(entry.hash);
    expect(store.cached(token)).toBeUndefined();
    expect(await store.lookup(token)).toBeNull();
  });

  it('drops everything on teardown', async () => {
    const store = await storeOver(createInmemStorage());
    await store.create(fields());
    store.teardown();
    expect(store.cacheSize()).toMatchObject({ entries: 0, bytes: 0 });
  });
});
