// Snapshot benchmark (issue 15 item 5): save and restore of a storage holding 100k entries,
// on file storage and on inmem, each a real server process (bin/nomad-api server -config).
//   fill     100k kv writes over HTTP, 64 in flight (not timed as a result; printed)
//   save     GET /v1/sys/storage/snapshot, from the request to the last byte received
//   restore  POST /v1/sys/storage/snapshot-force with that file, to its 204 (the server is
//            then sealed; each round unseals it again, untimed)
// Each round saves then restores; medians of the rounds. The first round also checks that
// every entry is back (the snapshot's entry count) and reads back a sample of secrets.
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, serverNode } from './lib/devserver.mjs';
import { freePort, pollUntil } from './lib/net.mjs';
import { spawnTracked, stopChild } from './lib/proc.mjs';
import { median } from './lib/stats.mjs';

const ENTRIES = Number(process.env.BENCH_SNAPSHOT_ENTRIES ?? 100_000);
const IN_FLIGHT = 64;

function call(agent, url, { method = 'GET', token, body, contentType = 'application/json' } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const headers = { ...(token ? { 'X-Nomad-Token': token } : {}), ...(payload ? { 'Content-Type': contentType, 'Content-Length': String(payload.length) } : {}) };
    const req = http.request(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function startServer(dir, storage, node) {
  const port = await freePort();
  const config = path.join(dir, `${storage}.hcl`);
  if (storage === 'file') mkdirSync(path.join(dir, 'data'), { mode: 0o700 });
  const block = storage === 'file' ? `storage "file" {\n  path = "${path.join(dir, 'data')}"\n}\n` : 'storage "inmem" {}\n';
  writeFileSync(config, `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\n${block}`);
  const handle = spawnTracked(node, [BIN, 'server', `-config=${config}`]);
  const url = `http://127.0.0.1:${port}`;
  await pollUntil(`${url}/v1/sys/health`, { status: 501, timeoutMs: 15000 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const init = JSON.parse((await call(agent, `${url}/v1/sys/init`, { method: 'PUT', body: { secret_shares: 1, secret_threshold: 1 } })).body);
  const server = { url, handle, agent, key: init.keys[0], token: init.root_token };
  await unseal(server);
  return server;
}

async function unseal(server) {
  const res = await call(server.agent, `${server.url}/v1/sys/unseal`, { method: 'PUT', body: { key: server.key } });
  if (res.status !== 200 || JSON.parse(res.body).sealed) throw new Error(`unseal answered ${res.status}`);
}

async function fill(server, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await call(server.agent, `${server.url}/v1/secret/bench/k${i}`, { method: 'PUT', token: server.token, body: { value: `value-${i}` } });
      if (res.status !== 204) throw new Error(`write ${i} answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

function peakRssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : NaN;
}

async function benchOne(storage, opts, log, node) {
  const dir = mkdtempSync(path.join(tmpdir(), `nomad-snapshot-bench-${storage}-`));
  let server;
  try {
    server = await startServer(dir, storage, node);
    const t0 = performance.now();
    await fill(server, ENTRIES);
    const fillS = (performance.now() - t0) / 1000;
    const filledPeak = peakRssMiB(server.handle.child.pid);
    log(`  ${storage}: filled ${ENTRIES.toLocaleString('en-US')} secrets in ${fillS.toFixed(1)} s (${Math.round(ENTRIES / fillS).toLocaleString('en-US')} writes/s); server peak RSS so far ${filledPeak.toFixed(0)} MiB`);
    const rounds = Math.max(1, opts.rounds ?? 3);
    const saves = [];
    const restores = [];
    let bytes = 0;
    let entries = 0;
    for (let round = 1; round <= rounds; round++) {
      const s0 = performance.now();
      const saved = await call(server.agent, `${server.url}/v1/sys/storage/snapshot`, { token: server.token });
      const saveMs = performance.now() - s0;
      if (saved.status !== 200) throw new Error(`snapshot answered ${saved.status}: ${saved.body}`);
      bytes = saved.body.length;
      entries = Number(saved.headers['x-nomad-snapshot-entries']);
      if (entries < ENTRIES) throw new Error(`the snapshot has ${entries} entries, fewer than the ${ENTRIES} written`);
      const r0 = performance.now();
      const restored = await call(server.agent, `${server.url}/v1/sys/storage/snapshot-force`, { method: 'POST', token: server.token, body: saved.body, contentType: 'application/octet-stream' });
      const restoreMs = performance.now() - r0;
      if (restored.status !== 204) throw new Error(`restore answered ${restored.status}: ${restored.body}`);
      await unseal(server);
      if (round === 1) {
        for (const i of [0, 1, Math.floor(ENTRIES / 2), ENTRIES - 1]) {
          const got = await call(server.agent, `${server.url}/v1/secret/bench/k${i}`, { token: server.token });
          if (got.status !== 200 || JSON.parse(got.body).data.value !== `value-${i}`) throw new Error(`k${i} did not read back after the restore (${got.status})`);
        }
        const again = await call(server.agent, `${server.url}/v1/sys/storage/snapshot`, { token: server.token });
        if (Number(again.headers['x-nomad-snapshot-entries']) !== entries) throw new Error('the restored storage does not have the snapshot\'s entry count');
      }
      saves.push(saveMs);
      restores.push(restoreMs);
      log(`  ${storage}: round ${round} save ${saveMs.toFixed(0)} ms · restore ${restoreMs.toFixed(0)} ms (${entries.toLocaleString('en-US')} entries, ${(bytes / 2 ** 20).toFixed(1)} MiB)`);
    }
    return { storage, fillS, entries, bytes, saveMs: median(saves), restoreMs: median(restores), rounds, filledPeakMiB: filledPeak, peakRssMiB: peakRssMiB(server.handle.child.pid) };
  } finally {
    server?.agent.destroy();
    if (server) await stopChild(server.handle);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchSnapshot(opts, log = console.log) {
  const node = serverNode(opts.node);
  const results = [];
  for (const storage of ['file', 'inmem']) results.push(await benchOne(storage, opts, log, node.path));
  return { results, node: node.version };
}

export const benchmark = {
  id: 'snapshot',
  title: `Storage snapshots: save and restore of ${ENTRIES.toLocaleString('en-US')} entries, file and inmem storage`,
  needsWrk: false,
  run: benchSnapshot,
  describe: (o) => `snapshot: ${ENTRIES.toLocaleString('en-US')} kv secrets written over HTTP (${IN_FLIGHT} in flight), then ${Math.max(1, o.rounds ?? 3)} rounds of GET sys/storage/snapshot and POST sys/storage/snapshot-force (medians), server in its own process`,
  summaryRows: (r) =>
    r.results.map((x) => ({
      what: `snapshot ${x.storage}: ${x.entries.toLocaleString('en-US')} entries, ${(x.bytes / 2 ** 20).toFixed(1)} MiB`,
      result: `save ${(x.saveMs / 1000).toFixed(2)} s · restore ${(x.restoreMs / 1000).toFixed(2)} s (median of ${x.rounds}) · server peak RSS ${x.filledPeakMiB.toFixed(0)} MiB after the fill, ${x.peakRssMiB.toFixed(0)} MiB after the rounds`,
    })),
};
