import { describe, expect, it } from 'vitest';
import { clientAddressOf, createBucketStore, MAX_BUCKETS, type Limit } from '../../lib/core/quotas/buckets.js';

/** Token buckets (lib/core/quotas/buckets.ts) on an injected clock: no sleeping. */

const limit = (rate: number, burst: number, interval = 1, blockInterval = 0): Limit => ({ rate, interval, burst, blockInterval });

function clockStore(maxEntries?: number) {
  let now = 1_000_000;
  const store = createBucketStore({ maxEntries, now: () => now });
  return { store, advance: (ms: number) => (now += ms) };
}

/** How many of `n` immediate takes pass. */
const passes = (take: () => { allowed: boolean }, n: number): number => {
  let ok = 0;
  for (let i = 0; i < n; i++) if (take().allowed) ok++;
  return ok;
};

describe('token buckets', () => {
  it('lets a burst through, then refuses with a Retry-After of at least one second', () => {
    const { store } = clockStore();
    const l = limit(10, 20);
    expect(passes(() => store.take('q ', l, '10.0.0.1'), 25)).toBe(20);
    const refused = store.take('q ', l, '10.0.0.1');
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfter).toBe(1);
    // Another address has its own bucket.
    expect(store.take('q ', l, '10.0.0.2').allowed).toBe(true);
  });

  it('refills at rate per interval, never past the burst', () => {
    const { store, advance } = clockStore();
    const l = limit(2, 4, 10); // 2 tokens per 10 s
    expect(passes(() => store.take('q ', l, 'a'), 4)).toBe(4);
    expect(store.take('q ', l, 'a').allowed).toBe(false);
    // 1 token takes 5 s: the refusal says so.
    expect(store.take('q ', l, 'a').retryAfter).toBe(5);
    advance(4_999);
    expect(store.take('q ', l, 'a').allowed).toBe(false);
    advance(1);
    expect(store.take('q ', l, 'a')).toMatchObject({ allowed: true, remaining: 0 });
    advance(3_600_000);
    expect(passes(() => store.take('q ', l, 'a'), 10)).toBe(4);
  });

  it('reports the whole tokens left and the seconds until full', () => {
    const { store } = clockStore();
    const l = limit(1, 3);
    expect(store.take('q ', l, 'a')).toMatchObject({ allowed: true, remaining: 2, reset: 1 });
    expect(store.take('q ', l, 'a')).toMatchObject({ allowed: true, remaining: 1, reset: 2 });
  });

  it('blocks for block_interval once refused, even as tokens come back', () => {
    const { store, advance } = clockStore();
    const l = limit(10, 2, 1, 30);
    expect(passes(() => store.take('q ', l, 'a'), 2)).toBe(2);
    expect(store.take('q ', l, 'a')).toMatchObject({ allowed: false, retryAfter: 30 });
    advance(10_000);
    expect(store.take('q ', l, 'a')).toMatchObject({ allowed: false, retryAfter: 20 });
    advance(19_500);
    expect(store.take('q ', l, 'a')).toMatchObject({ allowed: false, retryAfter: 1 });
    advance(500);
    expect(passes(() => store.take('q ', l, 'a'), 3)).toBe(2);
  });

  it('keeps limits apart by key', () => {
    const { store } = clockStore();
    const l = limit(1, 1);
    expect(store.take('x ', l, 'a').allowed).toBe(true);
    expect(store.take('x ', l, 'a').allowed).toBe(false);
    expect(store.take('y ', l, 'a').allowed).toBe(true);
    store.dropPrefix('x ');
    expect(store.take('x ', l, 'a').allowed).toBe(true);
    expect(store.take('y ', l, 'a').allowed).toBe(false);
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(clientAddressOf('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddressOf('::ffff:abcd')).toBe('0:0:0:0::/64');
    const { store } = clockStore();
    const l = limit(1, 1);
    expect(store.take('q ', l, '::ffff:192.0.2.7').allowed).toBe(true);
    expect(store.take('q ', l, '192.0.2.7').allowed).toBe(false);
    expect(store.size().entries).toBe(1);
  });

  it('counts an IPv6 client by its /64, however it writes its address', () => {
    expect(clientAddressOf('2001:db8:1:2:a:b:c:d')).toBe('2001:db8:1:2::/64');
    expect(clientAddressOf('2001:0DB8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(clientAddressOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientAddressOf('::1')).toBe('0:0:0:0::/64');
    expect(clientAddressOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientAddressOf('2001:db8:1:3::1')).not.toBe(clientAddressOf('2001:db8:1:2::1'));
    // Not an address: kept whole (it still gets a bucket of its own).
    expect(clientAddressOf('1:2:3')).toBe('1:2:3');
    const { store } = clockStore();
    const l = limit(1, 1);
    expect(store.take('q ', l, '2001:db8:1:2::1').allowed).toBe(true);
    expect(store.take('q ', l, '2001:db8:1:2:ffff::9').allowed).toBe(false);
    expect(store.take('q ', l, '2001:db8:1:3::1').allowed).toBe(true);
  });
});

describe('bounded memory', () => {
  it('drops buckets that have refilled to full as new ones come', () => {
    const { store, advance } = clockStore();
    const l = limit(10, 20);
    for (let i = 0; i < 1_000; i++) {
      store.take('q ', l, `10.0.${i >> 8}.${i & 255}`);
      // Each bucket is full again 100 ms after its one request.
      advance(1);
    }
    advance(200);
    for (let i = 0; i < 1_000; i++) store.take('q ', l, `10.1.${i >> 8}.${i & 255}`);
    // Every insert looks at the oldest few: the first thousand, all full, are gone.
    expect(store.size().entries).toBeLessThan(1_100);
  });

  it('never holds more than its cap, and forgives the oldest address at it', () => {
    const { store } = clockStore(100);
    const l = limit(1, 1, 3600);
    expect(store.take('q ', l, 'first').allowed).toBe(true);
    expect(store.take('q ', l, 'first').allowed).toBe(false);
    for (let i = 0; i < 100; i++) store.take('q ', l, `addr${i}`);
    expect(store.size().entries).toBe(100);
    // The documented trade: the oldest bucket was dropped to make room.
    expect(store.take('q ', l, 'first').allowed).toBe(true);
  });

  it('keeps a recently used bucket over older idle-looking ones', () => {
    const { store } = clockStore(3);
    const l = limit(1, 1, 3600);
    store.take('q ', l, 'a');
    store.take('q ', l, 'b');
    store.take('q ', l, 'c');
    expect(store.take('q ', l, 'a').allowed).toBe(false); // used again: now the newest
    store.take('q ', l, 'd'); // evicts b, the least recently used
    expect(store.take('q ', l, 'a').allowed).toBe(false);
    expect(store.take('q ', l, 'b').allowed).toBe(true);
  });

  it('stays within its cap under 100,000 distinct addresses', () => {
    const { store } = clockStore();
    const l = limit(10, 20);
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100_000; i++) {
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      // Each address floods: its bucket stays short of full, so only the cap can bound the map.
      store.take('q ', l, address);
      store.take('q ', l, address);
    }
    const size = store.size();
    expect(size.entries).toBe(MAX_BUCKETS);
    expect(size.bytes).toBeLessThanOrEqual(size.maxBytes);
    const grown = process.memoryUsage().heapUsed - before;
    // Reported for the README's memory table; the bound checked is generous (GC timing varies).
    console.log(`quota buckets: ${size.entries} entries, estimate ${(size.bytes / 1048576).toFixed(1)} MiB, heap growth ${(grown / 1048576).toFixed(1)} MiB`);
    expect(grown).toBeLessThan(size.maxBytes * 2);
  });
});
