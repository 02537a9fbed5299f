import type { AuditTable } from '../audit/table.js';
import type { ServerConfig } from '../config.js';
import type { Barrier } from '../crypto/barrier.js';
import type { BackendFactory } from '../framework/backend.js';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
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
   * The rate-limit decision (quotas/rate-limit.ts), taken at the HTTP edge before the body
   * is read: undefined to go on, else a refusal (429) or headers to add. Synchronous, no I/O.
   */
  rateLimit(req: Request): RateLimitVerdict | undefined;
  /** Cheap to call: every reading is a counter the cache keeps as it goes. */
  memory(): CoreMemory;
}
