import { describe, expect, it } from 'vitest';
import { createFillGuard, stampCost } from '../../lib/storage/fill-guard.js';

/** A write to `key` that starts and ends with nothing in between. */
const write = (guard: ReturnType<typeof createFillGuard>, key: string): void => {
  guard.writeStarted(key);
  guard.writeEnded(key);
};

describe.each([
  ['reads that end', true],
  ['reads that never report their end', false],
])('the fill guard, %s', (_, readsEnd) => {
  const fresh = () => createFillGuard({ readsEnd });

  it('lets a read fill when nothing touched its key', () => {
    const guard = fresh();
    const ticket = guard.begin();
    expect(guard.mayFill('a', ticket)).toBe(true);
  });

  it('refuses a read begun before a write to the same key that ended while it read', () => {
    const guard = fresh();
    const ticket = guard.begin();
    write(guard, 'a');
    expect(guard.mayFill('a', ticket)).toBe(false);
  });

  it('refuses a read while a write to its key is in flight, whenever either began', () => {
    const guard = fresh();
    const before = guard.begin();
    guard.writeStarted('a');
    const during = guard.begin();
    expect(guard.mayFill('a', before)).toBe(false);
    expect(guard.mayFill('a', during)).toBe(false);
    guard.writeEnded('a');
    // Began before the write ended: it may have read the old value.
    expect(guard.mayFill('a', during)).toBe(false);
    expect(guard.mayFill('a', guard.begin())).toBe(true);
  });

  it('refuses a read begun while a write was in flight, even once the write ended', () => {
    const guard = fresh();
    guard.writeStarted('a');
    const ticket = guard.begin();
    guard.writeEnded('a');
    expect(guard.mayFill('a', ticket)).toBe(false);
  });

  it('counts overlapping writes to one key: in flight until the last one ends', () => {
    const guard = fresh();
    guard.writeStarted('a');
    guard.writeStarted('a');
    guard.writeEnded('a');
    const ticket = guard.begin();
    expect(guard.mayFill('a', ticket)).toBe(false);
    guard.writeEnded('a');
    expect(guard.mayFill('a', guard.begin())).toBe(true);
  });

  it('lets a read of another key fill across a write (the global sequence refused it)', () => {
    const guard = fresh();
    const ticket = guard.begin();
    guard.writeStarted('b');
    expect(guard.mayFill('a', ticket)).toBe(true);
    guard.writeEnded('b');
    expect(guard.mayFill('a', ticket)).toBe(true);
    expect(guard.mayFill('b', ticket)).toBe(false);
  });

  it('does not hold a write that ended before the read began against it', () => {
    const guard = fresh();
    const early = guard.begin();
    write(guard, 'a');
    const late = guard.begin();
    expect(guard.mayFill('a', early)).toBe(false);
    expect(guard.mayFill('a', late)).toBe(true);
  });

  it('refuses every read begun before a clear, and only those', () => {
    const guard = fresh();
    const before = guard.begin();
    write(guard, 'x');
    guard.clear();
    expect(guard.mayFill('a', before)).toBe(false);
    expect(guard.mayFill('x', before)).toBe(false);
    expect(guard.memory().entries).toBe(0);
    const after = guard.begin();
    expect(guard.mayFill('a', after)).toBe(true);
    expect(guard.mayFill('x', after)).toBe(true);
  });

  it('keeps a write in flight across a clear marked until it ends', () => {
    const guard = fresh();
    guard.writeStarted('a');
    guard.clear();
    const ticket = guard.begin();
    expect(guard.mayFill('a', ticket)).toBe(false);
    guard.writeEnded('a');
    expect(guard.mayFill('a', ticket)).toBe(false);
    expect(guard.mayFill('a', guard.begin())).toBe(true);
  });

  it('caps its stamps in entries, oldest first, and refuses the reads a dropped stamp would have', () => {
    const guard = createFillGuard({ readsEnd, maxEntries: 100 });
    const first = guard.begin();
    write(guard, 'k0');
    const middle = guard.begin();
    for (let i = 1; i < 150; i++) write(guard, `k${i}`);
    const size = guard.memory();
    expect(size).toMatchObject({ entries: 100, maxEntries: 100 });
    expect(size.bytes).toBeLessThanOrEqual(size.maxBytes);
    // k0's stamp is gone, yet the read begun before its write still may not fill it, nor anything.
    expect(guard.mayFill('k0', first)).toBe(false);
    expect(guard.mayFill('untouched', first)).toBe(false);
    // The read begun after k0's write lost its fill too: k1..k49's stamps, newer than it, went.
    expect(guard.mayFill('untouched', middle)).toBe(false);
    // One begun after the dropped stamps still fills what was not written since.
    const late = guard.begin();
    write(guard, 'k150');
    expect(guard.mayFill('untouched', late)).toBe(true);
    expect(guard.mayFill('k149', late)).toBe(true);
    expect(guard.mayFill('k150', late)).toBe(false);
    if (readsEnd) for (let i = 0; i < 3; i++) guard.end();
  });

  it('refuses only reads older than the dropped stamps, not those between the kept ones', () => {
    const guard = createFillGuard({ readsEnd, maxEntries: 10 });
    const holder = guard.begin();
    for (let i = 0; i < 10; i++) write(guard, `old${i}`);
    const between = guard.begin();
    for (let i = 0; i < 5; i++) write(guard, `new${i}`);
    // old0..old4 went; `between` began after them, so only what was written since refuses it.
    expect(guard.mayFill('old0', holder)).toBe(false);
    expect(guard.mayFill('old0', between)).toBe(true);
    expect(guard.mayFill('old9', between)).toBe(true);
    expect(guard.mayFill('new0', between)).toBe(false);
    expect(guard.mayFill('other', between)).toBe(true);
    if (readsEnd) {
      guard.end();
      guard.end();
    }
  });

  it('moves a key written again to the newest stamp, counted once', () => {
    const guard = createFillGuard({ readsEnd, maxEntries: 4 });
    const holder = guard.begin();
    write(guard, 'a');
    write(guard, 'b');
    const afterB = guard.begin();
    write(guard, 'c');
    write(guard, 'a');
    expect(guard.memory()).toMatchObject({ entries: 3, bytes: 3 * stampCost('a') });
    // b is now the oldest stamp: e pushes it out, which refuses only reads begun before b's write.
    write(guard, 'd');
    write(guard, 'e');
    expect(guard.mayFill('x', holder)).toBe(false);
    expect(guard.mayFill('x', afterB)).toBe(true);
    expect(guard.mayFill('b', afterB)).toBe(true);
    expect(guard.mayFill('a', afterB)).toBe(false);
    if (readsEnd) {
      guard.end();
      guard.end();
    }
  });

  it('caps its stamps in bytes, long keys counted at two bytes a character', () => {
    const long = 'long/'.repeat(60);
    const guard = createFillGuard({ readsEnd, maxEntries: 10_000, maxBytes: 64 << 10 });
    const ticket = guard.begin();
    for (let i = 0; i < 1_000; i++) write(guard, `${long}${i}`);
    const size = guard.memory();
    expect(size.bytes).toBeLessThanOrEqual(64 << 10);
    expect(size.entries).toBe(Math.floor((64 << 10) / stampCost(`${long}100`)));
    expect(guard.mayFill(`${long}0`, ticket)).toBe(false);
    expect(guard.mayFill('untouched', ticket)).toBe(false);
    if (readsEnd) guard.end();
  });

  it('keeps no stamp for a key too long for the whole budget, and refuses the reads it would have', () => {
    const guard = createFillGuard({ readsEnd, maxBytes: 200 });
    const ticket = guard.begin();
    write(guard, 'short');
    write(guard, 'x'.repeat(100));
    expect(guard.memory().entries).toBe(0);
    expect(guard.mayFill('x'.repeat(100), ticket)).toBe(false);
    expect(guard.mayFill('short', ticket)).toBe(false);
    expect(guard.mayFill('x'.repeat(100), guard.begin())).toBe(true);
    if (readsEnd) {
      guard.end();
      guard.end();
    }
  });
});

