import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { MAX_KEY_BYTES, type Storage } from '../../lib/storage/storage.js';
import type { PeekableStorage } from '../../lib/storage/view.js';

/**
 * The storage contract (api.md §7, lib/storage/storage.ts), run against every implementation:
 * inmem, file, the barrier, the cache, the fault wrapper (faults off), and later etcd.
 * No case uses `core/keyring`: the barrier keeps that key for itself.
 */

export interface StorageUnderTest {
  storage: Storage;
  cleanup(): Promise<void>;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function errorCode(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (err) {
    return isApiError(err) ? err.code : `not an ApiError: ${String(err)}`;
  }
  return undefined;
}

/** Keys that must be stored faithfully: nothing about them is special. */
export const FAITHFUL_KEYS = [
  'plain',
  'with space/and more spaces ',
  'percent%2Fencoded%',
  'dots/../up',
  'dots/./here',
  '..',
  '.hidden/.x',
  'unicode/日本語/é/🔑',
  'back\\slash',
  'new\nline\ttab',
  'a:b*c?d"e<f>g|h',
  'UPPER/Upper',
  'UPPER/upper',
  'nomad.lock',
  'log-0000000001.nlog',
];

/** Keys every storage rejects with ERR_INVALID_PATH. */
export const REJECTED_KEYS: Array<[string, string]> = [
  ['the empty key', ''],
  ['a leading slash', '/abs'],
  ['a trailing slash', 'folder/'],
  ['an empty segment', 'a//b'],
  ['NUL', 'nul\0byte'],
  ['a lone surrogate', 'half\uD800'],
  ['an oversized key', 'k'.repeat(MAX_KEY_BYTES + 1)],
  ['an oversized unicode key', 'é'.repeat(MAX_KEY_BYTES / 2 + 1)],
];

export function exerciseStorage(name: string, create: () => Promise<StorageUnderTest>): void {
  describe(`storage contract: ${name}`, () => {
    let under: StorageUnderTest;
    let s: Storage;
    beforeEach(async () => {
      under = await create();
      s = under.storage;
    });
    afterEach(async () => {
      await under.cleanup();
    });

    it('answers null for a missing key and accepts deleting one', async () => {
      expect(await s.get('missing')).toBeNull();
      await s.delete('missing');
      await s.delete('missing/deeper');
      expect(await s.list('')).toEqual([]);
      expect(await s.list('nothing/here/')).toEqual([]);
    });

    it('stores, replaces and deletes a value', async () => {
      await s.put('k', bytes('one'));
      expect(Buffer.from((await s.get('k'))!).toString()).toBe('one');
      await s.put('k', bytes('two'));
      expect(Buffer.from((await s.get('k'))!).toString()).toBe('two');
      await s.delete('k');
      expect(await s.get('k')).toBeNull();
      await s.delete('k');
    });

    it.each([
      ['empty', 0],
      ['one byte', 1],
      ['4 KiB', 4096],
      ['5 MiB', 5 << 20],
    ])('round-trips a %s value exactly', async (_label, size) => {
      const value = randomBytes(size);
      await s.put('sized/value', value);
      const back = await s.get('sized/value');
      expect(back).not.toBeNull();
      expect(Buffer.from(back!).equals(value)).toBe(true);
    });

    it('round-trips every byte value', async () => {
      const value = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
      await s.put('all-bytes', value);
      expect(Buffer.from((await s.get('all-bytes'))!).equals(Buffer.from(value))).toBe(true);
    });

    it('peeks, where it can, only at what get would answer now', async () => {
      // peek is optional; where it exists it may say "don't know" (undefined), never something stale.
      const peek = (key: string): string | undefined => (s as Partial<PeekableStorage>).peek?.(key, (v: Uint8Array) => Buffer.from(v).toString());
      for (const round of ['one', 'two']) {
        await s.put('peeked', bytes(round));
        expect([undefined, round]).toContain(peek('peeked'));
        expect(Buffer.from((await s.get('peeked'))!).toString()).toBe(round);
        expect([undefined, round]).toContain(peek('peeked'));
      }
      await s.delete('peeked');
      expect(peek('peeked')).toBeUndefined();
      expect(await s.get('peeked')).toBeNull();
      expect(peek('peeked')).toBeUndefined();
    });

    it('copies values in and out', async () => {
      const value = Buffer.from('original');
      await s.put('copy', value);
      value.fill(0);
      const first = await s.get('copy');
      first!.fill(0);
      expect(Buffer.from((await s.get('copy'))!).toString()).toBe('original');
    });

    it('lists one level deep, sorted, folders ending in /', async () => {
      for (const key of ['b', 'a/x', 'a/y/z', 'c/d/e/f', 'a/y/w']) await s.put(key, bytes(key));
      expect(await s.list('')).toEqual(['a/', 'b', 'c/']);
      expect(await s.list('a/')).toEqual(['x', 'y/']);
      expect(await s.list('a/y/')).toEqual(['w', 'z']);
      expect(await s.list('c/')).toEqual(['d/']);
      expect(await s.list('c/d/e/')).toEqual(['f']);
      expect(await s.list('b/')).toEqual([]);
    });

    it('keeps foo, foo/ and foo/bar apart', async () => {
      await s.put('foo', bytes('file'));
      await s.put('foo/bar', bytes('child'));
      expect(await s.list('')).toEqual(['foo', 'foo/']);
      expect(await s.list('foo/')).toEqual(['bar']);
      await s.delete('foo');
      expect(await s.get('foo')).toBeNull();
      expect(Buffer.from((await s.get('foo/bar'))!).toString()).toBe('child');
      expect(await s.list('')).toEqual(['foo/']);
      await s.put('foo', bytes('again'));
      await s.delete('foo/bar');
      expect(await s.list('')).toEqual(['foo']);
      expect(await s.list('foo/')).toEqual([]);
    });

    it('leaves no empty folder behind when the last child goes', async () => {
      await s.put('deep/er/est/leaf', bytes('x'));
      await s.put('deep/sibling', bytes('y'));
      await s.delete('deep/er/est/leaf');
      expect(await s.list('deep/')).toEqual(['sibling']);
      expect(await s.list('deep/er/')).toEqual([]);
      await s.delete('deep/sibling');
      expect(await s.list('')).toEqual([]);
    });

    it('stores unusual keys faithfully, with no normalization', async () => {
      for (const key of FAITHFUL_KEYS) await s.put(key, bytes(`value of ${key}`));
      for (const key of FAITHFUL_KEYS) expect(Buffer.from((await s.get(key))!).toString()).toBe(`value of ${key}`);
      expect(await s.get('up')).toBeNull();
      expect(await s.get('dots/here')).toBeNull();
      expect(await s.list('dots/')).toEqual(['../', './']);
      expect(await s.list('dots/../')).toEqual(['up']);
      expect(await s.list('unicode/日本語/é/')).toEqual(['🔑']);
      expect(await s.list('UPPER/')).toEqual(['Upper', 'upper']);
      expect(await s.list('')).toEqual([...new Set(FAITHFUL_KEYS.map((k) => k.split('/')[0] + (k.includes('/') ? '/' : '')))].sort());
    });

    it('accepts a key of exactly the maximum length', async () => {
      const key = `${'k'.repeat(100)}/${'é'.repeat((MAX_KEY_BYTES - 101) / 2)}`;
      expect(Buffer.byteLength(key)).toBe(MAX_KEY_BYTES - 1);
      const longest = `${key}x`;
      await s.put(longest, bytes('long'));
      expect(Buffer.from((await s.get(longest))!).toString()).toBe('long');
      expect(await s.list(`${'k'.repeat(100)}/`)).toEqual([longest.slice(101)]);
    });

    it.each(REJECTED_KEYS)('rejects %s with ERR_INVALID_PATH', async (_label, key) => {
      expect(await errorCode(() => s.put(key, bytes('x')))).toBe('ERR_INVALID_PATH');
      expect(await errorCode(() => s.get(key))).toBe('ERR_INVALID_PATH');
      expect(await errorCode(() => s.delete(key))).toBe('ERR_INVALID_PATH');
      expect(await s.list('')).toEqual([]);
    });

    it.each([['no trailing slash', 'a'], ['a leading slash', '/a/'], ['an empty segment', 'a//'], ['only a slash', '/']])(
      'rejects a list prefix with %s',
      async (_label, prefix) => {
        expect(await errorCode(() => s.list(prefix))).toBe('ERR_INVALID_PATH');
      },
    );

    it('ends concurrent puts to one key with the last one', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => s.put('race', bytes(`v${i}`))));
      expect(Buffer.from((await s.get('race'))!).toString()).toBe('v49');
      await Promise.all([s.put('race', bytes('last-but-one')), s.delete('race')]);
      expect(await s.get('race')).toBeNull();
    });

    it('keeps every one of many concurrent puts to different keys', async () => {
      const keys = Array.from({ length: 300 }, (_, i) => `many/${String(i).padStart(3, '0')}`);
      await Promise.all(keys.map((k) => s.put(k, bytes(k))));
      expect(await s.list('many/')).toEqual(keys.map((k) => k.slice('many/'.length)));
      for (const k of keys) expect(Buffer.from((await s.get(k))!).toString()).toBe(k);
    });
  });
}
