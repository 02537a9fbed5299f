import { ApiError } from '../errors.js';
import type { Barrier } from '../crypto/barrier.js';
import { randomBytes, randomUUID } from '../crypto/random.js';
import { split } from '../crypto/shamir.js';
import type { Storage } from '../storage/storage.js';
import {
  MASTER_KEY_BYTES,
  createShareCollector,
  decodeKeyShare,
  readSealConfig,
  validateSealConfig,
  writeSealConfig,
  type SealConfig,
} from './seal.js';

/**
 * Rekeying (api.md §6): holders of the current unseal keys replace the master key and its
 * shares. A nonce ties every update to the attempt it belongs to, so nobody can cancel
 * and restart an attempt under the key holders' feet unnoticed.
 *
 * The new keys exist only in the answer to the last update: if that answer is lost, so
 * is the data. Operators should rekey with care, as with Vault.
 */

export interface RekeyStatus {
  started: boolean;
  nonce: string;
  t: number;
  n: number;
  progress: number;
  required: number;
}

export interface RekeyResult {
  complete: boolean;
  nonce: string;
  progress: number;
  required: number;
  keys?: Buffer[];
}

export interface Rekeyer {
  status(): Promise<RekeyStatus>;
  start(shares: unknown, threshold: unknown): Promise<RekeyStatus>;
  cancel(): void;
  update(key: unknown, nonce: unknown): Promise<RekeyResult>;
}

export function createRekeyer(physical: Storage, barrier: Barrier, onRekeyed: (config: SealConfig) => void): Rekeyer {
  let attempt: { nonce: string; wanted: SealConfig } | null = null;
  const shares = createShareCollector();

  const current = async (): Promise<SealConfig> => {
    const config = await readSealConfig(physical);
    if (!config) throw new ApiError('ERR_NOT_INITIALIZED', 'nomad is not initialized');
    return config;
  };

  const status = async (): Promise<RekeyStatus> => ({
    started: attempt !== null,
    nonce: attempt?.nonce ?? '',
    t: attempt?.wanted.secretThreshold ?? 0,
    n: attempt?.wanted.secretShares ?? 0,
    progress: shares.progress,
    required: (await current()).secretThreshold,
  });

  return {
    status,
    async start(shareCount, threshold) {
      if (attempt) throw new ApiError('ERR_REKEY', 'a rekey is already in progress: cancel it first');
      const wanted = validateSealConfig(shareCount, threshold);
      attempt = { nonce: randomUUID(), wanted };
      shares.reset();
      return status();
    },
    cancel() {
      attempt = null;
      shares.reset();
    },
    async update(key, nonce) {
      if (!attempt) throw new ApiError('ERR_REKEY', 'no rekey is in progress');
      if (nonce !== attempt.nonce) throw new ApiError('ERR_REKEY', 'the nonce does not match the rekey in progress');
      const config = await current();
      const share = decodeKeyShare(key, config);
      const master = shares.add(share, config);
      const { nonce: currentNonce, wanted } = attempt;
      if (master === null) return { complete: false, nonce: currentNonce, progress: shares.progress, required: config.secretThreshold };
      let next: Buffer | undefined;
      try {
        if (!(await barrier.verifyMaster(master))) throw new ApiError('ERR_INVALID_KEY', 'rekey failed, invalid key');
        next = randomBytes(MASTER_KEY_BYTES);
        await barrier.rekey(next);
        await writeSealConfig(physical, wanted);
        onRekeyed(wanted);
        attempt = null;
        const keys = wanted.secretShares === 1 ? [Buffer.from(next)] : split(next, wanted.secretShares, wanted.secretThreshold);
        return { complete: true, nonce: currentNonce, progress: 0, required: wanted.secretThreshold, keys };
      } finally {
        master.fill(0);
        next?.fill(0);
      }
    },
  };
}
