import { describe, expect, it } from 'vitest';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import { createMountView, createView, type PeekableStorage } from '../../lib/storage/view.js';

/** Views: the prefix, and the bounded memo of joined keys that hot peeks go through. */

/** A storage whose peek answers the key it was handed, so a test sees what the view joined. */
function echoing(): PeekableStorage {
  return { ...createInmemStorage(), peek: (key, read) => read(Buffer.from(key)) };
}

const peeked = (view: PeekableStorage, key: string): string | undefined => view.peek(key, (value) => Buffer.from(value).toString());

describe('createView', () => {
  it('prefixes every key', async () => {
    const inner = createInmemStorage();
    const view = createView(inner, 'logical/a/');
    await view.put('k', Buffer.from('v'));
    expect(await inner.list('logical/a/')).toEqual(['k']);
    expect(peeked(createMountView(echoing(), 'logical/a/'), 'k')).toBe('logical/a/k');
  });

  it('keeps its memo of joined keys within its bounds, and joins long keys without remembering them', () => {
    const view = createMountView(echoing(), 'logical/0b3c1e2a-1111-2222-3333-444455556666/');
    for (let i = 0; i < 50_000; i++) peeked(view, `flood/${i}`);
    const size = view.keysSize();
    expect(size.entries).toBeGreaterThan(0);
    expect(size.entries).toBeLessThanOrEqual(size.maxEntries);
    expect(size.bytes).toBeLessThanOrEqual(size.maxBytes);
    const long = 'x'.repeat(8192);
    expect(peeked(view, long)).toBe(`logical/0b3c1e2a-1111-2222-3333-444455556666/${long}`);
    expect(view.keysSize()).toEqual(size);
    expect(peeked(view, 'hot')).toBe('logical/0b3c1e2a-1111-2222-3333-444455556666/hot');
    const warm = view.keysSize();
    for (let i = 0; i < 10; i++) peeked(view, 'hot');
    expect(view.keysSize()).toEqual(warm);
  });

  it('gives a plain view no peek, and a mount view a memo that starts empty', () => {
    expect('peek' in createView(createInmemStorage(), 'p/')).toBe(false);
    expect(createMountView(echoing(), 'p/').keysSize()).toMatchObject({ entries: 0, bytes: 0 });
  });
});