describe('the fill guard, with reads that end', () => {
  it('stamps nothing while no read is in flight', () => {
    const guard = createFillGuard({ readsEnd: true });
    for (let i = 0; i < 100; i++) write(guard, `k${i}`);
    expect(guard.memory().entries).toBe(0);
    expect(guard.mayFill('k0', guard.begin())).toBe(true);
    guard.end();
  });

  it('forgets its stamps when the last read in flight ends, and still refuses the stale fill before that', () => {
    const guard = createFillGuard({ readsEnd: true });
    const slow = guard.begin();
    const quick = guard.begin();
    write(guard, 'a');
    write(guard, 'b');
    expect(guard.memory().entries).toBe(2);
    expect(guard.mayFill('a', quick)).toBe(false);
    guard.end();
    expect(guard.memory().entries).toBe(2);
    expect(guard.mayFill('b', slow)).toBe(false);
    guard.end();
    expect(guard.memory()).toMatchObject({ entries: 0, bytes: 0 });
    const next = guard.begin();
    expect(guard.mayFill('a', next)).toBe(true);
    guard.end();
  });

  it('stays safe when a caller ends a read twice: the floor rises with every stamp forgotten', () => {
    const guard = createFillGuard({ readsEnd: true });
    const first = guard.begin();
    const second = guard.begin();
    write(guard, 'a');
    guard.end();
    guard.end(); // `first`'s end, given twice: the guard now thinks nothing is in flight
    guard.end();
    expect(guard.memory().entries).toBe(0);
    expect(guard.mayFill('a', second)).toBe(false);
    expect(guard.mayFill('a', first)).toBe(false);
  });
});

describe('the fill guard, with reads that never report their end', () => {
  it('keeps its stamps (within the cap) for reads it cannot know are over', () => {
    const guard = createFillGuard({ maxEntries: 10 });
    const ticket = guard.begin();
    for (let i = 0; i < 5; i++) write(guard, `k${i}`);
    guard.end(); // ignored: without `readsEnd` an end proves nothing
    expect(guard.memory().entries).toBe(5);
    expect(guard.mayFill('k0', ticket)).toBe(false);
    expect(guard.mayFill('other', ticket)).toBe(true);
  });
});
