import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** sys/health (api.md §6): its status in each seal state, every override, HEAD, and its fields. */

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const health = (s: TestServer, query = '', method = 'GET') => s.request(method, `/v1/sys/health${query}`);

describe('status codes', () => {
  it('answers 501 before init, and uninitcode replaces it', async () => {
    server = await startTestServer({ uninitialized: true });
    const res = await health(server);
    expect(res.status).toBe(501);
    expect(res.body).toMatchObject({ initialized: false, sealed: true, standby: false, performance_standby: false });
    expect(res.body).not.toHaveProperty('cluster_name');
    expect((await health(server, '?uninitcode=200')).status).toBe(200);
    // An override for another state changes nothing here.
    expect((await health(server, '?sealedcode=299&activecode=298')).status).toBe(501);
  });

  it('answers 503 when sealed, and sealedcode replaces it', async () => {
    server = await startTestServer({ sealed: true });
    const res = await health(server);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ initialized: true, sealed: true, standby: false });
    // The cluster's identity is in the barrier: unknown while sealed, as in Vault.
    expect(res.body).not.toHaveProperty('cluster_id');
    expect((await health(server, '?sealedcode=200')).status).toBe(200);
    expect((await health(server, '?uninitcode=200&activecode=201')).status).toBe(503);
  });

  it('answers 200 when active, and activecode replaces it', async () => {
    server = await startTestServer();
    expect((await health(server)).status).toBe(200);
    expect((await health(server, '?activecode=204')).status).toBe(204);
    expect((await health(server, '?activecode=299')).status).toBe(299);
    // Not a standby: the standby overrides do not apply, but are accepted.
    expect((await health(server, '?standbycode=299&standbyok=true&perfstandbyok=true&performancestandbycode=298')).status).toBe(200);
    expect((await health(server, '?sealedcode=500&uninitcode=500')).status).toBe(200);
  });

  it('refuses an override that is not a status code', async () => {
    server = await startTestServer();
    for (const query of ['?activecode=abc', '?standbycode=99', '?sealedcode=600', '?uninitcode=2.5', '?performancestandbycode=x']) {
      const res = await health(server, query);
      expect(res.status, query).toBe(400);
      expect(res.body.errors[0]).toMatch(/must be an HTTP status code/);
    }
    expect((await health(server, '?standbyok=maybe')).status).toBe(400);
  });

  it('answers HEAD with the same status and no body', async () => {
    server = await startTestServer({ sealed: true });
    const sealed = await health(server, '', 'HEAD');
    expect(sealed.status).toBe(503);
    expect(sealed.text).toBe('');
    await server.unseal();
    const active = await health(server, '?activecode=202', 'HEAD');
    expect([active.status, active.text]).toEqual([202, '']);
  });

  it('needs no token', async () => {
    server = await startTestServer();
    expect((await server.request('GET', '/v1/sys/health', { token: 'not-a-token' })).status).toBe(200);
  });
});

describe('fields', () => {
  it('has the HA and replication fields and a generated cluster name kept across restarts of the seal', async () => {
    server = await startTestServer();
    const res = await health(server);
    expect(res.body).toMatchObject({
      initialized: true,
      sealed: false,
      standby: false,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
    });
    expect(typeof res.body.version).toBe('string');
    expect(Math.abs(res.body.server_time_utc - Date.now() / 1000)).toBeLessThan(60);
    expect(res.body.cluster_name).toMatch(/^nomad-cluster-[0-9a-f]{8}$/);
    expect(res.body.cluster_id).toMatch(/^[0-9a-f-]{36}$/);
    // Sealed then unsealed: read back from the barrier, not made again.
    expect((await server.request('PUT', '/v1/sys/seal', { token: server.rootToken })).status).toBe(204);
    await server.unseal();
    const again = await health(server);
    expect([again.body.cluster_name, again.body.cluster_id]).toEqual([res.body.cluster_name, res.body.cluster_id]);
  });

  it('reports cluster_name from the configuration', async () => {
    server = await startTestServer({ config: { clusterName: 'east-1' } });
    const res = await health(server);
    expect(res.body.cluster_name).toBe('east-1');
    expect(res.body.cluster_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is answered raw, without the envelope', async () => {
    server = await startTestServer();
    const res = await health(server);
    expect(res.body).not.toHaveProperty('data');
    expect(res.body).not.toHaveProperty('request_id');
  });
});
