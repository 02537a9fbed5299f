import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { type RandomSource, setRandomSource } from '../../lib/crypto/random.js';
import { combine, gfDiv, gfMul, split } from '../../lib/crypto/shamir.js';

/** A deterministic source (xorshift32) so statistical tests cannot flake. */
function seededSource(seed: number): RandomSource {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return {
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
    uuid: () => '00000000-0000-4000-8000-000000000000',
  };
}

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** Bitwise reference multiplication modulo x^8+x^4+x^3+x+1, independent of the tables. */
function slowMul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    const carry = a & 0x80;
    a = (a << 1) & 0xff;
    if (carry) a ^= 0x1b;
    b >>= 1;
  }
  return p;
}

function subsets<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let mask = 1; mask < 1 << items.length; mask++) {
    out.push(items.filter((_, i) => mask & (1 << i)));
  }
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isApiError(err) ? err.code : 'not an ApiError';
  }
  return undefined;
}

/** Pearson chi-square of byte counts against the uniform distribution (255 degrees of freedom). */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / 256;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

// Mean 255, standard deviation ~22.6 for uniform data: 400 is over six deviations out, so a
// correct implementation passes with any seed while a leak of even a few percent bias fails.
const CHI_SQUARE_BOUND = 400;

describe('GF(2^8) arithmetic', () => {
  // Mismatches are collected rather than asserted one by one: 65k expect() calls take seconds.
  it('matches a bitwise reference for every pair of bytes', () => {
    const wrong: string[] = [];
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) if (gfMul(a, b) !== slowMul(a, b)) wrong.push(`${a}*${b}`);
    }
    expect(wrong).toEqual([]);
  });

  it('divides as the inverse of multiplication', () => {
    const wrong: string[] = [];
    for (let a = 0; a < 256; a++) {
      for (let b = 1; b < 256; b++) if (gfDiv(gfMul(a, b), b) !== a) wrong.push(`${a}/${b}`);
    }
    expect(wrong).toEqual([]);
    expect(() => gfDiv(1, 0)).toThrow(RangeError);
  });
});

describe('split and combine', () => {
  const cases: [number, number][] = [];
  for (let n = 2; n <= 6; n++) for (let t = 2; t <= n; t++) cases.push([n, t]);

  it.each(cases)('n=%i t=%i: every subset of at least t shares recovers the secret', (n, t) => {
    const secret = Buffer.from('correct horse battery staple 123');
    const shares = split(secret, n, t);
    expect(shares).toHaveLength(n);
    for (const subset of subsets(shares)) {
      if (subset.length >= t) {
        expect(combine(subset).equals(secret)).toBe(true);
        expect(combine([...subset].reverse()).equals(secret)).toBe(true);
      } else if (subset.length >= 2) {
        // Too few shares interpolate a different polynomial: 2^-256 odds of a match.
        expect(combine(subset).equals(secret)).toBe(false);
      }
    }
  });

  it('gives 33-byte shares for a 32-byte secret, x coordinate last', () => {
    restore = setRandomSource(seededSource(7));
    const secret = Buffer.alloc(32, 0xab);
    const shares = split(secret, 5, 3);
    for (const share of shares) {
      expect(share).toHaveLength(33);
      expect(share[32]).toBeGreaterThan(0);
    }
    expect(combine(shares.slice(1, 4)).equals(secret)).toBe(true);
  });

  it('handles the largest configuration, 255 shares with threshold 255', () => {
    const secret = Buffer.from([0, 1, 254, 255]);
    const shares = split(secret, 255, 255);
    expect(combine(shares).equals(secret)).toBe(true);
    expect(new Set(shares.map((s) => s[4])).size).toBe(255);
  });

  it('draws distinct x coordinates shuffled from 1..255, not 1..n', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      restore = setRandomSource(seededSource(seed));
      const xs = split(Buffer.from([42]), 5, 2).map((s) => s[1]!);
      restore();
      restore = undefined;
      expect(new Set(xs).size).toBe(5);
      expect(xs.every((x) => x >= 1 && x <= 255)).toBe(true);
      expect(xs).not.toEqual([1, 2, 3, 4, 5]);
      xs.forEach((x) => seen.add(x));
    }
    // 100 draws from 255 values: a generator confined to a small range would show up here.
    expect(seen.size).toBeGreaterThan(60);
    expect(Math.max(...seen)).toBeGreaterThan(200);
  });

  it('terminates and stays distinct even with a degenerate all-0xff random source', () => {
    restore = setRandomSource({ bytes: (n) => Buffer.alloc(n, 0xff), uuid: () => '' });
    const shares = split(Buffer.from('s'), 10, 3);
    expect(new Set(shares.map((s) => s[1])).size).toBe(10);
    expect(combine(shares.slice(0, 3)).toString()).toBe('s');
  });

  it.each([
    ['threshold above parts', Buffer.from('x'), 3, 5],
    ['parts above 255', Buffer.from('x'), 256, 2],
    ['threshold of 1', Buffer.from('x'), 5, 1],
    ['threshold of 0', Buffer.from('x'), 5, 0],
    ['negative parts', Buffer.from('x'), -1, 2],
    ['fractional threshold', Buffer.from('x'), 5, 2.5],
    ['empty secret', Buffer.alloc(0), 5, 3],
  ])('rejects %s with ERR_INVALID_SEAL_CONFIG', (_name, secret, parts, threshold) => {
    expect(codeOf(() => split(secret, parts, threshold))).toBe('ERR_INVALID_SEAL_CONFIG');
  });

  it('writes lowercase validation messages', () => {
    try {
      split(Buffer.from('x'), 3, 5);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toBe((err as Error).message.toLowerCase());
    }
  });

  const good = split(Buffer.from('secret'), 3, 2);
  const withX = (share: Buffer, x: Buffer) => Buffer.concat([share.subarray(0, 6), x]);
  it.each([
    ['no shares', []],
    ['a single share', [good[0]!]],
    ['shares of different lengths', [good[0]!, good[1]!.subarray(1)]],
    ['shares shorter than two bytes', [Buffer.from([1]), Buffer.from([2])]],
    ['the same share twice', [good[0]!, good[0]!]],
    ['two shares with the same x', [good[0]!, withX(good[1]!, good[0]!.subarray(6))]],
    ['an x coordinate of 0', [good[0]!, withX(good[1]!, Buffer.of(0))]],
  ])('combine rejects %s with ERR_INVALID_KEY', (_name, shares) => {
    expect(codeOf(() => combine(shares as Buffer[]))).toBe('ERR_INVALID_KEY');
  });

  it('names duplicate shares in the error message', () => {
    expect(() => combine([good[0]!, good[0]!])).toThrow(/duplicate share/);
  });
});

