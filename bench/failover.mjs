// Failover benchmark (issue 14): two nomad-api processes on one etcd member with
// ha_enabled and lock_timeout = "2s". Each round kill -9s the active server and times how
// long until the other answers sys/health with 200 (active), then restarts and unseals the
// killed one, which comes back as a standby (429). The figure: median and max over --kills
// (default 10). The floor is the lock TTL: etcd expires a dead holder's lease after it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEtcd } from './etcd.mjs';
import { BIN, serverNode } from './lib/devserver.mjs';
import { freePort, pollUntil, request } from './lib/net.mjs';
import { spawnTracked, stopChild } from './lib/proc.mjs';
import { median } from './lib/stats.mjs';

export const LOCK_TTL_SECONDS = 2;
const KILLS = Number(process.env.BENCH_KILLS ?? 10);

async function health(url) {
  try {
    return (await request(`${url}/v1/sys/health`, { timeoutMs: 500 })).status;
  } catch {
    return 0;
  }
}

async function benchFailover(opts, log = console.log) {
  const node = serverNode(opts.node);
  const dir = mkdtempSync(path.join(tmpdir(), 'nomad-failover-bench-'));
  const handles = [];
  try {
    const etcd = await startEtcd(dir);
    handles.push(etcd.handle);
    const servers = [];
    for (const name of ['a', 'b']) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const config = path.join(dir, `${name}.hcl`);
      writeFileSync(config, `api_addr = "${url}"\nlistener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nstorage "etcd" {\n  address = "${etcd.url}"\n  path = "/failover/"\n  ha_enabled = "true"\n  lock_timeout = "${LOCK_TTL_SECONDS}s"\n}\n`);
      servers.push({ name, url, config, handle: null });
    }
    const start = async (s) => {
      s.handle = spawnTracked(node.path, [BIN, 'server', `-config=${s.config}`]);
      handles.push(s.handle);
      await pollUntil(`${s.url}/v1/sys/health`, { status: s.key ? 503 : 501, timeoutMs: 15000 });
    };
    for (const s of servers) await start(s);
    const init = JSON.parse((await request(`${servers[0].url}/v1/sys/init`, { method: 'PUT', body: { secret_shares: 1, secret_threshold: 1 } })).body.toString());
    const unseal = async (s) => {
      s.key = init.keys[0];
      const res = await request(`${s.url}/v1/sys/unseal`, { method: 'PUT', body: { key: init.keys[0] } });
      if (res.status !== 200) throw new Error(`unseal ${s.name} answered ${res.status}`);
    };
    await unseal(servers[0]);
    await pollUntil(`${servers[0].url}/v1/sys/health`, { status: 200, timeoutMs: 10000 });
    await unseal(servers[1]);
    const times = [];
    for (let i = 1; i <= KILLS; i++) {
      const [active, standby] = (await health(servers[0].url)) === 200 ? servers : [servers[1], servers[0]];
      if ((await health(standby.url)) !== 429) throw new Error(`round ${i}: ${standby.name} is not a standby`);
      const killedAt = process.hrtime.bigint();
      active.handle.child.kill('SIGKILL');
      await active.handle.exited;
      const tookOver = await pollUntil(`${standby.url}/v1/sys/health`, { status: 200, intervalMs: 10, timeoutMs: LOCK_TTL_SECONDS * 1000 + 10000 });
      const ms = Number(tookOver - killedAt) / 1e6;
      times.push(ms);
      log(`  kill ${i}: ${active.name} killed, ${standby.name} active after ${ms.toFixed(0)} ms`);
      await start(active);
      await unseal(active);
      await pollUntil(`${active.url}/v1/sys/health`, { status: 429, timeoutMs: 5000 });
    }
    return { median: median(times), max: Math.max(...times), kills: times.length };
  } finally {
    for (const h of handles.reverse()) await stopChild(h);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmark = {
  id: 'failover',
  title: 'HA failover on etcd: kill -9 the active server, time until the standby serves',
  needsWrk: false,
  run: benchFailover,
  describe: () => `failover: two servers on one etcd member, lock_timeout ${LOCK_TTL_SECONDS}s, ${KILLS} kills (BENCH_KILLS)`,
  summaryRows: (r) => [
    {
      what: `failover after kill -9, over ${r.kills} kills (lock TTL ${LOCK_TTL_SECONDS} s)`,
      result: `median ${(r.median / 1000).toFixed(2)} s, max ${(r.max / 1000).toFixed(2)} s`,
      target: `≤ TTL + 1 s = ${LOCK_TTL_SECONDS + 1} s`,
      met: r.max <= (LOCK_TTL_SECONDS + 1) * 1000,
    },
  ],
};
