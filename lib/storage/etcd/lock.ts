import type { HaLock, HaLockOptions, HeldLock } from '../ha.js';
import type { EtcdClient } from './client.js';

/**
 * The HA lock on etcd (lib/storage/ha.ts for the contract). The lock is one key whose value
 * is `{"holder": id, "value": api_addr}`, attached to a lease of `ttlSeconds`:
 *
 * - acquire: while the key exists, poll it; when it is absent, grant a lease and put the key
 *   with it in a txn guarded by `create_revision == 0` (create-if-absent), so two servers
 *   racing for a free lock cannot both win. A lost race revokes the unused lease.
 * - hold: keepalive every third of the TTL, and check the key still carries our lease. The
 *   lock is lost the moment etcd says the lease is gone or the key is not ours, or when no
 *   keepalive succeeded for a whole TTL (etcd may have expired it by then: assume it has).
 * - release: revoke the lease, which deletes the key and lets a waiting server in at once.
 */

export interface EtcdLockOptions extends HaLockOptions {
  ttlSeconds: number;
  /** How often a waiting holder looks at the key; 200 ms by default. */
  pollMs?: number;
}

interface RangeKv {
  value?: string;
  lease?: string;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

function abortError(): Error {
  return Object.assign(new Error('the lock was released while waiting for it'), { name: 'AbortError' });
}

export function createEtcdLock(client: EtcdClient, key: string, options: EtcdLockOptions): HaLock {
  const ttl = Math.max(1, Math.ceil(options.ttlSeconds));
  const pollMs = options.pollMs ?? 200;
  const keyB64 = b64(key);
  const record = b64(JSON.stringify({ holder: options.holderId, value: options.value }));
  /** Bumped by release(): an acquire or hold from before it stops. */
  let generation = 0;
  let current: { lease: string; held: HeldLock; end(): void } | null = null;
  let acquiring: Promise<HeldLock> | null = null;

  async function readKey(): Promise<RangeKv | undefined> {
    const res = await client.call<{ kvs?: RangeKv[] }>('kv/range', { key: keyB64 });
    return res.kvs?.[0];
  }

  async function revoke(lease: string): Promise<void> {
    try {
      await client.call('lease/revoke', { ID: lease });
    } catch {
      // Gone already, or etcd unreachable: the lease then ends with its TTL.
    }
  }

  async function tryOnce(): Promise<string | null> {
    if ((await readKey()) !== undefined) return null;
    const grant = await client.call<{ ID?: string }>('lease/grant', { TTL: ttl });
    const lease = grant.ID;
    if (lease === undefined) throw new Error('etcd granted a lease without an ID');
    const txn = await client.call<{ succeeded?: boolean; responses?: Array<{ response_range?: { kvs?: RangeKv[] } }> }>('kv/txn', {
      compare: [{ key: keyB64, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
      success: [{ request_put: { key: keyB64, value: record, lease } }],
      failure: [{ request_range: { key: keyB64 } }],
    });
    // A retried txn (the first answer lost to a failover) finds our own record: that is a win.
    if (txn.succeeded === true || txn.responses?.[0]?.response_range?.kvs?.[0]?.lease === lease) return lease;
    await revoke(lease);
    return null;
  }

  function hold(lease: string, gen: number): { held: HeldLock; end(): void } {
    let resolveLost!: () => void;
    const lost = new Promise<void>((resolve) => (resolveLost = resolve));
    let ended = false;
    let tick: NodeJS.Timeout | undefined;
    let expiry: NodeJS.Timeout | undefined;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(tick);
      clearTimeout(expiry);
      if (current?.lease === lease) current = null;
      resolveLost();
    };
    // No successful renewal for a whole TTL: etcd may already have let another holder in.
    const armExpiry = (from: number): void => {
      clearTimeout(expiry);
      expiry = setTimeout(end, Math.max(0, from + ttl * 1000 - Date.now()));
    };
    const renew = async (): Promise<void> => {
      if (ended || gen !== generation) return end();
      const sent = Date.now();
      try {
        const res = await client.call<{ result?: { TTL?: string } }>('lease/keepalive', { ID: lease });
        // An expired or revoked lease comes back without a TTL (zero fields are left out).
        if (!(Number(res.result?.TTL ?? '0') > 0)) return end();
        const kv = await readKey();
        if (kv?.lease !== lease) {
          void revoke(lease);
          return end();
        }
        armExpiry(sent);
      } catch {
        // Unreachable for now: try again soon; the expiry timer decides when it is too late.
      }
      if (!ended) tick = setTimeout(() => void renew(), (ttl * 1000) / 3);
    };
    armExpiry(Date.now());
    tick = setTimeout(() => void renew(), (ttl * 1000) / 3);
    return { held: { lost }, end };
  }

  async function acquireLoop(signal: AbortSignal | undefined, gen: number): Promise<HeldLock> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if (gen !== generation) throw abortError();
      let lease: string | null = null;
      try {
        lease = await tryOnce();
      } catch {
        // etcd unreachable: keep waiting, as a standby would.
      }
      if (lease !== null) {
        if (gen !== generation || signal?.aborted) {
          await revoke(lease);
          throw signal?.aborted ? signal.reason : abortError();
        }
        const h = hold(lease, gen);
        current = { lease, ...h };
        return h.held;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  return {
    acquire(signal) {
      if (current !== null) return Promise.resolve(current.held);
      if (acquiring === null) {
        const gen = generation;
        acquiring = acquireLoop(signal, gen).finally(() => {
          acquiring = null;
        });
      }
      return acquiring;
    },
    async release() {
      generation += 1;
      const held = current;
      current = null;
      if (held !== null) {
        held.end();
        await revoke(held.lease);
      }
    },
    async value() {
      const kv = await readKey();
      if (kv === undefined) return null;
      try {
        const parsed = JSON.parse(Buffer.from(kv.value ?? '', 'base64').toString('utf8')) as { value?: unknown };
        return typeof parsed.value === 'string' ? parsed.value : null;
      } catch {
        return null;
      }
    },
  };
}
