import { ApiError } from '../errors.js';
import { randomBytes } from './random.js';

/**
 * Shamir's secret sharing over GF(2^8) with the AES reduction polynomial x^8+x^4+x^3+x+1
 * (0x11b). Each secret byte gets its own random polynomial of degree threshold-1 whose constant
 * term is that byte; a share is the polynomial values at one x, laid out `[y_1 … y_len, x]`.
 */

// 0x03 generates the multiplicative group of GF(2^8) under 0x11b, so its powers enumerate all
// 255 non-zero elements. EXP is doubled so `EXP[LOG[a] + LOG[b]]` needs no `% 255`.
const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let v = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = v;
    EXP[i + 255] = v;
    LOG[v] = i;
    // v * 3 = v * 2 ^ v, where v * 2 is a shift reduced by 0x11b when the top bit falls off.
    v ^= (v << 1) ^ ((v >> 7) * 0x11b);
  }
  // LOG[0] stays 0: it is meaningless and every use of it is masked out below.
}

/** 0xff when `a` (a byte) is non-zero, 0 when it is zero, computed without a branch. */
function nonZeroMask(a: number): number {
  // For a in 1..255, a-1 is non-negative and the sign bit is 0; only a = 0 yields -1.
  return (((a - 1) >>> 31) - 1) & 0xff;
}

/**
 * Product in GF(2^8). Operands may be secret (share y values, polynomial coefficients), so the
 * zero case is handled with a mask instead of `if (a === 0)`: the same instructions run for every
 * input, and only the (cache-resident, 766-byte) table index depends on the data.
 */
export function gfMul(a: number, b: number): number {
  return EXP[LOG[a]! + LOG[b]!]! & nonZeroMask(a) & nonZeroMask(b);
}

/**
 * Quotient a / b in GF(2^8). `b` is always built from x coordinates, which are public, so
 * rejecting b = 0 by a branch leaks nothing; `a` may be secret and is masked as in gfMul.
 */
export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero in GF(2^8)');
  return EXP[LOG[a]! + 255 - LOG[b]!]! & nonZeroMask(a);
}

function invalidConfig(message: string): ApiError {
  return new ApiError('ERR_INVALID_SEAL_CONFIG', `invalid seal configuration: ${message}`);
}

/**
 * `count` distinct x coordinates drawn from 1..255 by a partial Fisher–Yates shuffle.
 * Shuffled rather than 1..n so a share's x reveals nothing about how many shares exist.
 * x values are public, so the negligible modulo bias of a 32-bit draw is harmless, and unlike
 * rejection sampling it cannot loop forever under a fixed test random source.
 */
function distinctXs(count: number): Uint8Array {
  const pool = new Uint8Array(255);
  for (let i = 0; i < 255; i++) pool[i] = i + 1;
  const rand = randomBytes(4 * count);
  for (let i = 0; i < count; i++) {
    const j = i + (rand.readUInt32BE(4 * i) % (255 - i));
    const tmp = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = tmp;
  }
  return pool.subarray(0, count);
}

/** Splits `secret` into `parts` shares, any `threshold` of which recover it. */
export function split(secret: Uint8Array, parts: number, threshold: number): Buffer[] {
  if (!Number.isInteger(parts) || !Number.isInteger(threshold)) {
    throw invalidConfig('shares and threshold must be integers');
  }
  if (threshold < 2) throw invalidConfig('threshold must be at least 2');
  if (parts > 255) throw invalidConfig('shares must be at most 255');
  if (threshold > parts) throw invalidConfig('threshold cannot exceed shares');
  if (secret.length === 0) throw invalidConfig('secret must not be empty');

  const len = secret.length;
  const degree = threshold - 1;
  const xs = distinctXs(parts);
  // coeffs[b * degree + k] is the x^(k+1) coefficient of byte b's polynomial. Uniformly random
  // coefficients (zero allowed) are what makes any threshold-1 shares independent of the secret.
  const coeffs = randomBytes(len * degree);
  const shares: Buffer[] = [];
  for (let s = 0; s < parts; s++) {
    const x = xs[s]!;
    const share = Buffer.alloc(len + 1);
    for (let b = 0; b < len; b++) {
      // Horner's rule from the highest coefficient down to the constant term (the secret byte).
      const base = b * degree;
      let y = coeffs[base + degree - 1]!;
      for (let k = degree - 2; k >= 0; k--) y = gfMul(y, x) ^ coeffs[base + k]!;
      share[b] = gfMul(y, x) ^ secret[b]!;
    }
    share[len] = x;
    shares.push(share);
  }
  // The coefficients determine the secret together with any one share: do not leave them in
  // memory for a heap dump or a reused allocation to expose.
  coeffs.fill(0);
  return shares;
}

function invalidShares(message: string): ApiError {
  return new ApiError('ERR_INVALID_KEY', message);
}

/** Recovers the secret from at least `threshold` shares of one split (Lagrange at x = 0). */
export function combine(shares: Uint8Array[]): Buffer {
  if (shares.length < 2) throw invalidShares('at least two shares are required');
  const shareLen = shares[0]!.length;
  if (shareLen < 2) throw invalidShares('shares must be at least two bytes long');
  const xs = new Uint8Array(shares.length);
  const seen = new Uint8Array(256);
  for (let i = 0; i < shares.length; i++) {
    const share = shares[i]!;
    if (share.length !== shareLen) throw invalidShares('all shares must have the same length');
    // x coordinates are public (they are stored in the clear), so branching on them is fine.
    const x = share[shareLen - 1]!;
    if (x === 0) throw invalidShares('share has an invalid x coordinate');
    if (seen[x] === 1) throw invalidShares('duplicate share detected');
    seen[x] = 1;
    xs[i] = x;
  }

  // Lagrange basis at 0: l_i = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR in GF(2^8).
  // It depends only on the public x values, so it is computed once for all secret bytes.
  const basis = new Uint8Array(shares.length);
  for (let i = 0; i < xs.length; i++) {
    let l = 1;
    for (let j = 0; j < xs.length; j++) {
      if (j !== i) l = gfMul(l, gfDiv(xs[j]!, xs[j]! ^ xs[i]!));
    }
    basis[i] = l;
  }

  const len = shareLen - 1;
  const secret = Buffer.alloc(len);
  for (let b = 0; b < len; b++) {
    let acc = 0;
    for (let i = 0; i < shares.length; i++) acc ^= gfMul(shares[i]![b]!, basis[i]!);
    secret[b] = acc;
  }
  return secret;
}
