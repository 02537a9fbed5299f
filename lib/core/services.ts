import type { AuditTable } from '../audit/table.js';
import type { ServerConfig } from '../config.js';
import type { Barrier } from '../crypto/barrier.js';
import type { BackendFactory } from '../framework/backend.js';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { HaLock } from '../storage/ha.js';
import type { CacheSize, Storage } from '../storage/storage.js';
import type { ClusterInfo } from './cluster.js';
import type { Expiration } from './expiration.js';
import type { MountTable } from './mounts.js';
import type { PolicyStore } from './policies.js';
import type { RateLimiter, RateLimitVerdict } from './quotas/rate-limit.js';
import type { Rekeyer } from './rekey.js';
import type { Request, Response } from './request.js';
import type { TokenManager } from './token-manager.js';
import type { TokenStore } from './tokens.js';

/**
 * The core's shapes, apart from its construction (core.ts): what the system backend and
 * the token store drive (CoreServices), and what the server and the HTTP edge use (Core).
 */

export type { RateLimitVerdict } from './quotas/rate-limit.js';

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

/** A server on an HA storage (api.md §15), while unsealed. */
export interface HaStatus {
  /** Holds the lock and serves; false: a standby that redirects. */
  active: boolean;
  /** When it last became active. */
  activeSince?: Date;
  /** The active server's api_addr; null when none holds the lock. */
  leaderAddress(): Promise<string | null>;
  /** Gives the lock up for another server to take (sys/step-down); resolves once standby. */
  stepDown(): Promise<void>;
}

/** What server.ts gives the core when its storage can elect an active server. */
export interface CoreHaOptions {
  /** A fresh lock for one unseal, carrying this server's api_addr as its value. */
  lock(apiAddr: string): HaLock;
  /** This server's api_addr (config, else its first listener's URL): where standbys send clients. */
  apiAddr(): string;
  /** Empties the storage read cache: another server wrote while this one was standby. */
  purgeCache(): void;
  /** How long a server that stepped down leaves the lock to the others (default 10 s). */
  stepDownMs?: number;
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

/** The mountable backend types by name, one table per kind; server.ts injects them. */
export interface BackendRegistries {
  secret: Readonly<Record<string, BackendFactory>>;
  auth: Readonly<Record<string, BackendFactory>>;
}

export interface CoreOptions {
  physical: Storage;
  storageType: string;
  config: ServerConfig;
  logger: Logger;
  /** Every type but the core's own `system` and `token` (cubbyhole and kv included). */
  backends: BackendRegistries;
  /** The metrics to record into; default: a fresh set (lib/metrics/server-metrics.ts). */
  metrics?: ServerMetrics;
  /** Present on an HA storage: after unseal the server is standby until it holds the lock. */
  ha?: CoreHaOptions;
}

/** The core's parts and its seal state machine: what the `sys/` backend and the token store are given. */
export interface CoreServices {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly barrier: Barrier;
  readonly tokens: TokenStore;
  readonly tokenManager: TokenManager;
  readonly policies: PolicyStore;
  readonly expiration: Expiration;
  readonly rekey: Rekeyer;
  readonly mounts: MountTable;
  /** Rate-limit quotas (sys/quotas) and the per-address buckets. */
  readonly rateLimiter: RateLimiter;
  /** Audit devices (sys/audit) and the broker the pipeline logs through. */
  readonly audit: AuditTable;
  readonly storageType: string;
  /** Request, storage, rate-limit and audit metrics (sys/metrics). */
  readonly metrics: ServerMetrics;
  state(): SealState;
  /** The cluster's name (config `cluster_name` first) and id; undefined while sealed. */
  cluster(): ClusterInfo | undefined;
  sealStatus(): SealStatus;
  /** Whether the storage elects an active server (api.md §15). */
  readonly haEnabled: boolean;
  /** The HA state while unsealed on an HA storage; undefined otherwise. */
  ha(): HaStatus | undefined;
  /**
   * On a shared storage another server may have initialized or rekeyed: re-reads the seal
   * configuration unless this server is active. A no-op without HA.
   */
  refreshSealConfig(): Promise<void>;
  initialize(shares: unknown, threshold: unknown, options?: { rootTokenId?: string }): Promise<InitResult>;
  unseal(key: unknown): Promise<SealStatus>;
  resetUnseal(): SealStatus;
  seal(): Promise<void>;
  /**
   * Runs `fn` on the storage below the barrier with every other write held off (waited for,
   * then held back until `fn` settles): a consistent read of all of it (sys/storage/snapshot).
   */
  holdStorageWrites<T>(fn: (physical: Storage) => Promise<T>): Promise<T>;
  /**
   * A snapshot restore: with other writes held off (and refused afterwards), seals, runs
   * `replace` on the storage below the barrier, and re-reads the seal configuration. The
   * server stays sealed: the keys that open it are the replaced storage's.
   */
  replaceStorage(replace: (physical: Storage) => Promise<void>): Promise<void>;
}

export interface Core extends CoreServices {
  /** Reads the seal configuration; call once before serving. */
  start(): Promise<void>;
  /** Runs a request through the pipeline (pipeline.ts); every failure is a rejection. */
  handleRequest(req: Request): Promise<Response | null>;
  /**
   * The fast path (fast-path.ts): the answer at once for a hot cached read, or undefined
   * for "not here" (then call handleRequest). It never throws for a request's failure.
   */
  answerNow(req: Request): Response | null | undefined;
  /**
   * With audit devices enabled, where answerNow steps aside: the same hot read, answered once
   * both its lines are written (audit-trail.ts), or undefined for "not here". Its failures are
   * rejections (an AuditFailure: 500).
   */
  answerLogged(req: Request): Promise<Response | null> | undefined;
  /**
   * The rate-limit decision (quotas/rate-limit.ts), taken at the HTTP edge before the body
   * is read: undefined to go on, else a refusal (429) or headers to add. Synchronous, no I/O.
   */
  rateLimit(req: Request): RateLimitVerdict | undefined;
  /** Cheap to call: every reading is a counter the cache keeps as it goes. */
  memory(): CoreMemory;
}
