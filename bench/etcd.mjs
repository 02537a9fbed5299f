// etcd benchmark (issue 14): a one-member etcd (Debian's etcd-server) on loopback, and
//   read   GET /v1/secret/foo (root token, cached) on a server on etcd storage against the
//          same read on the inmem dev server, in alternating rounds: target ≥ 0.8 by req/s;
//   write  POST /v1/secret/w/<n> (a new key each time) on the etcd server against wrk putting
//          a value of the same stored size straight into etcd's /v3/kv/put, alternating:
//          target ≥ 0.7 by req/s.
// CPU per request is the nomad-api process's only (etcd's own CPU is not in it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cpuMeter } from './lib/cpu.mjs';
import { BIN, serverNode, startDevServer } from './lib/devserver.mjs';
import { freePort, pollUntil, request } from './lib/net.mjs';
import { spawnTracked, stopChild } from './lib/proc.mjs';
import { assertClean } from './lib/rounds.mjs';
import { median } from './lib/stats.mjs';
import { runWrk, which } from './lib/wrk.mjs';

const ROOT_TOKEN = 'bench-root-token';
export const READ_TARGET = 0.8;
export const WRITE_TARGET = 0.7;
const b64 = (s) => Buffer.from(s).toString('base64');

export async function startEtcd(dir) {
  const client = await freePort();
  const peer = await freePort();
  const url = `http://127.0.0.1:${client}`;
  const handle = spawnTracked('etcd', [
    '--name=b1', `--data-dir=${path.join(dir, 'etcd')}`, '--logger=zap', '--log-level=error',
    `--listen-client-urls=${url}`, `--advertise-client-urls=${url}`,
    `--listen-peer-urls=http://127.0.0.1:${peer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-cluster=b1=http://127.0.0.1:${peer}`, '--heartbeat-interval=10', '--election-timeout=100',
  ]);
  await pollUntil(`${url}/health`, { timeoutMs: 15000 });
  return { url, handle };
}

/** A nomad-api server on etcd storage, initialised and unsealed; resolves { url, handle, rootToken }. */
async function startEtcdServer(dir, etcdUrl, node) {
  const port = await freePort();
  const config = path.join(dir, 'server.hcl');
  writeFileSync(config, `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nstorage "etcd" {\n  address = "${etcdUrl}"\n  path = "/bench/"\n}\n`);
  const handle = spawnTracked(node, [BIN, 'server', `-config=${config}`]);
  const url = `http://127.0.0.1:${port}`;
  await pollUntil(`${url}/v1/sys/health`, { status: 501, timeoutMs: 15000 });
  const init = JSON.parse((await request(`${url}/v1/sys/init`, { method: 'PUT', body: { secret_shares: 1, secret_threshold: 1 } })).body.toString());
  const unseal = await request(`${url}/v1/sys/unseal`, { method: 'PUT', body: { key: init.keys[0] } });
  if (unseal.status !== 200) throw new Error(`unseal answered ${unseal.status}`);
  return { url, handle, rootToken: init.root_token };
}

