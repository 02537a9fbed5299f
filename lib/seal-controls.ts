import type { Core } from './core/core.js';
import type { SealStatus } from './core/services.js';

/**
 * Initialising, unsealing and sealing a server from the program that runs it (embedding),
 * without going through its HTTP API: the same core calls `sys/init`, `sys/unseal` and
 * `sys/seal` make, with the same errors (an ApiError with a stable code).
 */

export type { SealStatus };

export interface InitializeOptions {
  /** Key shares to split the root key into (default 1). */
  secretShares?: number;
  /** Shares needed to unseal (default 1; at most `secretShares`). */
  secretThreshold?: number;
  /** Use this value as the root token instead of a random one. */
  rootTokenId?: string;
}

export interface InitializeResult {
  /** The unseal key shares, hex, as `sys/init` answers `keys`. Keep them: nothing else can unseal. */
  keys: string[];
  /** The same shares in base64 (`keys_base64`). */
  keysBase64: string[];
  rootToken: string;
}

export interface SealControls {
  /** Initialises an uninitialised server: it is unsealed afterwards only once given the keys (`unseal`). */
  initialize(options?: InitializeOptions): Promise<InitializeResult>;
  /** Gives one key share (hex or base64); the status says whether the server is unsealed yet (`sealed`, `progress`). */
  unseal(key: string): Promise<SealStatus>;
  /** The seal state as `sys/seal-status` answers it. */
  sealStatus(): SealStatus;
  /** Seals: every request but the seal-status ones answers 503 until unsealed again. */
  seal(): Promise<void>;
}

export function sealControls(core: Core): SealControls {
  return {
    async initialize({ secretShares = 1, secretThreshold = 1, rootTokenId } = {}) {
      const { keys, rootToken } = await core.initialize(secretShares, secretThreshold, { rootTokenId });
      const result = { keys: keys.map((k) => k.toString('hex')), keysBase64: keys.map((k) => k.toString('base64')), rootToken };
      // The shares now live only in the strings handed back.
      for (const key of keys) key.fill(0);
      return result;
    },
    unseal: (key) => core.unseal(key),
    sealStatus: () => core.sealStatus(),
    seal: () => core.seal(),
  };
}
