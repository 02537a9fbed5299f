import { describe, expect, it } from 'vitest';
import { createBoundedMemo } from '../../lib/storage/bounded-memo.js';

/** The memo behind the ACL, view-key and policy-set caches (README, "Memory bounds"). */
describe('createBoundedMemo', () => {
  it('starts over when one more entry would pass the entry bound', () => {
    const memo = createBoundedMemo<string, number>(3, 1_000);
    for (const [i, key] of ['a', 'b', 'c'].entries()) memo.remember(key, i, 10);
    expect(memo.size()).toEqual({ entries: 3, bytes: 30, maxEntries: 3, maxBytes: 1_000 });
    memo.remember('d', 3, 10);
    expect([...memo.entries.keys()]).toEqual(['d']);
    expect(memo.size().bytes).toBe(10);
  });

  it('starts over when one more entry would pass the byte bound, and keeps none over the whole budget', () => {
    const memo = createBoundedMemo<string, number>(100, 50);
    memo.remember('a', 1, 30);
    memo.remember('b', 2, 30);
    expect([...memo.entries.keys()]).toEqual(['b']);
    memo.remember('huge', 3, 51);
    expect(memo.entries.has('huge')).toBe(false);
    expect(memo.size().bytes).toBe(30);
  });

  it('counts a replaced entry once, and forgets what it held', () => {
    const memo = createBoundedMemo<string, number>(10, 100);
    memo.remember('a', 1, 20);
    memo.remember('a', 2, 20);
    expect(memo.size()).toMatchObject({ entries: 1, bytes: 20 });
    expect(memo.entries.get('a')).toBe(2);
    memo.forget('a', 20);
    memo.forget('missing', 20);
    expect(memo.size()).toMatchObject({ entries: 0, bytes: 0 });
  });
});
