import { ApiError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/storage.js';
import { createView } from '../storage/view.js';

/**
 * The expiration manager (api.md §11): every lease — a leased secret or a token with a
 * TTL — is stored behind the barrier with a timer. When it fires, the lease is revoked,
 * retrying with backoff when revocation fails. Timers are re-armed on unseal.
 */

export interface LeaseEntry {
  /** `<request path>/<uuid>` for secrets, `auth/token/create/<token hash>` for tokens. */
  id: string;
  kind: 'secret' | 'token';
  mountPoint: string;
  /** The token that owns the lease (for a token lease: the token itself). */
  tokenHash: string;
  /** Unix ms. */
  issueTime: number;
  expireTime: number;
  lastRenewalTime: number;
  renewable: boolean;
  /** What the backend needs to revoke the secret. */
  data?: Record<string, unknown>;
}

/** Revokes what a lease stands for; throwing schedules a retry. */
export type Revoker = (lease: LeaseEntry) => Promise<void>;

export interface Expiration {
  /**
   * Says how leases of a kind are revoked: the token manager for tokens, the mount table's
   * backends for secrets. Both are set before the first unseal (core.ts); a lease of a kind
   * with no revoker fails its revocation, which is retried.
   */
  revokeWith(kind: LeaseEntry['kind'], revoke: Revoker): void;
  restore(): Promise<void>;
  stop(): void;
  register(lease: LeaseEntry): Promise<void>;
  lookup(id: string): Promise<LeaseEntry | null>;
  /** Persists a changed expiry and re-arms the timer. */
  update(lease: LeaseEntry): Promise<void>;
  revoke(id: string): Promise<void>;
  revokePrefix(prefix: string): Promise<void>;
  revokeByToken(tokenHash: string): Promise<void>;
  /** Drops a lease without revoking what it stands for (its token is being revoked already). */
  forget(id: string): Promise<void>;
  /** Lease ids below a prefix (for tests and revoke-prefix). */
  list(prefix: string): Promise<string[]>;
  /** Timers armed: one per live lease while unsealed, so sized by the data, not capped. */
  armed(): number;
}

/** setTimeout overflows past 2^31−1 ms; longer leases re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 60_000;
const MAX_ATTEMPTS = 6;

const encodeId = (id: string): string => Buffer.from(id).toString('base64url');

export function createExpiration(barrier: Storage, logger: Logger): Expiration {
  const revokers = new Map<LeaseEntry['kind'], Revoker>();
  const byId = createView(barrier, 'sys/expire/id/');
  const byToken = createView(barrier, 'sys/expire/token/');
  const timers = new Map<string, NodeJS.Timeout>();
  let running = false;

  const clearTimer = (id: string): void => {
    const timer = timers.get(id);
    if (timer) clearTimeout(timer);
    timers.delete(id);
  };

  const arm = (lease: LeaseEntry, delay = Math.max(0, lease.expireTime - Date.now()), attempt = 0): void => {
    if (!running) return;
    clearTimer(lease.id);
    const timer = setTimeout(() => {
      timers.delete(lease.id);
      if (attempt === 0 && lease.expireTime > Date.now()) return arm(lease);
      expire(lease.id, attempt).catch((err: unknown) => logger.error('lease expiry failed', { lease_id: lease.id, error: err }));
    }, Math.min(delay, MAX_TIMER_MS));
    timer.unref();
    timers.set(lease.id, timer);
  };

  const expire = async (id: string, attempt: number): Promise<void> => {
    const lease = await manager.lookup(id);
    if (!lease) return;
    if (lease.expireTime > Date.now()) return arm(lease);
    try {
      await revokeEntry(lease);
    } catch (err) {
      if (attempt + 1 >= MAX_ATTEMPTS) {
        logger.error('lease revocation failed; will retry after the next unseal', { lease_id: id, error: err });
        return;
      }
      const delay = Math.min(RETRY_BASE_MS * 2 ** attempt, RETRY_MAX_MS);
      logger.warn('lease revocation failed; retrying', { lease_id: id, attempt: attempt + 1, error: err });
      arm(lease, delay, attempt + 1);
    }
  };

  /** Revokes first, forgets second: a crash in between leaves a lease to revoke again, never a live orphan. */
  const revokeEntry = async (lease: LeaseEntry): Promise<void> => {
    const revoke = revokers.get(lease.kind);
    if (!revoke) throw new Error(`no revoker for ${lease.kind} leases`);
    await revoke(lease);
    await forget(lease);
  };

  const forget = async (lease: LeaseEntry): Promise<void> => {
    clearTimer(lease.id);
    if (lease.kind === 'secret') await byToken.delete(`${lease.tokenHash}/${encodeId(lease.id)}`);
    await byId.delete(lease.id);
  };

  const listAll = async (prefix: string): Promise<string[]> => {
    const out: string[] = [];
    const walk = async (folder: string): Promise<void> => {
      for (const child of await byId.list(folder)) {
        if (child.endsWith('/')) await walk(folder + child);
        else out.push(folder + child);
      }
    };
    const slash = prefix.lastIndexOf('/');
    const folder = prefix.slice(0, slash + 1);
    await walk(folder);
    return out.filter((id) => id.startsWith(prefix));
  };

  const manager: Expiration = {
    revokeWith(kind, revoke) {
      revokers.set(kind, revoke);
    },
    async restore() {
      running = true;
      for (const id of await listAll('')) {
        const lease = await manager.lookup(id);
        if (lease) arm(lease);
      }
    },
    stop() {
      running = false;
      for (const id of [...timers.keys()]) clearTimer(id);
    },
    async register(lease) {
      // The owner index first: every stored secret lease is reachable from its token.
      // (A token's own lease is not indexed: revoking the token forgets it directly.)
      if (lease.kind === 'secret') await byToken.put(`${lease.tokenHash}/${encodeId(lease.id)}`, new Uint8Array(0));
      await byId.put(lease.id, Buffer.from(JSON.stringify(lease)));
      arm(lease);
    },
    async lookup(id) {
      if (id === '' || id.endsWith('/')) return null;
      const raw = await byId.get(id);
      return raw === null ? null : (JSON.parse(Buffer.from(raw).toString('utf8')) as LeaseEntry);
    },
    async update(lease) {
      await byId.put(lease.id, Buffer.from(JSON.stringify(lease)));
      arm(lease);
    },
    async revoke(id) {
      const lease = await manager.lookup(id);
      if (!lease) throw new ApiError('ERR_NOT_FOUND', 'lease not found');
      await revokeEntry(lease);
    },
    async revokePrefix(prefix) {
      for (const id of await listAll(prefix)) {
        const lease = await manager.lookup(id);
        if (lease) await revokeEntry(lease);
      }
    },
    async revokeByToken(tokenHash) {
      for (const encoded of await byToken.list(`${tokenHash}/`)) {
        const id = Buffer.from(encoded, 'base64url').toString('utf8');
        const lease = await manager.lookup(id);
        if (lease) await revokeEntry(lease);
        else await byToken.delete(`${tokenHash}/${encoded}`);
      }
    },
    async forget(id) {
      const lease = await manager.lookup(id);
      if (lease) await forget(lease);
    },
    list: listAll,
    armed: () => timers.size,
  };
  return manager;
}
