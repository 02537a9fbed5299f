import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors.js';
import { combine } from '../crypto/shamir.js';
import type { Storage } from '../storage/storage.js';

/**
 * Seal configuration and the collection of unseal key shares (api.md §6). The seal
 * configuration is the one entry stored in plaintext: it must be readable while sealed.
 */

export const SEAL_CONFIG_KEY = 'core/seal-config';
export const MASTER_KEY_BYTES = 32;

export interface SealConfig {
  secretShares: number;
  secretThreshold: number;
}

export function validateSealConfig(shares: unknown, threshold: unknown): SealConfig {
  const fail = (why: string): never => {
    throw new ApiError('ERR_INVALID_SEAL_CONFIG', `invalid seal configuration: ${why}`);
  };
  if (!Number.isInteger(shares)) fail('secret_shares must be an integer');
  if (!Number.isInteger(threshold)) fail('secret_threshold must be an integer');
  const n = shares as number;
  const t = threshold as number;
  if (n < 1) fail('secret shares must be at least one');
  if (n > 255) fail('secret shares must be less than 256');
  if (t < 1) fail('secret threshold must be at least one');
  if (t > n) fail('secret threshold cannot be larger than secret shares');
  // With one share the key is the master key itself; with several, a threshold of one
  // would make every share a full copy of the master key.
  if (n > 1 && t === 1) fail('secret threshold must be greater than one for multiple shares');
  return { secretShares: n, secretThreshold: t };
}

export async function readSealConfig(physical: Storage): Promise<SealConfig | null> {
  const raw = await physical.get(SEAL_CONFIG_KEY);
  if (raw === null) return null;
  const parsed = JSON.parse(Buffer.from(raw).toString('utf8')) as { secret_shares: number; secret_threshold: number };
  return validateSealConfig(parsed.secret_shares, parsed.secret_threshold);
}

export async function writeSealConfig(physical: Storage, config: SealConfig): Promise<void> {
  const body = { secret_shares: config.secretShares, secret_threshold: config.secretThreshold };
  await physical.put(SEAL_CONFIG_KEY, Buffer.from(JSON.stringify(body)));
}

/** Decodes a key share sent as hex or base64; a share is 33 bytes, a lone master key 32. */
export function decodeKeyShare(key: unknown, config: SealConfig): Buffer {
  if (typeof key !== 'string' || key === '') {
    throw new ApiError('ERR_MISSING_FIELD', "'key' must be specified in the request body as a hex or base64 string");
  }
  const expected = config.secretShares === 1 ? MASTER_KEY_BYTES : MASTER_KEY_BYTES + 1;
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]+$/.test(key) && key.length === expected * 2) bytes = Buffer.from(key, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(key)) {
    const decoded = Buffer.from(key, 'base64');
    if (decoded.length === expected) bytes = decoded;
  }
  if (!bytes) throw new ApiError('ERR_INVALID_KEY', `'key' must be a ${expected}-byte key in hex or base64`);
  return bytes;
}

/** Shares given so far in one unseal (or rekey) round. */
export interface ShareCollector {
  readonly progress: number;
  /** Adds a share; a share already given this round is ignored. Returns the master key once `threshold` shares are in. */
  add(share: Buffer, config: SealConfig): Buffer | null;
  reset(): void;
}

export function createShareCollector(): ShareCollector {
  let shares: Buffer[] = [];
  const reset = (): void => {
    for (const share of shares) share.fill(0);
    shares = [];
  };
  return {
    get progress() {
      return shares.length;
    },
    add(share, config) {
      if (shares.some((s) => s.length === share.length && timingSafeEqual(s, share))) return null;
      shares.push(share);
      if (shares.length < config.secretThreshold) return null;
      try {
        return config.secretShares === 1 ? Buffer.from(shares[0]!) : combine(shares);
      } catch (err) {
        throw new ApiError('ERR_INVALID_KEY', 'unseal failed, invalid key', { cause: err });
      } finally {
        // Progress goes back to zero whether or not the combination works.
        reset();
      }
    },
    reset,
  };
}
