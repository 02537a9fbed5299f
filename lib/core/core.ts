import { ApiError } from '../errors.js';
import { createBarrier, type Barrier } from '../crypto/barrier.js';
import { randomBytes } from '../crypto/random.js';
import { split } from '../crypto/shamir.js';
import type { ServerConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { CacheSize, Storage } from '../storage/storage.js';
import { clearPrefix, createView } from '../storage/view.js';
import { VERSION } from '../version.js';
import { resolveBackend } from '../backends/registry.js';
import { createSysBackend } from '../backends/sys/index.js';
import { createTokenBackend } from '../auth/token.js';
import type { Backend } from '../framework/backend.js';
import { createExpiration, type Expiration, type LeaseEntry } from './expiration.js';
import { createMountTable, type MountEntry, type MountTable } from './mounts.js';
import { createPipeline } from './pipeline.js';
import { createPolicyStore, type PolicyStore } from './policies.js';
import { createRekeyer, type Rekeyer } from './rekey.js';
import { createTokenManager, type TokenManager } from './token-manager.js';
import { createTokenStore, type TokenStore } from './tokens.js';
import {
  MASTER_KEY_BYTES,
  createShareCollector,
  decodeKeyShare,
  readSealConfig,
  validateSealConfig,
  writeSealConfig,
  type SealConfig,
} from './seal.js';
import type { Answer, Request, Response } from './request.js';

/**
 * The core: the seal state machine, and the components that live while unsealed (mount
 * table, token store, policies, leases). Requests go through `pipeline.ts`, the one place
 * with the seal gate.
 */

export type SealState = 'uninitialized' | 'sealed' | 'unsealed';

export interface SealStatus {
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  initialized: boolean;
  version: string;
  storage_type: string;
  ha_enabled: boolean;
}

export interface InitResult {
  keys: Buffer[];
  rootToken: string;
}

/** What the core holds in memory, sizes only (README, "Memory bounds"). */
export interface CoreMemory {
  /** Every cache and memo that grows with traffic, by name, with its bound. */
  caches: Record<string, CacheSize>;
  /** Tables sized by what is stored (leases, policies, mounts), not capped: counts only. */
  data: Record<string, number>;
}

export interface CoreOptions {
  physical: Storage;
  storageType: string;
  config: ServerConfig;
  logger: Logger;
}

export interface Core {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly barrier: Barrier;
  readonly tokens: TokenStore;
  readonly tokenManager: TokenManager;
  readonly policies: PolicyStore;
  readonly expiration: Expiration;
  readonly rekey: Rekeyer;
  readonly mounts: MountTable;
  readonly storageType: string;
  /** Reads the seal configuration; call once before serving. */
  start(): Promise<void>;
  state(): SealState;
  sealStatus(): SealStatus;
  initialize(shares: unknown, threshold: unknown, options?: { rootTokenId?: string }): Promise<InitResult>;
  unseal(key: unknown): Promise<SealStatus>;
  resetUnseal(): SealStatus;
  seal(): Promise<void>;
  /** Runs a request through the pipeline; errors come as rejections. */
  handleRequest(req: Request): Promise<Response | null>;
  /**
   * The same, answering at once when nothing has to wait (the HTTP edge's fast path); errors
   * found before any wait are thrown, later ones come as rejections.
   */
  handleRequestNow(req: Request): Answer;
  /** Cheap to call: every reading is a counter the cache keeps as it goes. */
  memory(): CoreMemory;
}

const NO_TTL = { defaultLeaseTtl: 0, maxLeaseTtl: 0 };
const mount = (kind: MountEntry['kind'], path: string, type: string, description: string, options: Record<string, string> = {}): Omit<MountEntry, 'uuid' | 'accessor'> => ({
  kind, path, type, description, config: NO_TTL, options, local: false, sealWrap: false,
});
/** Always mounted; they can be neither moved nor removed. */
const BUILTIN_MOUNTS = [
  mount('secret', 'sys/', 'system', 'system endpoints used for control, policy and debugging'),
  mount('secret', 'cubbyhole/', 'cubbyhole', 'per-token private secret storage'),
  mount('auth', 'auth/token/', 'token', 'token based credentials'),
];
/** Mounted once, at initialisation. */
const INITIAL_MOUNTS = [mount('secret', 'secret/', 'kv', 'key/value secret storage', { version: '1' })];

/** Serializes state transitions (init, unseal, seal) so they never interleave. */
function createMutex(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}

export function createCore(options: CoreOptions): Core {
  const { physical, config, logger } = options;
  const barrier = createBarrier(physical);
  const tokens = createTokenStore(barrier);
  const policies = createPolicyStore(barrier);
  const shares = createShareCollector();
  const exclusive = createMutex();
  let sealConfig: SealConfig | null = null;
  let unsealed = false;

  // The sys and token backends drive the core itself; every other type comes from the registry.
  let sysBackend: Backend;
  let tokenBackend: Backend;
  const mounts: MountTable = createMountTable(
    barrier,
    (kind, type) => {
      if (kind === 'secret' && type === 'system') return () => sysBackend;
      if (kind === 'auth' && type === 'token') return () => tokenBackend;
      return resolveBackend(kind, type);
    },
    BUILTIN_MOUNTS,
    INITIAL_MOUNTS,
  );

  const revokeSecret = async (lease: LeaseEntry): Promise<void> => {
    const owner = mounts.get(lease.mountPoint);
    // An unmounted backend took its secrets with it: nothing is left to revoke.
    if (owner?.backend.revokeLease) await owner.backend.revokeLease(lease.data ?? {}, owner.storage);
  };
  let tokenManager: TokenManager;
  const expiration = createExpiration(barrier, logger, {
    revoke: (lease) => (lease.kind === 'token' ? tokenManager.revokeTree(lease.tokenHash) : revokeSecret(lease)),
  });
  tokenManager = createTokenManager({
    tokens,
    expiration,
    config,
    destroyCubbyhole: async (hash) => {
      const cubbyhole = mounts.get('cubbyhole/');
      if (cubbyhole) await clearPrefix(cubbyhole.storage, `${hash}/`);
    },
  });

  const rekey = createRekeyer(physical, barrier, (next) => {
    sealConfig = next;
  });

  const sealStatus = (): SealStatus => ({
    sealed: !unsealed,
    t: sealConfig?.secretThreshold ?? 0,
    n: sealConfig?.secretShares ?? 0,
    progress: shares.progress,
    initialized: sealConfig !== null,
    version: VERSION,
    storage_type: options.storageType,
    ha_enabled: false,
  });

  /** Everything that must be in memory before requests are served. */
  const postUnseal = async (): Promise<void> => {
    await tokens.setup();
    await policies.setup();
    await mounts.load();
    await expiration.restore();
  };

  const preSeal = (): void => {
    rekey.cancel();
    expiration.stop();
    mounts.unload();
    policies.teardown();
    tokens.teardown();
    barrier.seal();
    unsealed = false;
  };

  const core: Core = {
    config,
    logger,
    barrier,
    tokens,
    tokenManager,
    policies,
    expiration,
    rekey,
    mounts,
    storageType: options.storageType,

    async start() {
      sealConfig = await readSealConfig(physical);
    },

    state() {
      if (sealConfig === null) return 'uninitialized';
      return unsealed ? 'unsealed' : 'sealed';
    },

    sealStatus,

    initialize(shareCount, threshold, initOptions = {}) {
      return exclusive(async () => {
        const wanted = validateSealConfig(shareCount, threshold);
        if (sealConfig !== null || (await readSealConfig(physical)) !== null) {
          throw new ApiError('ERR_ALREADY_INITIALIZED', 'nomad is already initialized');
        }
        // Keys are handed out only after the seal configuration is written, so anything stored
        // without one is left by an init that never finished: nobody holds a key to it.
        for (const prefix of ['core/', 'sys/', 'logical/', 'auth/']) await clearPrefix(physical, prefix);
        const master = randomBytes(MASTER_KEY_BYTES);
        try {
          await barrier.initialize(master);
          await barrier.unseal(master);
          await postUnseal();
          const { token } = await tokenManager.create(null, { policies: ['root'], path: 'auth/token/root', id: initOptions.rootTokenId, displayName: 'root' }, true);
          // Written last: the server counts as initialized only once everything above exists.
          await writeSealConfig(physical, wanted);
          sealConfig = wanted;
          const keys = wanted.secretShares === 1 ? [Buffer.from(master)] : split(master, wanted.secretShares, wanted.secretThreshold);
          logger.info('initialized', { shares: wanted.secretShares, threshold: wanted.secretThreshold });
          return { keys, rootToken: token };
        } finally {
          preSeal();
          master.fill(0);
        }
      });
    },

    unseal(key) {
      return exclusive(async () => {
        if (sealConfig === null) throw new ApiError('ERR_NOT_INITIALIZED', 'nomad is not initialized');
        if (unsealed) return sealStatus();
        const share = decodeKeyShare(key, sealConfig);
        const master = shares.add(share, sealConfig);
        if (master === null) return sealStatus();
        try {
          await barrier.unseal(master);
        } finally {
          master.fill(0);
        }
        try {
          await postUnseal();
        } catch (err) {
          preSeal();
          throw err;
        }
        unsealed = true;
        logger.info('unsealed');
        return sealStatus();
      });
    },

    resetUnseal() {
      if (unsealed) throw new ApiError('ERR_INVALID_REQUEST', 'nomad is already unsealed');
      shares.reset();
      return sealStatus();
    },

    seal() {
      return exclusive(async () => {
        if (!unsealed) return;
        preSeal();
        logger.info('sealed');
      });
    },

    handleRequest: (req) => {
      try {
        const answer = pipeline(req);
        return answer instanceof Promise ? answer : Promise.resolve(answer);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    handleRequestNow: (req) => pipeline(req),

    memory() {
      const table = mounts.memory();
      const policySizes = policies.memory();
      return {
        caches: {
          'route memo': table.routes,
          'token cache': tokens.cacheSize(),
          'acl memo': policySizes.aclMemos,
          'compiled acls': policySizes.acls,
          'unknown policy names': policySizes.unknown,
          'view keys': table.views,
          'plaintext cache': barrier.cacheSize(),
        },
        data: { 'lease timers': expiration.armed(), policies: policySizes.parsed, mounts: table.mounts },
      };
    },
  };

  sysBackend = createSysBackend(core);
  tokenBackend = createTokenBackend(core);
  const pipeline = createPipeline(core, {
    sysBackend,
    sysStorage: createView(barrier, 'sys/'),
    isUnsealed: () => unsealed,
  });
  return core;
}
