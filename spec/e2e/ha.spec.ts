import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import nodeVault from 'node-vault';
import { createClient } from '../../lib/client/index.js';
import { createEtcdClient } from '../../lib/storage/etcd/client.js';
import { createEtcdLock } from '../../lib/storage/etcd/lock.js';
import { haLockKey } from '../../lib/storage/etcd/storage.js';
import { createStorage } from '../../lib/storage/registry.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { runCli } from '../helpers/cli.js';
import { connectRaw, rawRequest } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Active/standby (api.md §15) with two in-process servers on one real etcd: one holds the
 * lock and serves, the other redirects; step-down, seal and key changes hand over.
 */

let etcd: EtcdCluster;
const servers: TestServer[] = [];

beforeAll(async () => {
  etcd = await startEtcd(1);
});
afterAll(async () => {
  await etcd?.stop();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function haServer(prefix: string): Promise<TestServer> {
  const storage = await createStorage('etcd', { address: etcd.address, path: prefix, ha_enabled: 'true', lock_timeout: '2s' });
  const server = await startTestServer({ storage, uninitialized: true });
  servers.push(server);
  return server;
}

const isActive = async (s: TestServer): Promise<boolean> => (await s.request('GET', '/v1/sys/leader')).body.is_self === true;

/** Two servers on one fresh prefix, initialized through the first and both unsealed; the active one first. */
async function pair(): Promise<{ active: TestServer; standby: TestServer; keys: string[]; root: string }> {
  const prefix = `/ha-${randomUUID()}/`;
  const a = await haServer(prefix);
  const b = await haServer(prefix);
  // b started before the storage was initialized: it must see a's init all the same.
  expect((await b.request('GET', '/v1/sys/seal-status')).body.initialized).toBe(false);
  const init = await a.request('PUT', '/v1/sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
  expect(init.status).toBe(200);
  for (const s of [a, b]) {
    s.rootToken = init.body.root_token;
    s.keys = init.body.keys;
  }
  expect((await b.request('GET', '/v1/sys/seal-status')).body).toMatchObject({ initialized: true, sealed: true, ha_enabled: true });
  await a.unseal();
  await until('a to become active', () => isActive(a));
  await b.unseal();
  return { active: a, standby: b, keys: init.body.keys, root: init.body.root_token };
}

describe('two servers on one etcd', () => {
  it('one is active, the other standby: health, leader and a 307 for everything but the local routes', async () => {
    const { active, standby, root } = await pair();
    const health = await standby.request('GET', '/v1/sys/health');
    expect(health.status).toBe(429);
    expect(health.body).toMatchObject({ initialized: true, sealed: false, standby: true, performance_standby: false });
    const activeHealth = (await active.request('GET', '/v1/sys/health')).body;
    expect(activeHealth.cluster_name).toMatch(/^nomad-cluster-/);
    expect(health.body).toMatchObject({ cluster_name: activeHealth.cluster_name, cluster_id: activeHealth.cluster_id });
    expect((await standby.request('GET', '/v1/sys/health?standbyok=true')).status).toBe(200);
    expect((await standby.request('GET', '/v1/sys/health?standbycode=299')).status).toBe(299);
    expect((await active.request('GET', '/v1/sys/health')).status).toBe(200);

    const leaderSeenByStandby = (await standby.request('GET', '/v1/sys/leader')).body;
    expect(leaderSeenByStandby).toMatchObject({ ha_enabled: true, is_self: false, leader_address: active.url, performance_standby: false });
    const leaderSeenByActive = (await active.request('GET', '/v1/sys/leader')).body;
    expect(leaderSeenByActive).toMatchObject({ ha_enabled: true, is_self: true, leader_address: active.url });
    expect(Date.parse(leaderSeenByActive.active_time)).toBeGreaterThan(Date.now() - 60_000);
    expect((await standby.request('GET', '/v1/sys/seal-status')).body.sealed).toBe(false);
    // `nomad-api status` shows each server's own view.
    const status = await runCli(['status'], { NOMAD_ADDR: standby.url });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/HA Mode\s+standby/);
    expect(status.stdout).toMatch(new RegExp(`Active Node Address\\s+${active.url}`));
    expect((await runCli(['status'], { NOMAD_ADDR: active.url })).stdout).toMatch(/HA Mode\s+active/);

    // A write: the same method, path and query at the active server; nothing runs here.
    const write = await standby.request('PUT', '/v1/secret/app?x=1&list=false', { token: root, body: { a: '1' } });
    expect(write.status).toBe(307);
    expect(write.headers.location).toBe(`${active.url}/v1/secret/app?x=1&list=false`);
    expect((await active.request('GET', '/v1/secret/app', { token: root })).status).toBe(404);
    // Reads, lists, help and requests without a token alike: the standby answers none of them itself.
    for (const [method, path] of [['GET', '/v1/secret/app'], ['LIST', '/v1/secret/'], ['GET', '/v1/sys/mounts?help=1'], ['GET', '/v1/auth/token/lookup-self']]) {
      const res = await standby.request(method, path, method === 'GET' && path.includes('lookup') ? {} : { token: root });
      expect(res.status, `${method} ${path}`).toBe(307);
      expect(res.headers.location).toBe(`${active.url}${path}`);
    }
  });

  it('redirects hostile targets as they came, one answer per pipelined request, and never crashes', async () => {
    const { active, standby, root } = await pair();
    const conn = await connectRaw(standby.url);
    try {
      const targets = ['/v1/secret/a%0d%0aSet-Cookie:%20x=1', 'http://evil.example/v1/secret/b?x=%22', '/v1/secret/c?list=true&help=0'];
      const body = '{"a":"1"}';
      // Pipelined, and ended by a request line with raw non-ASCII bytes, which HTTP refuses.
      const bad = rawRequest('PUT', '/v1/secret/caf\xe9\xff', { 'X-Nomad-Token': root }, body);
      await conn.write(Buffer.concat([...targets.map((t) => rawRequest('PUT', t, { 'X-Nomad-Token': root, 'Content-Type': 'application/json' }, body)), bad]));
      const seen = await conn.untilClosed();
      expect(seen.map((r) => r.status)).toEqual([307, 307, 307, 400]);
      // Percent-encoding stays encoded: nothing the client sent becomes a header of ours.
      expect(seen[0]!.headers.location).toBe(`${active.url}/v1/secret/a%0d%0aSet-Cookie:%20x=1`);
      expect(seen[0]!.headers['set-cookie']).toBeUndefined();
      // The absolute form's authority is not ours to repeat: the active server's address is.
      expect(seen[1]!.headers.location).toBe(`${active.url}/v1/secret/b?x=%22`);
      expect(seen[2]!.headers.location).toBe(`${active.url}/v1/secret/c?list=true&help=0`);
    } finally {
      conn.close();
    }
    expect((await standby.request('GET', '/v1/sys/health')).status).toBe(429);
  });

  it('the API client follows the redirect: writes through either server read back through both', async () => {
    const { active, standby, root } = await pair();
    const viaStandby = createClient({ address: standby.url, token: root });
    const viaActive = createClient({ address: active.url, token: root });
    await viaStandby.kv.write('secret/through-standby', { value: 's' });
    await viaActive.kv.write('secret/through-active', { value: 'a' });
    expect(await viaActive.kv.read('secret/through-standby')).toEqual({ value: 's' });
    expect(await viaStandby.kv.read('secret/through-active')).toEqual({ value: 'a' });
    // sys/leader is answered by the standby itself: it names the active server.
    expect(await viaStandby.sys.leader()).toMatchObject({ is_self: false, leader_address: active.url });
  });

  it('node-vault, unmodified, works through a standby: it follows the 307 with method and body', async () => {
    const { active, standby, root } = await pair();
    const vault = nodeVault({ endpoint: standby.url, apiVersion: 'v1', token: root });
    await vault.write('secret/through-node-vault', { value: 'nv' });
    expect((await vault.read('secret/through-node-vault')).data).toEqual({ value: 'nv' });
    expect((await vault.list('secret/')).data.keys).toContain('through-node-vault');
    await vault.delete('secret/through-node-vault');
    expect((await active.request('GET', '/v1/secret/through-node-vault', { token: root })).status).toBe(404);
    // The local routes answer for the standby itself.
    expect((await vault.status()).sealed).toBe(false);
    // node-vault takes sys/health's 429 as the answer it is (a standby), as for Vault.
    expect(await vault.health()).toMatchObject({ standby: true, sealed: false });
  });

  it('sys/step-down (root) hands over: the standby becomes active and sees what the other made', async () => {
    const { active, standby, root } = await pair();
    const client = createClient({ address: active.url, token: root });
    await client.request('POST', 'sys/mounts/team', { type: 'kv' });
    await client.kv.write('team/config', { owner: 'ops' });
    await client.request('PUT', 'sys/policy/reader', { policy: 'path "team/*" { capabilities = ["read"] }' });
    const reader = (await client.request('POST', 'auth/token/create', { policies: ['reader'] })) as { auth: { client_token: string } };

    const noSudo = await active.request('PUT', '/v1/sys/step-down', { token: reader.auth.client_token });
    expect(noSudo.status).toBe(401);
    expect(await isActive(active)).toBe(true);

    expect((await active.request('PUT', '/v1/sys/step-down', { token: root })).status).toBe(204);
    expect(await isActive(active)).toBe(false);
    await until('the standby to take over', () => isActive(standby));
    expect((await active.request('GET', '/v1/sys/health')).status).toBe(429);
    // The mount, the policy and the token made on the other server all work here.
    const read = await standby.request('GET', '/v1/team/config', { token: reader.auth.client_token });
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({ owner: 'ops' });
    expect((await standby.request('PUT', '/v1/team/config', { token: reader.auth.client_token, body: { x: 1 } })).status).toBe(401);
    // The old active one now sends clients here.
    const redirected = await active.request('GET', '/v1/team/config', { token: root });
    expect(redirected.status).toBe(307);
    expect(redirected.headers.location).toBe(`${standby.url}/v1/team/config`);
  });

  it('sealing the active server lets the standby in at once, without waiting out the lock TTL', async () => {
    const { active, standby, root } = await pair();
    const started = Date.now();
    expect((await active.request('PUT', '/v1/sys/seal', { token: root })).status).toBe(204);
    await until('the standby to take over', () => isActive(standby), 1500);
    expect(Date.now() - started).toBeLessThan(1500);
    expect((await active.request('GET', '/v1/sys/health')).status).toBe(503);
  });

  it('data written before and after a key rotation and a rekey reads on the next active server', async () => {
    const { active, standby, root } = await pair();
    const client = createClient({ address: active.url, token: root });
    await client.kv.write('secret/before', { n: 1 });
    await client.sys.rotate();
    await client.kv.write('secret/after-rotate', { n: 2 });
    expect((await client.request('GET', 'sys/key-status')) as { data: { term: number } }).toMatchObject({ data: { term: 2 } });

    // A rekey to three shares: the standby still holds the old master key in memory.
    const started = (await client.request('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2 })) as { nonce: string };
    const done = (await client.request('PUT', 'sys/rekey/update', { key: active.keys[0], nonce: started.nonce })) as { keys: string[]; complete: boolean };
    expect(done.complete).toBe(true);
    await client.kv.write('secret/after-rekey', { n: 3 });

    expect((await active.request('PUT', '/v1/sys/step-down', { token: root })).status).toBe(204);
    await until('the standby to take over', () => isActive(standby));
    for (const [path, n] of [['before', 1], ['after-rotate', 2], ['after-rekey', 3]] as const) {
      const res = await standby.request('GET', `/v1/secret/${path}`, { token: root });
      expect(res.status, path).toBe(200);
      expect(res.body.data).toEqual({ n });
    }
    expect((await standby.request('GET', '/v1/sys/key-status', { token: root })).body.data.term).toBe(2);
    // The seal configuration followed as well: the new one says 2 of 3.
    expect((await standby.request('GET', '/v1/sys/seal-status')).body).toMatchObject({ t: 2, n: 3 });
    // Sealed and unsealed again, the old server needs the new shares: the old key is refused.
    // A standby sends even sys/seal to the active server.
    expect((await active.request('PUT', '/v1/sys/seal', { token: root })).status).toBe(307);
    expect((await standby.request('PUT', '/v1/sys/seal', { token: root })).status).toBe(204);
    const old = await standby.request('PUT', '/v1/sys/unseal', { body: { key: standby.keys[0] } });
    expect(old.status).toBe(400);
    for (const key of done.keys.slice(0, 2)) expect((await standby.request('PUT', '/v1/sys/unseal', { body: { key } })).status).toBe(200);
    await until('the unsealed server to be active again', async () => (await isActive(standby)) || (await isActive(active)));
  });

  it('a standby that knows no reachable active server answers 503', async () => {
    const prefix = `/ha-${randomUUID()}/`;
    // Someone else holds the lock and advertised no address.
    const client = createEtcdClient({ endpoints: etcd.address.split(','), requestTimeoutMs: 2000 });
    const squatter = createEtcdLock(client, haLockKey(prefix), { holderId: randomUUID(), value: '', ttlSeconds: 5 });
    await squatter.acquire();
    try {
      const a = await haServer(prefix);
      const init = await a.request('PUT', '/v1/sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
      a.keys = init.body.keys;
      a.rootToken = init.body.root_token;
      await a.unseal();
      const res = await a.request('GET', '/v1/secret/x', { token: a.rootToken });
      expect(res.status).toBe(503);
      expect(res.body.errors[0]).toMatch(/standby/);
      expect((await a.request('GET', '/v1/sys/health')).status).toBe(429);
      // The lock given up: this server takes it and serves.
      await squatter.release();
      await until('the server to become active', () => isActive(a));
      expect((await a.request('GET', '/v1/secret/x', { token: a.rootToken })).status).toBe(404);
    } finally {
      await squatter.release();
      client.close();
    }
  });
});
