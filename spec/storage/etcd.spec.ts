import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { createEtcdClient } from '../../lib/storage/etcd/client.js';
import { createEtcdStorage } from '../../lib/storage/etcd/storage.js';
import { createStorage, isDurableStorage } from '../../lib/storage/registry.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { exerciseStorage } from './contract.js';

let etcd: EtcdCluster;
let run = 0;
beforeAll(async () => {
  etcd = await startEtcd(1);
});
afterAll(async () => {
  await etcd?.stop();
});

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
/** Each test gets its own prefix, so one member serves the whole file without cross-talk. */
const freshPrefix = (): string => `/spec-${process.pid}-${++run}/`;

exerciseStorage('etcd', async () => {
  const storage = await createStorage('etcd', { address: etcd.address, path: freshPrefix() });
  return { storage, cleanup: async () => (storage as { close(): Promise<void> }).close() };
});

/** A TCP server that accepts connections and never answers: a hung member. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A loopback port nothing listens on. */
async function deadUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

describe('etcd storage', () => {
  it('lists a folder in work proportional to its direct children, not its subtree', async () => {
    const calls: string[] = [];
    const prefix = freshPrefix();
    const client = createEtcdClient({ endpoints: [etcd.members[0].clientUrl], requestTimeoutMs: 5000, onRequest: (m) => calls.push(m) });
    const s = createEtcdStorage({ client, prefix });
    try {
      // 2,000 keys in one subfolder, written straight through the gateway in a few txns.
      const ops = Array.from({ length: 2000 }, (_, i) => ({
        request_put: { key: Buffer.from(`${prefix}folder/big/${String(i).padStart(4, '0')}/leaf`).toString('base64'), value: '' },
      }));
      for (let i = 0; i < ops.length; i += 100) await client.call('kv/txn', { success: ops.slice(i, i + 100) });
      for (const k of ['folder/a', 'folder/c', 'folder/zz', 'folder/big0', 'folder/small/x', 'outside']) await s.put(k, bytes(k));
      calls.length = 0;
      expect(await s.list('folder/')).toEqual(['a', 'big/', 'big0', 'c', 'small/', 'zz']);
      // One page finds big/ and jumps past it; a second page has the rest.
      expect(calls.filter((m) => m === 'kv/range').length).toBeLessThanOrEqual(3);
      calls.length = 0;
      expect(await s.list('folder/big/')).toHaveLength(2000);
      expect(calls.length).toBeGreaterThan(7); // 2,000 direct children do take pages
    } finally {
      await s.close();
    }
  });

  it('never lists the HA namespace under the prefix', async () => {
    const prefix = freshPrefix();
    const client = createEtcdClient({ endpoints: [etcd.members[0].clientUrl], requestTimeoutMs: 5000 });
    const s = createEtcdStorage({ client, prefix });
    try {
      await client.call('kv/put', { key: Buffer.from(`${prefix}/ha/lock`).toString('base64'), value: '' });
      await s.put('.a', bytes('x'));
      await s.put('b/c', bytes('x'));
      expect(await s.list('')).toEqual(['.a', 'b/']);
    } finally {
      await s.close();
    }
  });

  it('fails over to the next address when the first refuses connections', async () => {
    const s = await createStorage('etcd', { address: `${await deadUrl()},${etcd.address}`, path: freshPrefix() });
    try {
      await s.put('k', bytes('v'));
      expect(Buffer.from((await s.get('k'))!).toString()).toBe('v');
    } finally {
      await s.close!();
    }
  });

  it('fails over past a member that accepts TCP and never answers, within request_timeout', async () => {
    const hung = await silentServer();
    const s = await createStorage('etcd', { address: `${hung.url},${etcd.address}`, path: freshPrefix(), request_timeout: '1s' });
    try {
      const started = Date.now();
      await s.put('k', bytes('v'));
      expect(Date.now() - started).toBeLessThan(1500);
      expect(Buffer.from((await s.get('k'))!).toString()).toBe('v');
    } finally {
      await s.close!();
      await hung.close();
    }
  });

  it('answers ERR_STORAGE within request_timeout when no member answers', async () => {
    const hung = await silentServer();
    const s = await createStorage('etcd', { address: `${hung.url},${await deadUrl()}`, path: freshPrefix(), request_timeout: '400ms' });
    try {
      const started = Date.now();
      const err = await s.get('k').then(() => null, (e: unknown) => e);
      const took = Date.now() - started;
      expect(isApiError(err, 'ERR_STORAGE')).toBe(true);
      expect((err as Error).message).toBe('etcd storage: get failed');
      expect(took).toBeGreaterThanOrEqual(350);
      expect(took).toBeLessThan(1200);
    } finally {
      await s.close!();
      await hung.close();
    }
  });

  it('is durable storage for the read cache', () => {
    expect(isDurableStorage('etcd')).toBe(true);
  });

  it.each([
    [{ bogus: 'x' }, "unknown option 'bogus'"],
    [{ address: '' }, 'address must name at least one endpoint'],
    [{ address: 'not a url' }, "address 'not a url' is not a URL"],
    [{ address: 'ftp://127.0.0.1:2379' }, 'must use http:// or https://'],
    [{ address: 'http://127.0.0.1:2379/v3' }, 'must be a scheme, host and port only'],
    [{ ha_enabled: 'yes' }, `ha_enabled must be "true" or "false"`],
    [{ request_timeout: 'soon' }, "request_timeout 'soon' is not a duration"],
    [{ request_timeout: '0s' }, 'request_timeout must be more than zero'],
    [{ lock_timeout: 'long' }, "lock_timeout 'long' is not a duration"],
    [{ lock_timeout: '500ms' }, 'lock_timeout must be a whole number of seconds'],
    [{ lock_timeout: '1500ms' }, 'lock_timeout must be a whole number of seconds'],
    [{ tls_ca_file: '/nonexistent/ca.pem', address: 'https://127.0.0.1:2379' }, "tls_ca_file: cannot read '/nonexistent/ca.pem' (ENOENT)"],
    [{ tls_cert_file: '/etc/hostname', address: 'https://127.0.0.1:2379' }, 'tls_cert_file and tls_key_file go together'],
    [{ tls_ca_file: '/etc/hostname' }, 'tls_* options need https:// addresses'],
  ])('refuses bad options %j', async (options, message) => {
    await expect(createStorage('etcd', options as Record<string, string>)).rejects.toThrow(message);
  });
});

