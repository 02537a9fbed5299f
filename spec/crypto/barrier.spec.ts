import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type ErrorCode, isApiError } from '../../lib/errors.js';
import { type Barrier, createBarrier, KEYRING_PATH } from '../../lib/crypto/barrier.js';
import { setRandomSource } from '../../lib/crypto/random.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import type { Storage } from '../../lib/storage/storage.js';
import { createMountView } from '../../lib/storage/view.js';

const MASTER = Buffer.alloc(32, 0x11);
const OTHER = Buffer.alloc(32, 0x22);
const HEADER = 5;
const NONCE = 12;
const TAG = 16;

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    return isApiError(err) ? err.code : `not an ApiError: ${String(err)}`;
  }
  return undefined;
}

async function rejectsWith(promise: Promise<unknown> | (() => unknown), code: ErrorCode) {
  expect(await codeOf(promise)).toBe(code);
}

async function unsealedBarrier(physical: Storage = createInmemStorage()): Promise<Barrier> {
  const barrier = createBarrier(physical);
  await barrier.initialize(MASTER);
  await barrier.unseal(MASTER);
  return barrier;
}

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** Records every 32-byte draw (the barrier's term keys) while still returning real randomness. */
function captureKeyDraws(): Buffer[] {
  const keys: Buffer[] = [];
  restore = setRandomSource({
    bytes: (n) => {
      const b = nodeRandomBytes(n);
      if (n === 32) keys.push(b);
      return b;
    },
    uuid: () => '00000000-0000-4000-8000-000000000000',
  });
  return keys;
}

describe('barrier lifecycle', () => {
  it('starts uninitialized and sealed', async () => {
    const barrier = createBarrier(createInmemStorage());
    expect(await barrier.initialized()).toBe(false);
    expect(barrier.sealed).toBe(true);
    await rejectsWith(barrier.unseal(MASTER), 'ERR_NOT_INITIALIZED');
  });

  it.each<[string, (b: Barrier) => unknown]>([
    ['get', (b) => b.get('secret/foo')],
    ['put', (b) => b.put('secret/foo', Buffer.from('x'))],
    ['delete', (b) => b.delete('secret/foo')],
    ['list', (b) => b.list('')],
    ['rotate', (b) => b.rotate()],
    ['rekey', (b) => b.rekey(OTHER)],
    ['keyStatus', (b) => b.keyStatus()],
    ['verifyMaster', (b) => b.verifyMaster(MASTER)],
  ])('%s fails with ERR_SEALED while sealed', async (_name, op) => {
    const barrier = createBarrier(createInmemStorage());
    await barrier.initialize(MASTER);
    await rejectsWith(() => op(barrier), 'ERR_SEALED');
    const sealedAgain = await unsealedBarrier();
    sealedAgain.seal();
    await rejectsWith(() => op(sealedAgain), 'ERR_SEALED');
  });

  it('initializes sealed, refuses a second initialize, then unseals', async () => {
    const barrier = createBarrier(createInmemStorage());
    await barrier.initialize(MASTER);
    expect(await barrier.initialized()).toBe(true);
    expect(barrier.sealed).toBe(true);
    await rejectsWith(barrier.initialize(OTHER), 'ERR_ALREADY_INITIALIZED');
    await barrier.unseal(MASTER);
    expect(barrier.sealed).toBe(false);
    await barrier.unseal(MASTER);
    expect(barrier.sealed).toBe(false);
    expect(barrier.keyStatus().term).toBe(1);
  });

  it('rejects a wrong or malformed master key and stays sealed', async () => {
    const barrier = createBarrier(createInmemStorage());
    await rejectsWith(barrier.initialize(Buffer.alloc(16)), 'ERR_INVALID_KEY');
    await barrier.initialize(MASTER);
    await rejectsWith(barrier.unseal(OTHER), 'ERR_INVALID_KEY');
    await expect(barrier.unseal(OTHER)).rejects.toThrow('unseal failed, invalid key');
    await rejectsWith(barrier.unseal(Buffer.alloc(31, 0x11)), 'ERR_INVALID_KEY');
    expect(barrier.sealed).toBe(true);
    await barrier.unseal(MASTER);
    expect(barrier.sealed).toBe(false);
  });

  it('verifies the master key', async () => {
    const barrier = await unsealedBarrier();
    expect(await barrier.verifyMaster(MASTER)).toBe(true);
    expect(await barrier.verifyMaster(OTHER)).toBe(false);
    expect(await barrier.verifyMaster(MASTER.subarray(0, 16))).toBe(false);
  });

  it('keeps its own copy of the master key', async () => {
    const physical = createInmemStorage();
    const mine = Buffer.from(MASTER);
    const barrier = await unsealedBarrier(physical);
    barrier.seal();
    await barrier.unseal(mine);
    // The caller may zero the key it combined from shares right after unsealing.
    mine.fill(0);
    await barrier.rotate();
    barrier.seal();
    await barrier.unseal(MASTER);
    expect(barrier.keyStatus().term).toBe(2);
  });

  it('zeroes key material on seal, and the fresh keyring key after initialize', async () => {
    const keys = captureKeyDraws();
    const barrier = createBarrier(createInmemStorage());
    await barrier.initialize(MASTER);
    expect(keys).toHaveLength(1);
    expect(keys[0]!.every((b) => b === 0)).toBe(true);
    await barrier.unseal(MASTER);
    await barrier.rotate();
    expect(keys).toHaveLength(2);
    expect(keys[1]!.some((b) => b !== 0)).toBe(true);
    barrier.seal();
    expect(keys[1]!.every((b) => b === 0)).toBe(true);
  });

  it('refuses core/keyring through the storage methods', async () => {
    const barrier = await unsealedBarrier();
    await rejectsWith(barrier.put(KEYRING_PATH, Buffer.from('x')), 'ERR_INVALID_PATH');
    await rejectsWith(barrier.delete(KEYRING_PATH), 'ERR_INVALID_PATH');
    await rejectsWith(barrier.get(KEYRING_PATH), 'ERR_INVALID_PATH');
    // The keyring is untouched: the barrier still seals and unseals with it.
    barrier.seal();
    await barrier.unseal(MASTER);
    expect(barrier.keyStatus().term).toBe(1);
  });

  it('answers ERR_SEALED, not ERR_INTEGRITY, when sealed during a read', async () => {
    const inner = createInmemStorage();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: Storage = {
      ...inner,
      get: async (key) => {
        const value = await inner.get(key);
        if (key !== KEYRING_PATH) await gate;
        return value;
      },
    };
    const barrier = await unsealedBarrier(slow);
    await barrier.put('secret/a', Buffer.from('v'));
    const pending = barrier.get('secret/a');
    barrier.seal();
    release();
    await rejectsWith(pending, 'ERR_SEALED');
  });
});

describe('barrier storage', () => {
  it('puts, gets, lists and deletes', async () => {
    const barrier = await unsealedBarrier();
    expect(await barrier.get('secret/missing')).toBeNull();
    await barrier.put('secret/a', Buffer.from('alpha'));
    await barrier.put('secret/b/c', Buffer.from('gamma'));
    await barrier.put('secret/empty', Buffer.alloc(0));
    expect(Buffer.from((await barrier.get('secret/a'))!).toString()).toBe('alpha');
    expect((await barrier.get('secret/empty'))!.length).toBe(0);
    expect(await barrier.list('secret/')).toEqual(['a', 'b/', 'empty']);
    await barrier.put('secret/a', Buffer.from('alpha2'));
    expect(Buffer.from((await barrier.get('secret/a'))!).toString()).toBe('alpha2');
    await barrier.delete('secret/a');
    await barrier.delete('secret/a');
    expect(await barrier.get('secret/a')).toBeNull();
    expect(await barrier.list('secret/')).toEqual(['b/', 'empty']);
  });

  it('never stores the plaintext, and encrypts equal values differently', async () => {
    const physical = createInmemStorage();
    const barrier = await unsealedBarrier(physical);
    const plaintext = Buffer.from('the-plaintext-value-0123456789');
    await barrier.put('secret/one', plaintext);
    await barrier.put('secret/two', plaintext);
    const one = Buffer.from((await physical.get('secret/one'))!);
    const two = Buffer.from((await physical.get('secret/two'))!);
    for (const stored of [one, two]) {
      expect(stored.indexOf(plaintext)).toBe(-1);
      expect(stored.indexOf(plaintext.subarray(0, 8))).toBe(-1);
      expect(stored).toHaveLength(HEADER + NONCE + plaintext.length + TAG);
      expect(stored.readUInt32BE(0)).toBe(1);
      expect(stored[4]).toBe(1);
    }
    const nonceOf = (b: Buffer) => b.subarray(HEADER, HEADER + NONCE);
    expect(nonceOf(one).equals(nonceOf(two))).toBe(false);
    expect(one.subarray(HEADER + NONCE).equals(two.subarray(HEADER + NONCE))).toBe(false);
    const keyring = Buffer.from((await physical.get(KEYRING_PATH))!);
    expect(keyring.readUInt32BE(0)).toBe(0);
    expect(keyring.indexOf(MASTER)).toBe(-1);
  });

  const value = Buffer.from('tamper-me-please');
  const length = HEADER + NONCE + value.length + TAG;
  const positions: [string, number][] = [
    ['term (high byte)', 0],
    ['term (low byte)', 3],
    ['version', 4],
    ['nonce (first)', HEADER],
    ['nonce (last)', HEADER + NONCE - 1],
    ['ciphertext (first)', HEADER + NONCE],
    ['ciphertext (middle)', HEADER + NONCE + 7],
    ['ciphertext (last)', HEADER + NONCE + value.length - 1],
    ['tag (first)', length - TAG],
    ['tag (last)', length - 1],
  ];

  it.each(positions)('detects a flipped bit in the %s', async (_name, position) => {
    const physical = createInmemStorage();
    const barrier = await unsealedBarrier(physical);
    await barrier.put('secret/t', value);
    const original = Buffer.from((await physical.get('secret/t'))!);
    for (const bit of [0, 3, 7]) {
      const tampered = Buffer.from(original);
      tampered[position]! ^= 1 << bit;
      await physical.put('secret/t', tampered);
      const err = await barrier.get('secret/t').catch((e: unknown) => e);
      expect(isApiError(err, 'ERR_INTEGRITY')).toBe(true);
      expect((err as Error).message).toContain('secret/t');
      expect((err as Error).message).not.toContain('tamper');
    }
  });

  it.each<[string, (b: Buffer) => Buffer]>([
    ['truncated by one byte', (b) => b.subarray(0, b.length - 1)],
    ['truncated to the header', (b) => b.subarray(0, HEADER + NONCE)],
    ['empty', () => Buffer.alloc(0)],
    ['extended by one byte', (b) => Buffer.concat([b, Buffer.from([0])])],
    ['from an unknown term', (b) => Buffer.concat([Buffer.from([0, 0, 0, 9]), b.subarray(4)])],
    ['of an unknown version', (b) => Buffer.concat([b.subarray(0, 4), Buffer.of(2), b.subarray(5)])],
  ])('detects an entry %s', async (_name, mutate) => {
    const physical = createInmemStorage();
    const barrier = await unsealedBarrier(physical);
    await barrier.put('secret/t', value);
    await physical.put('secret/t', mutate(Buffer.from((await physical.get('secret/t'))!)));
    await rejectsWith(barrier.get('secret/t'), 'ERR_INTEGRITY');
  });

  it('detects a ciphertext moved to another key', async () => {
    const physical = createInmemStorage();
    const barrier = await unsealedBarrier(physical);
    await barrier.put('secret/from', value);
    await physical.put('secret/to', (await physical.get('secret/from'))!);
    await rejectsWith(barrier.get('secret/to'), 'ERR_INTEGRITY');
    expect(Buffer.from((await barrier.get('secret/from'))!).equals(value)).toBe(true);
  });

  it('rejects a tampered keyring at unseal', async () => {
    const physical = createInmemStorage();
    const barrier = createBarrier(physical);
    await barrier.initialize(MASTER);
    const keyring = Buffer.from((await physical.get(KEYRING_PATH))!);
    keyring[keyring.length - 20]! ^= 1;
    await physical.put(KEYRING_PATH, keyring);
    expect(await codeOf(barrier.unseal(MASTER))).toMatch(/^ERR_(INVALID_KEY|INTEGRITY)$/);
    expect(barrier.sealed).toBe(true);
  });
});

describe('barrier peek (the synchronous read of a cached value)', () => {
  const text = (value: Uint8Array): string => Buffer.from(value).toString();

  it('knows only what a read has decrypted since the last write, and never while sealed', async () => {
    const barrier = await unsealedBarrier();
    await barrier.put('secret/a', Buffer.from('alpha'));
    expect(barrier.peek('secret/a', text)).toBeUndefined();
    expect(barrier.peek('secret/missing', text)).toBeUndefined();
    await barrier.get('secret/a');
    expect(barrier.peek('secret/a', text)).toBe('alpha');

    await barrier.put('secret/a', Buffer.from('alpha2'));
    expect(barrier.peek('secret/a', text)).toBeUndefined();
    await barrier.get('secret/a');
    expect(barrier.peek('secret/a', text)).toBe('alpha2');

    await barrier.delete('secret/a');
    expect(barrier.peek('secret/a', text)).toBeUndefined();
    expect(barrier.peek(KEYRING_PATH, text)).toBeUndefined();

    await barrier.put('secret/b', Buffer.from('beta'));
    await barrier.get('secret/b');
    barrier.seal();
    expect(barrier.peek('secret/b', text)).toBeUndefined();
  });

  it('lends the bytes to the reader only when cached, and returns what the reader returns', async () => {
    const barrier = await unsealedBarrier();
    await barrier.put('secret/a', Buffer.from('alpha'));
    const seen: string[] = [];
    const read = (value: Uint8Array): number => {
      seen.push(text(value));
      return value.length;
    };
    expect(barrier.peek('secret/a', read)).toBeUndefined();
    expect(seen).toEqual([]);
    await barrier.get('secret/a');
    expect(barrier.peek('secret/a', read)).toBe(5);
    expect(seen).toEqual(['alpha']);
    // get still hands out copies: changing one leaves what peek lends alone.
    (await barrier.get('secret/a'))!.fill(0);
    expect(barrier.peek('secret/a', text)).toBe('alpha');
  });

  it('caches a read that a write to another key overlapped, never one a write to its own key did', async () => {
    const inner = createInmemStorage();
    const held = new Map<string, () => void>();
    const slow: Storage = {
      ...inner,
      get: async (key) => {
        const value = await inner.get(key);
        if (key.startsWith('secret/slow')) await new Promise<void>((resolve) => held.set(key, resolve));
        return value;
      },
    };
    const barrier = await unsealedBarrier(slow);
    await barrier.put('secret/slow-a', Buffer.from('a1'));
    await barrier.put('secret/slow-b', Buffer.from('b1'));
    const readA = barrier.get('secret/slow-a');
    const readB = barrier.get('secret/slow-b');
    await new Promise((resolve) => setImmediate(resolve));
    await barrier.put('secret/other', Buffer.from('x'));
    await barrier.put('secret/slow-b', Buffer.from('b2'));
    held.get('secret/slow-a')!();
    held.get('secret/slow-b')!();
    expect(text((await readA)!)).toBe('a1');
    expect(text((await readB)!)).toBe('b1');
    expect(barrier.peek('secret/slow-a', text)).toBe('a1');
    expect(barrier.peek('secret/slow-b', text)).toBeUndefined();
    // And a read that a seal overlapped fills nothing once unsealed again.
    const readAgain = barrier.get('secret/slow-b');
    await new Promise((resolve) => setImmediate(resolve));
    barrier.seal();
    await barrier.unseal(MASTER);
    held.get('secret/slow-b')!();
    await readAgain.catch(() => undefined);
    expect(barrier.peek('secret/slow-b', text)).toBeUndefined();
  });

  it('is passed through a view under the view\'s prefix', async () => {
    const barrier = await unsealedBarrier();
    const view = createMountView(barrier, 'logical/x/');
    await view.put('k', Buffer.from('value'));
    await view.get('k');
    expect(view.peek('k', text)).toBe('value');
    expect(barrier.peek('logical/x/k', text)).toBe('value');
  });

  it('keeps answering right for more keys than a view remembers joined names for', async () => {
    const barrier = await unsealedBarrier();
    const view = createMountView(barrier, 'logical/y/');
    const keys = Array.from({ length: 1500 }, (_, i) => `k${i}`);
    for (const key of keys) {
      await view.put(key, Buffer.from(`value of ${key}`));
      await view.get(key);
    }
    for (const key of [...keys, ...keys.slice(0, 10)]) expect(view.peek(key, text)).toBe(`value of ${key}`);
  });
});

describe('barrier key rotation and rekey', () => {
  it('rotates to a new term while old terms stay readable, across seal and unseal', async () => {
    const physical = createInmemStorage();
    const barrier = await unsealedBarrier(physical);
    const before = barrier.keyStatus();
    expect(before.term).toBe(1);
    expect(before.installTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    await barrier.put('secret/old', Buffer.from('one'));
    const status = await barrier.rotate();
    expect(status.term).toBe(2);
    expect(barrier.keyStatus()).toEqual(status);
    await barrier.put('secret/new', Buffer.from('two'));
    expect(Buffer.from((await physical.get('secret/old'))!).readUInt32BE(0)).toBe(1);
    expect(Buffer.from((await physical.get('secret/new'))!).readUInt32BE(0)).toBe(2);
    for (const round of [0, 1]) {
      if (round === 1) {
        barrier.seal();
        await barrier.unseal(MASTER);
        expect(barrier.keyStatus()).toEqual(status);
      }
      expect(Buffer.from((await barrier.get('secret/old'))!).toString()).toBe('one');
      expect(Buffer.from((await barrier.get('secret/new'))!).toString()).toBe('two');
    }
  });

  it('serializes concurrent rotations', async () => {
    const barrier = await unsealedBarrier();
    const statuses = await Promise.all([barrier.rotate(), barrier.rotate(), barrier.rotate()]);
    expect(statuses.map((s) => s.term).sort()).toEqual([2, 3, 4]);
    barrier.seal();
    await barrier.unseal(MASTER);
    expect(barrier.keyStatus().term).toBe(4);
  });

  it('rekeys: the old master key stops working, the new one unseals the same data', async () => {
    const barrier = await unsealedBarrier();
    await barrier.put('secret/a', Buffer.from('kept'));
    await barrier.rotate();
    await rejectsWith(barrier.rekey(Buffer.alloc(8)), 'ERR_INVALID_KEY');
    await barrier.rekey(OTHER);
    expect(await barrier.verifyMaster(OTHER)).toBe(true);
    expect(await barrier.verifyMaster(MASTER)).toBe(false);
    barrier.seal();
    await rejectsWith(barrier.unseal(MASTER), 'ERR_INVALID_KEY');
    expect(barrier.sealed).toBe(true);
    await barrier.unseal(OTHER);
    expect(barrier.keyStatus().term).toBe(2);
    expect(Buffer.from((await barrier.get('secret/a'))!).toString()).toBe('kept');
  });
});
