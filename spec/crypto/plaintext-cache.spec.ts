import { describe, expect, it } from 'vitest';
import { createPlaintextCache } from '../../lib/crypto/plaintext-cache.js';

describe('the barrier plaintext cache', () => {
  it('returns copies, so callers cannot change what others read', () => {
    const cache = createPlaintextCache();
    cache.fill('a', Buffer.from('secret'), cache.ticket());
    const first = cache.get('a')!;
    first.fill(0);
    expect(cache.get('a')!.toString()).toBe('secret');
  });

  it('lends its own bytes to peek, counts that as a use, and forgets them on clear', () => {
    const cache = createPlaintextCache(10_000, 2_000);
    const value = Buffer.alloc(1_000, 1);
    expect(cache.peek('k0', (v) => v.length)).toBeUndefined();
    for (let i = 0; i < 9; i++) cache.fill(`k${i}`, value, cache.ticket());
    let lent: Uint8Array | undefined;
    expect(cache.peek('k0', (v) => ((lent = v), v.length))).toBe(1_000);
    // k0 was used, so the next fill evicts k1, the oldest entry not used since.
    cache.fill('k9', value, cache.ticket());
    expect(cache.peek('k0', () => true)).toBe(true);
    expect(cache.peek('k1', () => true)).toBeUndefined();
    cache.clear();
    expect(lent!.every((b) => b === 0)).toBe(true);
    expect(cache.peek('k0', () => true)).toBeUndefined();
  });

  it('reports its size against its byte budget, and the entry count that budget allows', () => {
    const cache = createPlaintextCache(10_000, 2_000);
    for (let i = 0; i < 100; i++) cache.fill(`key-${i}`, Buffer.alloc(500, 1), cache.ticket());
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
    const before = cache.ticket();
    cache.writeStarted('a');
    cache.writeEnded('a');
    cache.fill('a', Buffer.from('old'), before);
    expect(cache.get('a')).toBeUndefined();
    const beforeSeal = cache.ticket();
    cache.clear();
    cache.fill('b', Buffer.from('old'), beforeSeal);
    expect(cache.get('b')).toBeUndefined();
  });

  it('still fills a read of another key across a write, but not one of the written key', () => {
    const cache = createPlaintextCache();
    const ticket = cache.ticket();
    cache.writeStarted('b');
    cache.fill('a', Buffer.from('a-value'), ticket);
    cache.fill('b', Buffer.from('old'), ticket);
    cache.writeEnded('b');
    cache.fill('b', Buffer.from('old'), ticket);
    expect(cache.get('a')!.toString()).toBe('a-value');
    expect(cache.get('b')).toBeUndefined();
  });

  it('refuses at seal the fills of reads begun before it, and keeps a write in flight across it marked', () => {
    const cache = createPlaintextCache();
    const before = cache.ticket();
    cache.writeStarted('w');
    cache.clear();
    cache.fill('a', Buffer.from('old'), before);
    cache.fill('w', Buffer.from('old'), cache.ticket());
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('w')).toBeUndefined();
    cache.writeEnded('w');
    cache.fill('w', Buffer.from('new'), cache.ticket());
    expect(cache.get('w')!.toString()).toBe('new');
  });

  it('counts its write stamps in its size and budget, capped, and stays fresh past the cap', () => {
    const cache = createPlaintextCache(1 << 20, 2_000);
    const slow = cache.ticket();
    for (let i = 0; i < 1_500; i++) {
      cache.fill(`v${i}`, Buffer.alloc(500, 1), cache.ticket());
      cache.writeStarted(`w${i}`);
      cache.writeEnded(`w${i}`);
    }
    const size = cache.size();
    expect(size.maxBytes).toBe(1 << 20);
    expect(size.bytes).toBeLessThanOrEqual(size.maxBytes);
    expect(size.entries).toBeLessThanOrEqual(size.maxEntries);
    // A sixteenth of the budget at most (64 KiB here): w's stamps cost 64 bytes and their keys.
    const stamps = size.entries - Array.from({ length: 1_500 }, (_, i) => `v${i}`).filter((k) => cache.peek(k, () => true)).length;
    expect(stamps).toBeGreaterThan(100);
    expect(stamps).toBeLessThanOrEqual((64 << 10) / 64);
    // w0's stamp was pushed out, yet the read begun before its write may not fill it.
    cache.fill('w0', Buffer.from('old'), slow);
    cache.fill('untouched', Buffer.from('old'), slow);
    expect(cache.get('w0')).toBeUndefined();
    expect(cache.get('untouched')).toBeUndefined();
    cache.clear();
    expect(cache.size()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('drops an entry when a write starts and again when it ends', () => {
    const cache = createPlaintextCache();
    cache.fill('a', Buffer.from('v1'), cache.ticket());
    cache.writeStarted('a');
    expect(cache.get('a')).toBeUndefined();
    cache.fill('a', Buffer.from('v1'), cache.ticket());
    expect(cache.get('a')).toBeUndefined();
    cache.writeEnded('a');
    cache.fill('a', Buffer.from('v2'), cache.ticket());
    expect(cache.get('a')!.toString()).toBe('v2');
    cache.writeStarted('a');
    cache.writeEnded('a');
    expect(cache.get('a')).toBeUndefined();
  });

  it('zeroes its buffers when cleared', () => {
    const cache = createPlaintextCache();
    const value = Buffer.from('secret');
    cache.fill('a', value, cache.ticket());
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
    for (let i = 0; i < 9; i++) cache.fill(`k${i}`, value, cache.ticket());
    expect(cache.get('k0')).toBeDefined();
    cache.fill('k9', value, cache.ticket());
    expect(cache.get('k0')).toBeDefined();
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k9')).toBeDefined();
    for (let i = 10; i < 40; i++) cache.fill(`k${i}`, value, cache.ticket());
    const present = Array.from({ length: 40 }, (_, i) => `k${i}`).filter((k) => cache.get(k) !== undefined);
    expect(present.length).toBe(9);
    expect(present).toContain('k39');
  });

  it('does not cache values above the entry limit', () => {
    const cache = createPlaintextCache(10_000, 100);
    cache.fill('big', Buffer.alloc(101), cache.ticket());
    expect(cache.get('big')).toBeUndefined();
  });
});
