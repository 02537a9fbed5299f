import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../lib/client/index.js';
import { spawnCli, type Spawned } from '../helpers/cli.js';
import { freePort, startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { httpRequest } from '../helpers/http.js';

/**
 * Failover between two real server processes on one etcd (api.md §15): kill -9 the active
 * one; the standby takes over within the lock TTL plus a second, with every acknowledged
 * write; the killed one, restarted and unsealed, comes back as a standby.
 */

const LOCK_TTL_SECONDS = 2;
let etcd: EtcdCluster;
let dir: string;
const procs: Spawned[] = [];

beforeAll(async () => {
  etcd = await startEtcd(1);
  dir = mkdtempSync(join(tmpdir(), 'nomad-failover-'));
});
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Node {
  name: string;
  url: string;
  config: string;
  proc?: Spawned;
}

async function node(name: string): Promise<Node> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, `${name}.hcl`);
  writeFileSync(
    config,
    `api_addr = "${url}"
listener "tcp" {
  address = "127.0.0.1:${port}"
  tls_disable = true
}
storage "etcd" {
  address = "${etcd.address}"
  path = "/failover/"
  ha_enabled = "true"
  lock_timeout = "${LOCK_TTL_SECONDS}s"
}
`,
  );
  return { name, url, config };
}

async function start(n: Node): Promise<void> {
  n.proc = spawnCli(['server', `-config=${n.config}`]);
  procs.push(n.proc);
  await n.proc.waitFor(/started on/);
}

const healthOf = async (n: Node): Promise<number> => (await httpRequest(`${n.url}/v1/sys/health`).catch(() => ({ status: 0 }))).status;

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return Date.now() - started;
}

describe('failover between two server processes', () => {
  it('kill -9 the active server: the standby serves every acknowledged write within the lock TTL plus one second', async () => {
    const a = await node('a');
    const b = await node('b');
    await start(a);
    await start(b);
    const init = await httpRequest(`${a.url}/v1/sys/init`, { method: 'PUT', body: { secret_shares: 1, secret_threshold: 1 } });
    expect(init.status).toBe(200);
    const key: string = init.body.keys[0];
    const root: string = init.body.root_token;
    const unseal = async (n: Node): Promise<void> => {
      expect((await httpRequest(`${n.url}/v1/sys/unseal`, { method: 'PUT', body: { key } })).status).toBe(200);
    };
    await unseal(a);
    await until('a to become active', async () => (await healthOf(a)) === 200, 5000);
    await unseal(b);
    expect(await healthOf(b)).toBe(429);

    // Writes go on through the active server while it is killed; only the acknowledged count.
    const client = createClient({ address: a.url, token: root, retries: 0 });
    const acknowledged: number[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await client.kv.write(`secret/w${i}`, { i });
          acknowledged.push(i);
        } catch {
          return;
        }
      }
    })();
    await until('some writes', async () => acknowledged.length >= 50, 10_000);
    a.proc!.kill('SIGKILL');
    const killedAt = Date.now();
    await a.proc!.exited;
    stop = true;
    await writer;
    client.close();

    await until('b to take over', async () => (await healthOf(b)) === 200, (LOCK_TTL_SECONDS + 1) * 1000);
    const tookOver = Date.now() - killedAt;
    expect(tookOver).toBeLessThanOrEqual((LOCK_TTL_SECONDS + 1) * 1000);

    const reader = createClient({ address: b.url, token: root });
    for (const i of acknowledged) expect(await reader.kv.read(`secret/w${i}`), `w${i}`).toEqual({ i });
    reader.close();

    // The old active server comes back, unsealed, as a standby pointing at b.
    await start(a);
    expect(await healthOf(a)).toBe(503);
    await unseal(a);
    expect(await healthOf(a)).toBe(429);
    const leader = await httpRequest(`${a.url}/v1/sys/leader`);
    expect(leader.body).toMatchObject({ ha_enabled: true, is_self: false, leader_address: b.url });
    const redirected = await httpRequest(`${a.url}/v1/secret/w0`, { headers: { 'X-Nomad-Token': root } });
    expect(redirected.status).toBe(307);
    expect(redirected.headers.location).toBe(`${b.url}/v1/secret/w0`);
  });
});
