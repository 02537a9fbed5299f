import { createAuditTable } from '../audit/table.js';
import { ApiError } from '../errors.js';
import { createBarrier } from '../crypto/barrier.js';
import { randomBytes } from '../crypto/random.js';
import { split } from '../crypto/shamir.js';
import type { Backend, BackendFactory } from '../framework/backend.js';
import { createServerMetrics } from '../metrics/server-metrics.js';
import { timedStorage } from '../metrics/storage.js';
import { createSerialQueue } from '../serial.js';
import { clearPrefix, createView } from '../storage/view.js';
import { createWriteGate } from '../storage/write-gate.js';
import { VERSION } from '../version.js';
import { loadClusterInfo, readClusterInfo, type ClusterInfo } from './cluster.js';
import { createExpiration, type LeaseEntry } from './expiration.js';
import { createFastPath } from './fast-path.js';
import { startHaRunner, type HaRunner } from './ha.js';
import { standbyAnswer } from './standby.js';
import { createMountTable, type MountEntry, type MountKind } from './mounts.js';
import { createLoggedAnswer } from './audit-trail.js';
import { createPipeline } from './pipeline.js';
import { createPolicyStore } from './policies.js';
import { createRekeyer } from './rekey.js';
import { createRateLimiter } from './quotas/rate-limit.js';
import {
  MASTER_KEY_BYTES,
  createShareCollector,
  decodeKeyShare,
  readSealConfig,
  validateSealConfig,
  writeSealConfig,
  type SealConfig,
} from './seal.js';
import type { Core, CoreOptions, CoreServices, SealStatus } from './services.js';
import { createSysBackend } from './sys/index.js';
import { createTokenBackend } from './token-backend.js';
import { createTokenManager } from './token-manager.js';
import { createTokenStore } from './tokens.js';

export type { BackendRegistries, Core, CoreHaOptions, CoreMemory, CoreOptions, CoreServices, HaStatus, InitResult, RateLimitVerdict, SealState, SealStatus } from './services.js';

/**
 * The core: the seal state machine, and the components that live while unsealed (mount
 * table, token store, policies, leases), built in dependency order. It owns the two
 * backends that drive it (`sys/` and the token store, as Vault's core does); every other
 * backend type comes from the registries server.ts injects. Requests go through
 * pipeline.ts, or fast-path.ts for the hot cached read.
 */

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

