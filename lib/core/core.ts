import { ApiError } from '../errors.js';
import { createBarrier, type Barrier } from '../crypto/barrier.js';
import { randomBytes } from '../crypto/random.js';
import { split } from '../crypto/shamir.js';
import type { ServerConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/storage.js';
import { createView } from '../storage/view.js';
import { VERSION } from '../version.js';
import { resolveBackend } from '../backends/registry.js';
import { createSysBackend } from '../backends/sys/index.js';
import { createTokenBackend } from '../auth/token.js';
import type { Backend } from '../framework/backend.js';
import { createMountTable, type MountEntry, type MountTable } from './mounts.js';
import { createTokenStore, type TokenStore } from './tokens.js';
import { authenticate, authorize } from './access.js';
import { finishResponse } from './responses.js';
import {
  MASTER_KEY_BYTES,
  createShareCollector,
  decodeKeyShare,
  readSealConfig,
  validateSealConfig,
  writeSealConfig,
  type SealConfig,
} from './seal.js';
import type { BackendRequest, Request, Response } from './request.js';

/**
 * The core: the seal state machine and the one request pipeline every route goes through.
 * The seal gate lives here and only here (api.md §2 order: sealed → token → ACL → route).
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
  handleRequest(req: Request): Promise<Response | null>;
}

/** Routes that answer in every state; everything else is 503 unless unsealed. */
const ALWAYS_AVAILABLE = new Set(['sys/init', 'sys/seal-status', 'sys/unseal', 'sys/health', 'sys/leader']);

const BUILTIN_MOUNTS: Array<Omit<MountEntry, 'uuid' | 'accessor'>> = [
  { kind: 'secret', path: 'sys/', type: 'system', description: 'system endpoints used for control, policy and debugging', config: { defaultLeaseTtl: 0, maxLeaseTtl: 0 }, options: {}, local: false, sealWrap: false },
  { kind: 'auth', path: 'auth/token/', type: 'token', description: 'token based credentials', config: { defaultLeaseTtl: 0, maxLeaseTtl: 0 }, options: {}, local: false, sealWrap: false },
];
const INITIAL_MOUNTS: Array<Omit<MountEntry, 'uuid' | 'accessor'>> = [
  { kind: 'secret', path: 'secret/', type: 'kv', description: 'key/value secret storage', config: { defaultLeaseTtl: 0, maxLeaseTtl: 0 }, options: { version: '1' }, local: false, sealWrap: false },
];

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
  const shares = createShareCollector();
  const exclusive = createMutex();
  let sealConfig: SealConfig | null = null;
  let unsealed = false;

  // The sys and token backends need the core itself; every other type comes from the registry.
  let sysBackend: Backend;
  let tokenBackend: Backend;
  const mounts = createMountTable(
    barrier,
    (kind, type) => {
      if (kind === 'secret' && type === 'system') return () => sysBackend;
      if (kind === 'auth' && type === 'token') return () => tokenBackend;
      return resolveBackend(kind, type);
    },
    BUILTIN_MOUNTS,
    INITIAL_MOUNTS,
  );
  const sysView = createView(barrier, 'sys/');

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
    await mounts.load();
  };

  const preSeal = (): void => {
    mounts.unload();
    tokens.teardown();
    barrier.seal();
    unsealed = false;
  };

  const core: Core = {
    config,
    logger,
    barrier,
    tokens,
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
        // A keyring without a seal configuration is a torn earlier init: nobody can unseal it.
        await physical.delete('core/keyring');
        const master = randomBytes(MASTER_KEY_BYTES);
        try {
          await barrier.initialize(master);
          await barrier.unseal(master);
          await postUnseal();
          const { token } = await tokens.create(
            { parent: '', policies: ['root'], meta: {}, displayName: 'root', numUses: 0, ttl: 0, explicitMaxTtl: 0, period: 0, renewable: false, path: 'auth/token/root', expireTime: 0 },
            initOptions.rootTokenId,
          );
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

    async handleRequest(req) {
      if (ALWAYS_AVAILABLE.has(req.path)) return dispatch(sysBackend, 'sys/', req, req.path.slice(4), null);
      if (!unsealed) {
        // Sealing a sealed server is a no-op that needs no token.
        if (req.path === 'sys/seal' && (req.operation === 'update' || req.operation === 'create')) return null;
        throw new ApiError('ERR_SEALED', 'nomad is sealed');
      }
      const route = mounts.route(req.path);
      const backend = route?.mount.backend;
      const open = backend !== undefined && backend.isUnauthenticated(route!.path);
      const caller = open ? null : await authenticate(tokens, req.clientToken);
      // Token and ACL before routing: a caller without access learns nothing about what exists.
      if (caller) await authorize(core, caller, req, route);
      if (!route || !backend) throw new ApiError('ERR_NOT_FOUND', 'no handler for this path');
      return dispatch(backend, route.mount.entry.path, req, route.path, caller);
    },
  };

  async function dispatch(
    backend: Backend,
    mountPoint: string,
    req: Request,
    path: string,
    caller: BackendRequest['caller'],
  ): Promise<Response | null> {
    if (req.operation === 'help') return { data: { help: backend.help(path), see_also: null }, raw: true };
    if (req.unsupportedMethod) {
      const allow = backend.allowedMethods(path);
      if (allow.length === 0) throw new ApiError('ERR_NOT_FOUND', 'unsupported path');
      throw new ApiError('ERR_UNSUPPORTED_OPERATION', `unsupported method ${req.unsupportedMethod}`, { headers: { Allow: allow.join(', ') } });
    }
    const mount = mounts.get(mountPoint);
    const backendRequest: BackendRequest = {
      id: req.id,
      operation: req.operation,
      path,
      data: req.data,
      query: req.query,
      mountPoint,
      storage: mount?.storage ?? sysView,
      caller,
      remoteAddress: req.remoteAddress,
      tls: req.tls,
      // Vault's rule: only the token store ever sees the raw client token.
      clientToken: mountPoint === 'auth/token/' ? req.clientToken : '',
    };
    const response = await backend.handle(backendRequest);
    return finishResponse(core, mount?.entry, response);
  }

  sysBackend = createSysBackend(core);
  tokenBackend = createTokenBackend(core);
  return core;
}
