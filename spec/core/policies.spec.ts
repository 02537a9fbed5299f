import { describe, expect, it } from 'vitest';
import { createPolicyStore } from '../../lib/core/policies.js';
import { CAP } from '../../lib/core/policy.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import type { Storage } from '../../lib/storage/storage.js';

/** The policy store's caches: compiled sets and unknown names are bounded; real policies stay. */

const READ_SECRET = 'path "secret/*" { capabilities = ["read"] }';

function counting(): Storage & { gets: string[] } {
  const inner = createInmemStorage();
  const gets: string[] = [];
  return { ...inner, gets, get: (key) => (gets.push(key), inner.get(key)) };
}

describe('policy store caches', () => {
  it('bounds the compiled sets and the unknown names, and never lets made-up names push out a real policy', async () => {
    const storage = counting();
    const store = createPolicyStore(storage);
    await store.put('real', READ_SECRET);
    expect((await store.acl(['real'])).capabilities('secret/x')).toBe(CAP.read);
    for (let i = 0; i < 3_000; i++) {
      const names = i % 10 === 0 ? [`long-${i}-${'n'.repeat(3000)}`] : [`made-up-${i}`, 'real'];
      (await store.acl(names)).capabilities(`secret/${i}`);
    }
    const { acls, unknown, aclMemos, parsed } = store.memory();
    for (const size of [acls, unknown, aclMemos]) {
      expect(size.entries).toBeGreaterThan(0);
      expect(size.entries).toBeLessThanOrEqual(size.maxEntries);
      expect(size.bytes).toBeLessThanOrEqual(size.maxBytes);
    }
    expect(parsed).toBe(1);
    // The real policy was read from storage once, however often its sets were compiled.
    expect(storage.gets.filter((key) => key === 'sys/policy/real')).toEqual([]);
    expect((await store.acl(['real', 'made-up-1'])).capabilities('secret/x')).toBe(CAP.read);
  });

  it('takes a policy written under a name it remembered as unknown', async () => {
    const store = createPolicyStore(createInmemStorage());
    expect((await store.acl(['later'])).capabilities('secret/x')).toBe(0);
    expect(store.memory().unknown.entries).toBe(1);
    await store.put('later', READ_SECRET);
    expect((await store.acl(['later'])).capabilities('secret/x')).toBe(CAP.read);
    expect(store.memory().unknown.entries).toBe(0);
  });

  it('drops everything on teardown', async () => {
    const store = createPolicyStore(createInmemStorage());
    await store.put('real', READ_SECRET);
    await store.acl(['real', 'ghost']);
    store.teardown();
    expect(store.memory()).toMatchObject({ acls: { entries: 0, bytes: 0 }, unknown: { entries: 0, bytes: 0 }, parsed: 0 });
  });
});
