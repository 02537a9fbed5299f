import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import { decodeSnapshot, encodeSnapshot, encodeSnapshotBuffer, snapshotSize, type SnapshotEntry } from '../../lib/storage/snapshot-format.js';
import { listAllKeys, readAllEntries, replaceAllEntries } from '../../lib/storage/snapshot.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function refusal(snapshot: Buffer): string {
  try {
    decodeSnapshot(snapshot);
  } catch (err) {
    if (isApiError(err) && err.code === 'ERR_INVALID_REQUEST') return err.message;
    throw err;
  }
  throw new Error('accepted');
}

/** A well-formed file around a hand-made body (to reach the checks behind the checksum). */
function withChecksum(body: Buffer): Buffer {
  const framed = Buffer.concat([body, Buffer.from('NMDSEND\n', 'latin1')]);
  return Buffer.concat([framed, createHash('sha256').update(framed).digest()]);
}

function header(count: number): Buffer {
  const h = Buffer.alloc(28);
  h.write('NMDSNAP\n', 0, 'latin1');
  h[8] = 1;
  h.writeBigUInt64BE(BigInt(count), 12);
  return h;
}

function entry(key: string, value: string): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const out = Buffer.alloc(8 + k.length + v.length);
  out.writeUInt32BE(k.length, 0);
  k.copy(out, 4);
  out.writeUInt32BE(v.length, 4 + k.length);
  v.copy(out, 8 + k.length);
  return out;
}

describe('snapshot format', () => {
  const entries: SnapshotEntry[] = [
    ['a', bytes('1')],
    ['a/b', new Uint8Array(0)],
    ['core/keyring', bytes('k'.repeat(300))],
    ['ü/😀', bytes('unicode')],
  ];

  it('round-trips entries, sizes exactly, and starts with its magic and version', () => {
    const file = encodeSnapshotBuffer(entries, 1234);
    expect(file.length).toBe(snapshotSize(entries));
    expect(file.subarray(0, 9).toString('latin1')).toBe('NMDSNAP\n\u0001');
    const decoded = decodeSnapshot(file);
    expect(decoded.createdAt).toBe(1234);
    expect(decoded.entries.map(([k, v]) => [k, Buffer.from(v).toString()])).toEqual(entries.map(([k, v]) => [k, Buffer.from(v).toString()]));
  });

  it('streams large snapshots in chunks that join to the same bytes', () => {
    const many: SnapshotEntry[] = Array.from({ length: 5000 }, (_, i) => [`k/${String(i).padStart(5, '0')}`, bytes('x'.repeat(200))]);
    const chunks = [...encodeSnapshot(many, 1)];
    expect(chunks.length).toBeGreaterThan(2);
    const joined = Buffer.concat(chunks);
    expect(joined.length).toBe(snapshotSize(many));
    expect(decodeSnapshot(joined).entries.length).toBe(5000);
  });

  it('refuses every single flipped bit, and every truncation', () => {
    const file = encodeSnapshotBuffer(entries, 1);
    for (let at = 0; at < file.length; at++) {
      const flipped = Buffer.from(file);
      flipped[at] ^= 1 << (at % 8);
      expect(refusal(flipped)).toMatch(/^invalid snapshot: /);
    }
    for (let length = 0; length < file.length; length++) expect(refusal(file.subarray(0, length))).toMatch(/^invalid snapshot: /);
    expect(refusal(Buffer.concat([file, Buffer.from([0])]))).toMatch(/checksum/);
  });

  it('refuses well-checksummed files whose framing lies', () => {
    expect(refusal(withChecksum(Buffer.concat([header(2), entry('a', '1')])))).toMatch(/past the end|larger than the file/);
    expect(refusal(withChecksum(Buffer.concat([header(1), entry('a', '1'), entry('b', '2')])))).toMatch(/bytes left/);
    expect(refusal(withChecksum(Buffer.concat([header(2), entry('b', '1'), entry('a', '2')])))).toMatch(/increasing/);
    expect(refusal(withChecksum(Buffer.concat([header(2), entry('a', '1'), entry('a', '2')])))).toMatch(/increasing/);
    expect(refusal(withChecksum(Buffer.concat([header(1), entry('/bad', '1')])))).toMatch(/valid storage key/);
    expect(refusal(withChecksum(Buffer.concat([header(2 ** 40), entry('a', '1')])))).toMatch(/larger than the file/);
    const versionTwo = header(0);
    versionTwo[8] = 2;
    expect(refusal(withChecksum(versionTwo))).toMatch(/version 2/);
    expect(decodeSnapshot(withChecksum(header(0))).entries).toEqual([]);
  });
});

describe('reading and replacing a whole storage', () => {
  it('reads every key at every depth, and replaces the content exactly', async () => {
    const source = createInmemStorage();
    for (const key of ['a', 'a/b', 'a/b/c', 'z/y/x/w', 'core/keyring', 'core/seal-config']) await source.put(key, bytes(`src:${key}`));
    const entries = await readAllEntries(source);
    expect(entries.map(([k]) => k)).toEqual(['a', 'a/b', 'a/b/c', 'core/keyring', 'core/seal-config', 'z/y/x/w']);

    const target = createInmemStorage();
    for (const key of ['a', 'old/one', 'old/two/three', 'core/keyring', 'core/master-link']) await target.put(key, bytes(`old:${key}`));
    const stats = await replaceAllEntries(target, entries);
    expect(stats).toEqual({ written: 6, deleted: 3 });
    expect(await listAllKeys(target)).toEqual(await listAllKeys(source));
    for (const [key, value] of entries) expect(Buffer.from((await target.get(key))!).toString()).toBe(Buffer.from(value).toString());
  });

  it('writes the keyring and the seal configuration after every other entry', async () => {
    const order: string[] = [];
    const inner = createInmemStorage();
    const storage = { ...inner, put: async (key: string, value: Uint8Array) => void (order.push(key), await inner.put(key, value)) };
    await replaceAllEntries(storage, [['a', bytes('1')], ['core/keyring', bytes('k')], ['core/seal-config', bytes('s')], ['z', bytes('2')]]);
    expect(order.slice(-2)).toEqual(['core/keyring', 'core/seal-config']);
  });
});
