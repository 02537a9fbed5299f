import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT_COST,
  hashPassword,
  MalformedPasswordHashError,
  parsePasswordHash,
  SCRYPT_LIMITS,
  verifyAgainstDummy,
  verifyPassword,
} from '../../lib/crypto/password-hash.js';

const SALT = Buffer.alloc(16, 7).toString('base64');
const HASH = Buffer.alloc(32, 9).toString('base64');

describe('password hashes', () => {
  it('exports the default cost N=16384, r=8, p=1', () => {
    expect(DEFAULT_SCRYPT_COST).toEqual({ N: 16384, r: 8, p: 1, keyLength: 32 });
  });

  it('stores the cost, a 16-byte salt and the hash in one self-describing string', async () => {
    const stored = await hashPassword('correct horse');
    const parts = stored.split(':');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(parts[4]!, 'base64')).toHaveLength(16);
    expect(Buffer.from(parts[5]!, 'base64')).toHaveLength(32);
    expect(stored).not.toContain('correct horse');
    // The hash is plain scrypt of the password with that salt: another implementation can check it.
    const expected = scryptSync('correct horse', Buffer.from(parts[4]!, 'base64'), 32, { N: 16384, r: 8, p: 1 });
    expect(Buffer.from(parts[5]!, 'base64').equals(expected)).toBe(true);
  });

  it('verifies the right password and refuses others', async () => {
    const stored = await hashPassword('s3cret');
    expect(await verifyPassword('s3cret', stored)).toBe(true);
    expect(await verifyPassword('s3creT', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
    expect(await verifyPassword('s3cret ', stored)).toBe(false);
  });

  it('salts every hash afresh', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('verifies hashes made with another cost, so the default can be raised later', async () => {
    const cheap = await hashPassword('pw', { N: 1024, r: 4, p: 2, keyLength: 24 });
    expect(cheap.startsWith('scrypt:1024:4:2:')).toBe(true);
    expect(parsePasswordHash(cheap).cost).toEqual({ N: 1024, r: 4, p: 2, keyLength: 24 });
    expect(await verifyPassword('pw', cheap)).toBe(true);
    expect(await verifyPassword('px', cheap)).toBe(false);
  });

  it('treats the canonically equivalent forms of a password as the same password', async () => {
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    expect(await verifyPassword(decomposed, await hashPassword(composed))).toBe(true);
  });

  it('refuses to make a hash with a cost outside the limits', async () => {
    await expect(hashPassword('pw', { N: 3000, r: 8, p: 1, keyLength: 32 })).rejects.toThrow(/power of two/);
    await expect(hashPassword('pw', { N: 2 ** 20, r: 8, p: 1, keyLength: 32 })).rejects.toThrow(/N must/);
  });

  it.each([
    ['another scheme', `bcrypt:16384:8:1:${SALT}:${HASH}`],
    ['too few parts', `scrypt:16384:8:${SALT}:${HASH}`],
    ['a non-numeric cost', `scrypt:abc:8:1:${SALT}:${HASH}`],
    ['a zero cost', `scrypt:16384:0:1:${SALT}:${HASH}`],
    ['N not a power of two', `scrypt:10000:8:1:${SALT}:${HASH}`],
    // Each of these would have scrypt allocate gigabytes or run for minutes.
    ['a huge N', `scrypt:1073741824:8:1:${SALT}:${HASH}`],
    ['a huge r', `scrypt:16384:4096:1:${SALT}:${HASH}`],
    ['a huge p', `scrypt:16384:8:1000000:${SALT}:${HASH}`],
    ['N and r each allowed but too much memory together', `scrypt:${SCRYPT_LIMITS.maxN}:32:1:${SALT}:${HASH}`],
    ['too much work in N·r·p', `scrypt:65536:8:16:${SALT}:${HASH}`],
    ['a short salt', `scrypt:16384:8:1:${Buffer.alloc(4).toString('base64')}:${HASH}`],
    ['a short hash', `scrypt:16384:8:1:${SALT}:${Buffer.alloc(4).toString('base64')}`],
    ['a huge key length', `scrypt:16384:8:1:${SALT}:${Buffer.alloc(4096).toString('base64')}`],
    ['a salt that is not base64', `scrypt:16384:8:1:!!!!:${HASH}`],
    ['an empty string', ''],
  ])('refuses a stored hash with %s, without running scrypt', async (_what, stored) => {
    expect(() => parsePasswordHash(stored)).toThrow(MalformedPasswordHashError);
    await expect(verifyPassword('pw', stored)).rejects.toThrow(MalformedPasswordHashError);
  });

  it('spends a real verification on the dummy and never matches', async () => {
    const stored = await hashPassword('pw');
    expect(await verifyAgainstDummy('pw')).toBe(false);
    expect(await verifyAgainstDummy('')).toBe(false);
    // Timed against a real verification with a generous bound: a dummy that skips scrypt is ~1000× faster.
    const timeOf = async (fn: () => Promise<unknown>): Promise<number> => {
      const start = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - start);
    };
    const real: number[] = [];
    const dummy: number[] = [];
    for (let i = 0; i < 5; i++) {
      real.push(await timeOf(() => verifyPassword('wrong', stored)));
      dummy.push(await timeOf(() => verifyAgainstDummy('wrong')));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    expect(median(dummy)).toBeGreaterThan(0.3 * median(real));
  });
});
