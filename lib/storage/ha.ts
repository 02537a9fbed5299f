/**
 * The HA lock a shared storage offers (api.md §15): among servers on one storage, at most
 * one holds it and is active. Storage-neutral, so the core can drive active/standby over any
 * backend that implements it (today etcd, lib/storage/etcd/lock.ts).
 *
 * The intended use, per server: `acquire()` (waits while another holds it), then serve as
 * active until `held.lost` resolves, then stop serving as active at once and call
 * `acquire()` again to wait as standby. `value()` answers a standby's "who is active"
 * (the holder's `api_addr`, for the 307 redirect). `release()` is step-down and shutdown.
 */
export interface HaLockOptions {
  /** Unique per server process, e.g. a random UUID: tells this holder's record from another's. */
  holderId: string;
  /** What other servers read from `value()` while this one holds the lock: its `api_addr`. */
  value: string;
  /** How long the lock outlives a holder that stops renewing it (a crash, a partition); default: the storage's (etcd: `lock_timeout`). */
  ttlSeconds?: number;
}

export interface HeldLock {
  /**
   * Resolves (never rejects) once this holder no longer holds the lock: the lease expired or
   * was revoked, the record was deleted or replaced, renewals failed for a whole TTL (then
   * another server may hold it already), or `release()` was called.
   */
  lost: Promise<void>;
}

export interface HaLock {
  /**
   * Resolves when this holder holds the lock, waiting as long as another does. Rejects with
   * the signal's reason when `signal` aborts or with an AbortError when `release()` is called
   * meanwhile. Calling it while holding answers the same held lock.
   */
  acquire(signal?: AbortSignal): Promise<HeldLock>;
  /** Gives the lock up (lets a waiting server in at once); safe when not holding. */
  release(): Promise<void>;
  /** The current holder's `value` (its api_addr), or null when nobody holds the lock. */
  value(): Promise<string | null>;
}

/** A storage that can also elect an active server (`ha_enabled`). */
export interface HaStorage {
  haLock(options: HaLockOptions): HaLock;
}

export function isHaStorage(storage: object): storage is HaStorage {
  return typeof (storage as Partial<HaStorage>).haLock === 'function';
}