export function createCore(options: CoreOptions): Core {
  const { config, logger } = options;
  const metrics = options.metrics ?? createServerMetrics();
  // Timed once, here: every storage operation below the barrier lands in a histogram.
  // Writes pass a gate that snapshots close (storage/write-gate.ts), below the timing.
  const gate = createWriteGate(options.physical);
  const physical = timedStorage(gate.storage, metrics.storage);
  const barrier = createBarrier(physical);
  const tokens = createTokenStore(barrier);
  const policies = createPolicyStore(barrier);
  const shares = createShareCollector();
  // Init, unseal and seal never interleave.
  const exclusive = createSerialQueue();
  let sealConfig: SealConfig | null = null;
  let unsealed = false;
  let cluster: ClusterInfo | undefined;
  // On an HA storage, while unsealed: the active/standby loop (ha.ts).
  let ha: HaRunner | undefined;
  /** Unsealed and, on an HA storage, active: what requests need to be served here. */
  const serving = (): boolean => unsealed && (options.ha === undefined || ha?.isActive() === true);

  // The core's own backends, built below once the services they drive exist. The table only
  // instantiates backends when it loads, at unseal, which is after createCore has returned.
  const own = new Map<string, Backend>();
  const resolve = (kind: MountKind, type: string): BackendFactory | undefined => {
    const backend = own.get(`${kind}:${type}`);
    if (backend) return () => backend;
    const table = options.backends[kind];
    return Object.hasOwn(table, type) ? table[type] : undefined;
  };
  const mounts = createMountTable({
    barrier,
    resolve,
    builtins: BUILTIN_MOUNTS,
    initial: INITIAL_MOUNTS,
    serverTtls: { defaultLeaseTtl: config.defaultLeaseTtl, maxLeaseTtl: config.maxLeaseTtl },
    logger,
    knownTypes: (kind) => Object.keys(options.backends[kind]),
  });
  const expiration = createExpiration(barrier, logger);
  const tokenManager = createTokenManager({
    tokens,
    expiration,
    config,
    destroyCubbyhole: async (hash) => {
      const cubbyhole = mounts.get('cubbyhole/');
      if (cubbyhole) await clearPrefix(cubbyhole.storage, `${hash}/`);
    },
    // A login token renews only while the auth method that issued it agrees (Vault's rule):
    // a deleted user or role, or changed policies, end it at its next renewal.
    checkLoginRenewal: async (entry) => {
      if (!entry.path.startsWith('auth/') || entry.path.startsWith('auth/token/')) return;
      const route = mounts.route(entry.path);
      if (route === undefined || route.mount.entry.kind !== 'auth') throw new ApiError('ERR_NOT_RENEWABLE', 'the auth method that issued this token is no longer enabled');
      await route.mount.backend.renewLogin?.({ path: route.path, metadata: entry.meta, policies: entry.policies }, route.mount.storage);
    },
  });
  expiration.revokeWith('token', (lease) => tokenManager.revokeTree(lease.tokenHash));
  expiration.revokeWith('secret', async (lease: LeaseEntry) => {
    const owner = mounts.get(lease.mountPoint);
    // An unmounted backend took its secrets with it: nothing is left to revoke.
    if (owner?.backend.revokeLease) await owner.backend.revokeLease(lease.data ?? {}, owner.storage);
  });

  const audit = createAuditTable(barrier, logger, () => metrics.auditFailures.inc());
  const rateLimiter = createRateLimiter({ barrier, mounts, isUnsealed: () => serving() });

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
    ha_enabled: options.ha !== undefined,
  });

  /** Everything that must be in memory before requests are served. */
  const postUnseal = async (): Promise<void> => {
    await tokens.setup();
    await policies.setup();
    await mounts.load();
    await expiration.restore();
    await rateLimiter.table.load();
    cluster = await loadClusterInfo(barrier);
    await audit.load();
  };

  /** Everything postUnseal loaded goes; the barrier stays as it is (a standby keeps it unsealed). */
  const teardown = (): void => {
    rekey.cancel();
    audit.unload();
    expiration.stop();
    rateLimiter.table.unload();
    mounts.unload();
    policies.teardown();
    tokens.teardown();
  };

  const preSeal = (): void => {
    teardown();
    barrier.seal();
    unsealed = false;
    cluster = undefined;
  };

  /**
   * An HA server becomes active: another server may have written anything meanwhile, rotated
   * the key or rekeyed, so nothing cached or loaded before is trusted.
   */
  const activate = async (): Promise<void> => {
    options.ha!.purgeCache();
    await barrier.reload();
    sealConfig = (await readSealConfig(physical)) ?? sealConfig;
    await postUnseal();
  };

  const startHa = (haOptions: NonNullable<CoreOptions['ha']>): HaRunner => {
    const apiAddr = haOptions.apiAddr();
    return startHaRunner({ lock: haOptions.lock(apiAddr), apiAddr, logger, activate, deactivate: teardown, stepDownMs: haOptions.stepDownMs });
  };

  const services: CoreServices = {
    config,
    logger,
    barrier,
    tokens,
    tokenManager,
    policies,
    expiration,
    rekey,
    mounts,
    rateLimiter,
    audit,
    storageType: options.storageType,
    metrics,

    state() {
      if (sealConfig === null) return 'uninitialized';
      return unsealed ? 'unsealed' : 'sealed';
    },

    sealStatus,
    haEnabled: options.ha !== undefined,
    ha() {
      const runner = ha;
      if (runner === undefined) return undefined;
      return { active: runner.isActive(), activeSince: runner.activeSince(), leaderAddress: () => runner.leaderAddress(), stepDown: () => runner.stepDown() };
    },
    async refreshSealConfig() {
      if (options.ha === undefined || ha?.isActive() === true) return;
      try {
        sealConfig = (await readSealConfig(physical)) ?? sealConfig;
      } catch (err) {
        // The storage is unreachable: answer with what is known.
        logger.warn('could not re-read the seal configuration', { error: err });
      }
    },
    cluster() {
      return cluster === undefined ? undefined : { name: config.clusterName || cluster.name, id: cluster.id };
    },
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
        if (unsealed) return sealStatus();
        // Another server on the shared storage may have initialized or rekeyed it.
        if (options.ha !== undefined && shares.progress === 0) sealConfig = (await readSealConfig(physical)) ?? sealConfig;
        if (sealConfig === null) throw new ApiError('ERR_NOT_INITIALIZED', 'nomad is not initialized');
        const share = decodeKeyShare(key, sealConfig);
        const master = shares.add(share, sealConfig);
        if (master === null) return sealStatus();
        try {
          await barrier.unseal(master);
        } finally {
          master.fill(0);
        }
        if (options.ha !== undefined) {
          // Standby until the loop holds the lock; it loads the rest when it does.
          unsealed = true;
          // sys/health names the cluster on a standby too; the active server made the identity.
          cluster = await readClusterInfo(barrier).catch(() => undefined);
          ha = startHa(options.ha);
          logger.info('unsealed; standby until this server holds the HA lock');
          return sealStatus();
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
      if (unsealed) throw new ApiError('ERR_ALREADY_UNSEALED', 'nomad is already unsealed');
      shares.reset();
      return sealStatus();
    },

    seal() {
      return exclusive(async () => {
        if (!unsealed) return;
        // While the devices are loaded and the barrier open: the next start links a file rotated
        // meanwhile to where this one ended (a standby has no devices loaded: nothing to save).
        await audit.saveHeads().catch((err: unknown) => logger.error('could not save the audit chain heads', { error: err }));
        const runner = ha;
        ha = undefined;
        // Deactivates and gives the lock back at once, so a standby takes over without waiting out the TTL.
        await runner?.stop();
        preSeal();
        logger.info('sealed');
      });
    },

    holdStorageWrites: (fn) => gate.hold(fn),

    replaceStorage(replace) {
      return exclusive(async () => {
        // On an HA storage the lock stays held until the storage is replaced, so no standby
        // takes over a half-replaced storage; the loop stops after the hold, not in it
        // (stopping waits for the loop, and an activation in progress would write).
        const runner = ha;
        ha = undefined;
        try {
          await gate.hold(
            async (raw) => {
              // Sealed first: nothing is served from, or written to, a half-replaced storage.
              if (unsealed) preSeal();
              shares.reset();
              logger.info('sealed', { reason: 'storage snapshot restore' });
              try {
                await replace(raw);
              } finally {
                // The snapshot's seal configuration, or (a failed restore) whatever is there now.
                sealConfig = await readSealConfig(raw).catch(() => sealConfig);
              }
            },
            { replaces: true },
          );
        } finally {
          await runner?.stop();
        }
      });
    },

  };

  const sysBackend = createSysBackend(services);
  own.set('secret:system', sysBackend);
  own.set('auth:token', createTokenBackend(services));
  const isUnsealed = serving;
  const fastPath = createFastPath({ config, mounts, tokens, policies, isUnsealed, audit: audit.broker });
  const loggedAnswer = createLoggedAnswer(audit.broker, fastPath.answerAudited);
  const pipeline = createPipeline({
    config,
    mounts,
    tokens,
    policies,
    tokenManager,
    expiration,
    sysBackend,
    sysStorage: createView(barrier, 'sys/'),
    isUnsealed,
    audit: audit.broker,
    answerAudited: fastPath.answerAudited,
    standby: options.ha === undefined ? undefined : (req) => (unsealed && ha !== undefined && !ha.isActive() ? standbyAnswer(ha, req) : undefined),
  });

  return {
    ...services,
    async start() {
      sealConfig = await readSealConfig(physical);
    },
    handleRequest: pipeline,
    answerNow: fastPath.answerNow,
    answerLogged: (req) => (audit.broker.enabled ? loggedAnswer(req) : undefined),
    rateLimit: rateLimiter.check,
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
          'rate-limit buckets': rateLimiter.memory(),
        },
        data: { 'lease timers': expiration.armed(), policies: policySizes.parsed, mounts: table.mounts },
      };
    },
  };
}
