import { describe, expect, it } from 'vitest';
import { createPlaintextCache } from '../../lib/crypto/plaintext-cache.js';

describe('the barrier plaintext cache', () => {
  it('returns copies, so callers cannot change what others read', () => {
    const cache = createPlaintextCache();
    cache.fill('a', Buffer.from('secret'), cache.sequence);
    const first = cache.get('a')!;
    first.fill(0);
    expect(cache.get('a')!.toString()).toBe('secret');
  });

  it('lends its own bytes to peek, counts that as a use, and forgets them on clear', () => {
    const cache = createPlaintextCache(10_000, 2_000);
    const value = Buffer.alloc(1_000, 1);
    expect(cache.peek('k0', (v) => v.length)).toBeUndefined();
    for (let i = 0; i < 9; i++) cache.fill(`k${i}`, value, cache.sequence);
    let lent: Uint8Array | undefined;
    expect(cache.peek('k0', (v) => ((lent = v), v.length))).toBe(1_000);
    // k0 was used, so the next fill evicts k1, the oldest entry not used since.
    cache.fill('k9', value, cache.sequence);
    expect(cache.peek('k0', () => true)).toBe(true);
    expect(cache.peek('k1', () => true)).toBeUndefined();
    cache.clear();
    expect(lent!.every((b) => b === 0)).toBe(true);
    expect(cache.peek('k0', () => true)).toBeUndefined();
  });

  it('reports its size against its byte budget, and the entry count that budget allows', () => {
    const cache = createPlaintextCache(10_000, 2_000);
    for (let i = 0; i < 100; i++) cache.fill(`key-${i}`, Buffer.alloc(500, 1), cache.sequence);
    const size = cache.size();
    expect(size.maxBytes).toBe(10_000);
    expect(size.bytes).toBeLessThanOrEqual(10_000);
    expect(size.bytes).toBeGreaterThan(5_000);
    expect(size.entries).toBeLessThanOrEqual(size.maxEntries);
    cache.clear();
    expect(cache.size()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('never fills with a value read across a write or a seal', () => {
    const cache = createPlaintextCache();
    const before = cache.sequence;
    cache.invalidate('a');
    cache.fill('a', Buffer.from('old'), before);
    expect(cache.get('a')).toBeUndefined();
    const beforeSeal = cache.sequence;
    cache.clear();
    cache.fill('b', Buffer.from('old'), beforeSeal);
    expect(cache.get('b')).toBeUndefined();
  });

  it('drops an entry on invalidate', () => {
    const cache = createPlaintextCache();
    cache.fill('a', Buffer.from('v1'), cache.sequence);
    cache.invalidate('a');
    expect(cache.get('a')).toBeUndefined();
  });

  it('zeroes its buffers when cleared', () => {
    const cache = createPlaintextCache();
    const value = Buffer.from('secret');
    cache.fill('a', value, cache.sequence);
    // The cache holds its own copy; reach it through a hit before clearing.
    const held: Buffer[] = [];
    const originalFrom = Buffer.from;
    Buffer.from = ((...args: Parameters<typeof Buffer.from>) => {
      if (Buffer.isBuffer(args[0])) held.push(args[0]);
      return (originalFrom as (...a: unknown[]) => Buffer)(...args);
    }) as typeof Buffer.from;
    try {
      cache.get('a');
    } finally {
      Buffer.from = originalFrom;
    }
    cache.clear();
    expect(held[0]!.every((b) => b === 0)).toBe(true);
    expect(cache.get('a')).toBeUndefined();
  });

  it('stays within its byte budget, evicting the oldest entry not read since', () => {
    // Each entry costs 1,000 bytes of value plus key and overhead: nine fit in 10,000.
    const cache = createPlaintextCache(10_000, 2_000);
    const value = Buffer.alloc(1_000, 1);
    for (let i = 0; i < 9; i++) cache.fill(`k${i}`, value, cache.sequence);
    expect(cache.get('k0')).toBeDefined();
    cache.fill('k9', value, cache.sequence);
    expect(cache.get('k0')).toBeDefined();
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k9')).toBeDefined();
    for (let i = 10; i < 40; i++) cache.fill(`k${i}`, value, cache.sequence);
    const present = Array.from({ length: 40 }, (_, i) => `k${i}`).filter((k) => cache.get(k) !== undefined);
    expect(present.length).toBe(9);
    expect(present).toContain('k39');
  });

  it('does not cache values above the entry limit', () => {
    const cache = createPlaintextCache(10_000, 100);
    cache.fill('big', Buffer.alloc(101), cache.sequence);
    expect(cache.get('big')).toBeUndefined();
  });
});
