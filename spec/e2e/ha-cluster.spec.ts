import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage } from '../../lib/storage/registry.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * An HA server on a three-member etcd cluster (issue 14): one member down changes nothing a
 * client can see; two down (no quorum) fail fast, bounded by request_timeout; the member
 * back, the server serves again, as active.
 */

const TIMEOUT_MS = 1000;
let etcd: EtcdCluster;
let server: TestServer;

beforeAll(async () => {
  etcd = await startEtcd(3);
  const storage = await createStorage('etcd', { address: etcd.address, path: '/ha-cluster/', ha_enabled: 'true', lock_timeout: '2s', request_timeout: `${TIMEOUT_MS}ms` });
  server = await startTestServer({ storage, sealed: true });
  await server.unseal();
  await until(async () => (await server.request('GET', '/v1/sys/health')).status === 200, 5000);
});
afterAll(async () => {
  await server?.close();
  await etcd?.stop();
});

async function until(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('an HA server on a three-member etcd cluster', () => {
  it('rides out one member down, fails fast without quorum, and recovers', async () => {
    const token = server.rootToken;
    for (let i = 0; i < 10; i++) expect((await server.request('PUT', `/v1/secret/before${i}`, { token, body: { i } })).status).toBe(204);

    // The member the storage talks to first goes: clients see nothing.
    await etcd.members[0].kill();
    for (let i = 0; i < 20; i++) {
      expect((await server.request('PUT', `/v1/secret/one-down${i}`, { token, body: { i } })).status).toBe(204);
      const read = await server.request('GET', `/v1/secret/one-down${i}`, { token });
      expect(read.status).toBe(200);
      expect(read.body.data).toEqual({ i });
    }

    // No quorum: each request fails within about request_timeout, as 500 "internal error" or 503.
    await etcd.members[1].kill();
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await server.request('PUT', `/v1/secret/no-quorum${i}`, { token, body: { i } });
      expect([500, 503]).toContain(res.status);
      if (res.status === 500) expect(res.body.errors).toEqual(['internal error']);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 2 + 500);
    }
    server.expectInternalErrors();

    // Quorum back: the server serves again (perhaps after taking the lock anew).
    await etcd.members[1].restart();
    await until(async () => (await server.request('PUT', '/v1/secret/recovered', { token, body: { ok: true } })).status === 204, 20_000);
    server.expectInternalErrors();
    for (let i = 0; i < 10; i++) expect((await server.request('GET', `/v1/secret/before${i}`, { token })).body.data).toEqual({ i });
    expect((await server.request('GET', '/v1/sys/health')).status).toBe(200);
  });
});
