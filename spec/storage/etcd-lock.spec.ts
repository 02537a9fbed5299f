import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isHaStorage, type HaLock } from '../../lib/storage/ha.js';
import { createEtcdClient, type EtcdClient } from '../../lib/storage/etcd/client.js';
import { createEtcdLock } from '../../lib/storage/etcd/lock.js';
import { createStorage } from '../../lib/storage/registry.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';

/** The HA lock contract (lib/storage/ha.ts) against a real one-member etcd. */

const TTL = 2;
let etcd: EtcdCluster;
let run = 0;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  etcd = await startEtcd(1);
});
afterAll(async () => {
  await etcd?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function client(url = etcd.members[0].clientUrl): EtcdClient {
  const c = createEtcdClient({ endpoints: [url], requestTimeoutMs: 2000 });
  cleanups.push(() => c.close());
  return c;
}

function newKey(): string {
  return `/lock-spec-${process.pid}-${++run}//ha/lock`;
}

function lockFor(c: EtcdClient, key: string, addr: string): HaLock {
  const lock = createEtcdLock(c, key, { holderId: randomUUID(), value: addr, ttlSeconds: TTL, pollMs: 50 });
  cleanups.push(() => lock.release());
  return lock;
}

const settledWithin = async (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

/** A TCP relay to etcd that can be cut, as a network partition would cut a holder off. */
async function relay(target: string): Promise<{ url: string; cut(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(port), hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const cut = async (): Promise<void> => {
    const closed = new Promise((r) => server.close(r));
    for (const s of sockets) s.destroy();
    await closed;
  };
  cleanups.push(() => (server.listening ? cut() : undefined));
  return { url, cut };
}

describe('HA lock contract: etcd', () => {
  it('has one holder; a second waits; releasing lets it in; value() reports the holder', async () => {
    const key = newKey();
    const a = lockFor(client(), key, 'https://a.example:8200');
    const b = lockFor(client(), key, 'https://b.example:8200');
    expect(await a.value()).toBeNull();
    const heldA = await a.acquire();
    expect(await a.value()).toBe('https://a.example:8200');
    expect(await b.value()).toBe('https://a.example:8200');
    const waitingB = b.acquire();
    expect(await settledWithin(waitingB, TTL * 1000 + 1000)).toBe(false); // past the TTL: A renews
    expect(await a.acquire()).toBe(heldA); // holding already: the same lock
    const started = Date.now();
    await a.release();
    expect(await settledWithin(heldA.lost, 100)).toBe(true);
    const heldB = await waitingB;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await b.value()).toBe('https://b.example:8200');
    expect(await settledWithin(heldB.lost, 50)).toBe(false);
  });

  it('lets only one of many racing holders in', async () => {
    const key = newKey();
    const locks = Array.from({ length: 5 }, (_, i) => lockFor(client(), key, `addr-${i}`));
    const winner = await Promise.race(locks.map((l, i) => l.acquire().then(() => i)));
    await new Promise((r) => setTimeout(r, 300));
    expect(await locks[0].value()).toBe(`addr-${winner}`);
    // The others are still waiting: releasing the winner lets exactly one more in.
    const rest = locks.filter((_, i) => i !== winner);
    let acquired = 0;
    // Each still waits when the cleanup releases it: that rejection is expected.
    for (const l of rest) l.acquire().then(() => (acquired += 1), () => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(acquired).toBe(0);
    await locks[winner].release();
    await new Promise((r) => setTimeout(r, 500));
    expect(acquired).toBe(1);
  });

  it('reports the loss at once when the lease is revoked, and the waiter takes over', async () => {
    const key = newKey();
    const admin = client();
    const a = lockFor(client(), key, 'a');
    const b = lockFor(client(), key, 'b');
    const heldA = await a.acquire();
    const waitingB = b.acquire();
    const leases = await admin.call<{ kvs?: Array<{ lease?: string }> }>('kv/range', { key: Buffer.from(key).toString('base64') });
    const started = Date.now();
    await admin.call('lease/revoke', { ID: leases.kvs![0].lease });
    expect(await settledWithin(heldA.lost, (TTL * 1000) / 3 + 500)).toBe(true);
    await waitingB;
    expect(Date.now() - started).toBeLessThan(TTL * 1000 + 1000);
    expect(await a.value()).toBe('b');
  });

  it('loses the lock when cut off from etcd for a TTL, and the waiter takes over within TTL + 1 s', async () => {
    const key = newKey();
    const link = await relay(etcd.members[0].clientUrl);
    const a = lockFor(client(link.url), key, 'a');
    const b = lockFor(client(), key, 'b');
    const heldA = await a.acquire();
    const waitingB = b.acquire();
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await link.cut();
    await heldA.lost;
    const lostAfter = Date.now() - started;
    expect(lostAfter).toBeLessThanOrEqual(TTL * 1000 + 100);
    await waitingB;
    expect(Date.now() - started).toBeLessThan(TTL * 1000 + 1000);
    expect(await b.value()).toBe('b');
  });

  it('stops waiting when the signal aborts or the lock is released', async () => {
    const key = newKey();
    const a = lockFor(client(), key, 'a');
    const b = lockFor(client(), key, 'b');
    await a.acquire();
    const controller = new AbortController();
    const waiting = b.acquire(controller.signal);
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    const again = b.acquire();
    await b.release();
    await expect(again).rejects.toThrow('the lock was released while waiting for it');
    expect(await b.value()).toBe('a');
  });

  it('is offered by the etcd storage only with ha_enabled = "true", under the prefix but never listed', async () => {
    const path = `/ha-spec-${process.pid}-${++run}/`;
    const plain = await createStorage('etcd', { address: etcd.address, path });
    const ha = await createStorage('etcd', { address: etcd.address, path, ha_enabled: 'true' });
    cleanups.push(() => plain.close!(), () => ha.close!());
    expect(isHaStorage(plain)).toBe(false);
    expect(isHaStorage(ha)).toBe(true);
    if (!isHaStorage(ha)) return;
    const lock = ha.haLock({ holderId: randomUUID(), value: 'https://me:8200', ttlSeconds: TTL });
    cleanups.push(() => lock.release());
    await lock.acquire();
    await ha.put('x', new Uint8Array([1]));
    expect(await ha.list('')).toEqual(['x']);
    const raw = await client().call<{ kvs?: unknown[] }>('kv/range', { key: Buffer.from(`${path}/ha/lock`).toString('base64') });
    expect(raw.kvs).toHaveLength(1);
  });
});