describe('secrecy below the threshold', () => {
  it('one share is consistent with every 1-byte secret via exactly one polynomial', () => {
    // Fix a share (xa, ya). Each possible second share at xb fixes one line through (xa, ya),
    // and the 256 lines hit x = 0 at 256 different secrets: no secret is more likely than another.
    for (const [xa, xb] of [[1, 2], [7, 200], [255, 3]] as const) {
      for (let ya = 0; ya < 256; ya += 15) {
        const secrets = new Set<number>();
        for (let yb = 0; yb < 256; yb++) {
          secrets.add(combine([Buffer.from([ya, xa]), Buffer.from([yb, xb])])[0]!);
        }
        expect(secrets.size).toBe(256);
      }
    }
  });

  function histogramOfFewShares(secretByte: (i: number) => number, t: number, seed: number) {
    restore = setRandomSource(seededSource(seed));
    const shareBytes = new Array<number>(256).fill(0);
    const scaled = new Array<number>(256).fill(0);
    const interpolated = new Array<number>(256).fill(0);
    const secretBytes = new Array<number>(256).fill(0);
    for (let round = 0; round < 200; round++) {
      const secret = Buffer.alloc(32);
      for (let i = 0; i < 32; i++) secret[i] = secretByte(round * 32 + i);
      const few = split(secret, t + 1, t).slice(0, t - 1);
      for (const share of few) {
        for (let i = 0; i < 32; i++) {
          shareBytes[share[i]!]!++;
          // y must be uniform for each x, not only pooled over x (x is public). Dividing by x
          // is a bijection for a fixed x, so y / x must be uniform too; a biased coefficient
          // that pooling hides shows up here.
          scaled[gfDiv(share[i]!, share[32]!)]!++;
        }
      }
      // Interpolating t-1 shares as if they sufficed must not land on the secret either.
      if (few.length >= 2) for (const b of combine(few)) interpolated[b]!++;
      for (const b of secret) secretBytes[b]!++;
    }
    restore();
    restore = undefined;
    return { shareBytes, scaled, interpolated, secretBytes };
  }

  const secretsUnderTest: [string, (i: number) => number][] = [
    ['all zero', () => 0],
    ['all 0xff', () => 0xff],
    ['a counter', (i) => i & 0xff],
    ['pseudo-random', (i) => (i * 2654435761) >>> 24],
  ];

  it.each([2, 3, 5])('t=%i: t-1 shares look uniform whatever the secret', (t) => {
    const histograms = secretsUnderTest.map(([, fn], k) => histogramOfFewShares(fn, t, 1000 + k));
    for (const { shareBytes, scaled, interpolated } of histograms) {
      expect(chiSquare(shareBytes)).toBeLessThan(CHI_SQUARE_BOUND);
      expect(chiSquare(scaled)).toBeLessThan(CHI_SQUARE_BOUND);
      if (t > 2) expect(chiSquare(interpolated)).toBeLessThan(CHI_SQUARE_BOUND);
    }
    // The same statistic on a constant secret's own bytes, i.e. what a share that leaked its
    // secret byte would show, is far outside the bound: the check above can fail.
    expect(chiSquare(histograms[0]!.secretBytes)).toBeGreaterThan(100 * CHI_SQUARE_BOUND);
  });

  it('fails the uniformity check for a share that leaks a single bit of the secret', () => {
    // A control for the statistic itself: y = random byte with its low bit replaced by the
    // secret's (all-zero) low bit, half the alphabet never appears.
    const source = seededSource(99);
    const counts = new Array<number>(256).fill(0);
    for (const b of source.bytes(6400)) counts[b & 0xfe]!++;
    expect(chiSquare(counts)).toBeGreaterThan(CHI_SQUARE_BOUND);
  });
});