export async function benchEtcd(opts, log = console.log) {
  if (!which('etcd')) throw new Error('etcd: no etcd on PATH (apt-get install -y etcd-server)');
  const { duration, rounds, warmup, connections } = opts;
  const node = serverNode(opts.node);
  const dir = mkdtempSync(path.join(tmpdir(), 'nomad-etcd-bench-'));
  const cleanup = [];
  try {
    const etcd = await startEtcd(dir);
    cleanup.push(() => stopChild(etcd.handle));
    const onEtcd = await startEtcdServer(dir, etcd.url, node.path);
    cleanup.push(() => stopChild(onEtcd.handle));
    const inmem = await startDevServer({ rootToken: ROOT_TOKEN, node: node.path });
    cleanup.push(() => inmem.stop());
    const value = JSON.stringify({ value: 'bar' });
    for (const [url, token] of [[onEtcd.url, onEtcd.rootToken], [inmem.url, ROOT_TOKEN]]) {
      const put = await request(`${url}/v1/secret/foo`, { method: 'POST', headers: { 'X-Nomad-Token': token }, body: value });
      if (put.status !== 204) throw new Error(`writing secret/foo answered ${put.status}`);
    }
    // The size nomad-api stores for one such write (ciphertext), for the direct put.
    const stored = JSON.parse((await request(`${etcd.url}/v3/kv/range`, { method: 'POST', body: { key: b64('/bench/'), range_end: b64('/bench0') } })).body.toString());
    const storedBytes = Math.max(...stored.kvs.map((kv) => Buffer.from(kv.value, 'base64').length));
    const scripts = {
      write: path.join(dir, 'write.lua'),
      direct: path.join(dir, 'direct.lua'),
    };
    // A fresh key each write, as real traffic mostly is: the storage orders writes to one key.
    writeFileSync(
      scripts.write,
      `local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("POST", "/v1/secret/w/" .. n, {["Content-Type"] = "application/json", ["X-Nomad-Token"] = "${onEtcd.rootToken}"}, '{"value":"written"}')\nend\n`,
    );
    writeFileSync(scripts.direct, `wrk.method = "POST"\nwrk.body = '${JSON.stringify({ key: b64('/direct/w'), value: Buffer.alloc(storedBytes, 7).toString('base64') })}'\n`);

    const targets = {
      'read etcd': { url: `${onEtcd.url}/v1/secret/foo`, headers: { 'X-Nomad-Token': onEtcd.rootToken }, pid: onEtcd.handle.child.pid },
      'read inmem': { url: `${inmem.url}/v1/secret/foo`, headers: { 'X-Nomad-Token': ROOT_TOKEN }, pid: inmem.handle.child.pid },
      'write etcd': { url: `${onEtcd.url}/v1/secret/written`, headers: { 'X-Nomad-Token': onEtcd.rootToken }, script: scripts.write, pid: onEtcd.handle.child.pid },
      'direct put': { url: `${etcd.url}/v3/kv/put`, headers: {}, script: scripts.direct, pid: etcd.handle.child.pid },
    };
    const measure = async (name, seconds) => {
      const t = targets[name];
      const meter = cpuMeter(t.pid);
      const r = await runWrk(t.url, { connections, duration: seconds, headers: t.headers, script: t.script });
      assertClean(`etcd ${name}`, r);
      return { rps: r.rps, cpuUs: meter(r.requests).cpuUs };
    };
    const results = Object.fromEntries(Object.keys(targets).map((n) => [n, []]));
    for (const pair of [['read etcd', 'read inmem'], ['write etcd', 'direct put']]) {
      for (const name of pair) await measure(name, warmup);
      for (let i = 1; i <= rounds; i++) {
        for (const name of i % 2 === 0 ? [...pair].reverse() : pair) {
          const m = await measure(name, duration);
          results[name].push(m);
          log(`  round ${i} ${name.padEnd(11)} ${Math.round(m.rps).toLocaleString('en-US').padStart(7)} req/s  ${m.cpuUs.toFixed(1)} µs CPU/request (of that process)`);
        }
      }
    }
    const summary = Object.fromEntries(Object.entries(results).map(([n, ms]) => [n, { rps: median(ms.map((m) => m.rps)), cpuUs: median(ms.map((m) => m.cpuUs)) }]));
    return { summary, storedBytes, rounds, node: node.version };
  } finally {
    for (const stop of cleanup.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmark = {
  id: 'etcd',
  title: 'etcd storage: cached reads against inmem, writes against direct etcd puts',
  needsWrk: true,
  run: benchEtcd,
  describe: (o) => `etcd: one etcd member on loopback; wrk -t1 -c${o.connections}, ${o.warmup}s warm-up + ${o.rounds} × ${o.duration}s per target, alternating in pairs`,
  summaryRows: (r) => {
    const s = r.summary;
    const read = s['read etcd'].rps / s['read inmem'].rps;
    const write = s['write etcd'].rps / s['direct put'].rps;
    return [
      { what: 'etcd cached read, etcd storage / inmem (req/s)', result: `${read.toFixed(2)} (${Math.round(s['read etcd'].rps).toLocaleString('en-US')} vs ${Math.round(s['read inmem'].rps).toLocaleString('en-US')} req/s; ${s['read etcd'].cpuUs.toFixed(1)} vs ${s['read inmem'].cpuUs.toFixed(1)} µs CPU)`, target: `≥ ${READ_TARGET}`, met: read >= READ_TARGET },
      { what: `etcd write, nomad-api / direct /v3/kv/put of ${r.storedBytes} bytes (req/s)`, result: `${write.toFixed(2)} (${Math.round(s['write etcd'].rps).toLocaleString('en-US')} vs ${Math.round(s['direct put'].rps).toLocaleString('en-US')} req/s)`, target: `≥ ${WRITE_TARGET}`, met: write >= WRITE_TARGET },
    ];
  },
};
