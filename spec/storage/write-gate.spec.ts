import { describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import type { ClosableStorage } from '../../lib/storage/storage.js';
import { createWriteGate } from '../../lib/storage/write-gate.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array | null): string | null => (value === null ? null : new TextDecoder().decode(value));

/** Inmem storage whose puts wait until `release()`: a write in flight, on demand. */
function slowStorage(): { storage: ClosableStorage; started: Promise<void>; release(): void } {
  const inner = createInmemStorage();
  let release!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  const started = new Promise<void>((resolve) => (reached = resolve));
  return {
    storage: {
      get: (key) => inner.get(key),
      list: (prefix) => inner.list(prefix),
      delete: (key) => inner.delete(key),
      async put(key, value) {
        reached();
        await opened;
        return inner.put(key, value);
      },
    },
    started,
    release,
  };
}

describe('write gate', () => {
  it('a hold waits for the writes in flight, and sees them', async () => {
    const slow = slowStorage();
    const gate = createWriteGate(slow.storage);
    const write = gate.storage.put('a', bytes('1'));
    await slow.started;
    let seen: string | null | undefined;
    const hold = gate.hold(async (inner) => {
      seen = text(await inner.get('a'));
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toBeUndefined();
    slow.release();
    await Promise.all([write, hold]);
    expect(seen).toBe('1');
  });

  it('holds back writes that arrive during a hold until it ends; reads pass', async () => {
    const gate = createWriteGate(createInmemStorage());
    await gate.storage.put('a', bytes('before'));
    const order: string[] = [];
    let late: Promise<void> | undefined;
    await gate.hold(async (inner) => {
      late = gate.storage.put('a', bytes('during')).then(() => void order.push('write done'));
      const deleting = gate.storage.delete('a').then(() => void order.push('delete done'));
      void deleting;
      expect(text(await gate.storage.get('a'))).toBe('before');
      await new Promise((r) => setTimeout(r, 20));
      expect(text(await inner.get('a'))).toBe('before');
      order.push('hold done');
    });
    await late;
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual(['hold done', 'write done', 'delete done']);
    expect(await gate.storage.get('a')).toBeNull();
  });

  it('refuses, never applies, the writes held back by a hold that replaced the storage', async () => {
    const gate = createWriteGate(createInmemStorage());
    let held: Promise<void> | undefined;
    await gate.hold(
      async (inner) => {
        held = gate.storage.put('a', bytes('stale'));
        await inner.put('a', bytes('restored'));
      },
      { replaces: true },
    );
    const err = await held!.then(() => undefined, (e: unknown) => e);
    expect(isApiError(err) && err.code).toBe('ERR_SEALED');
    expect(text(await gate.storage.get('a'))).toBe('restored');
    // The gate is open again: later writes go through.
    await gate.storage.put('b', bytes('later'));
    expect(text(await gate.storage.get('b'))).toBe('later');
  });

  it('a failed hold reopens the gate and reports its error', async () => {
    const gate = createWriteGate(createInmemStorage());
    await expect(gate.hold(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await gate.storage.put('a', bytes('1'));
    expect(text(await gate.storage.get('a'))).toBe('1');
  });

  it('keeps the inner storage\'s other properties (an HA lock, a close)', async () => {
    let closed = false;
    const inner = Object.assign(createInmemStorage(), { haLock: () => 'lock', close: async () => void (closed = true) });
    const gate = createWriteGate(inner);
    expect((gate.storage as unknown as { haLock(): string }).haLock()).toBe('lock');
    await gate.storage.close?.();
    expect(closed).toBe(true);
  });
});
