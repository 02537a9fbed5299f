// Audit benchmark (issue 13): the authenticated read `GET /v1/secret/foo` on two dev servers in
// the same rounds, alternating: one with no audit device, one with a `file` device writing to
// a temporary file (every request and response hashed, chained and appended). The figure is
// req/s with audit ÷ req/s without (target ≥ 0.6), with each server's CPU per request.
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cpuMeter } from './lib/cpu.mjs';
import { serverNode, startDevServer } from './lib/devserver.mjs';
import { request } from './lib/net.mjs';
import { assertClean } from './lib/rounds.mjs';
import { median } from './lib/stats.mjs';
import { runWrk } from './lib/wrk.mjs';

const ROOT_TOKEN = 'bench-root-token';
const READ_PATH = '/v1/secret/foo';
export const TARGET_RATIO = 0.6;

async function ok(server, method, apiPath, body) {
  const res = await request(`${server.url}/v1/${apiPath}`, { method, headers: { 'X-Nomad-Token': ROOT_TOKEN }, body });
  if (res.status >= 300) throw new Error(`${method} ${apiPath} answered ${res.status}: ${res.body}`);
}

/**
 * Writes and deletes `bytes` of file in `dir` first. On a freshly booted VM (this one), the
 * first touch of a guest page is a fault in the host: appending to the page cache cost 4.3 µs
 * per 1.4 KB until about 300 MB had been written, then 0.7 µs once the memory had been touched
 * (BENCHMARKS.md). Only the audited server writes the page cache, so without this the ratio
 * measured the VM's first touch, not the server. The log the bench writes is 1–2 GiB.
 */
function touchPageCache(dir, bytes) {
  const file = path.join(dir, 'touch');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20, 0x61);
  for (let written = 0; written < bytes; written += chunk.length) writeSync(fd, chunk);
  closeSync(fd);
  rmSync(file);
}

export async function benchAudit(opts, log = console.log) {
  const { duration, rounds, warmup, connections } = opts;
  const node = serverNode(opts.node);
  const dir = mkdtempSync(path.join(tmpdir(), 'nomad-audit-'));
  const auditFile = path.join(dir, 'audit.log');
  const servers = [];
  try {
    const touchBytes = 3 * 2 ** 30;
    touchPageCache(dir, touchBytes);
    log(`  wrote and deleted ${touchBytes / 2 ** 30} GiB in ${dir} first (a fresh VM's first touch of a page, see touchPageCache)`);
    const plain = await startDevServer({ rootToken: ROOT_TOKEN, node: node.path });
    servers.push({ name: 'no audit', server: plain });
    const audited = await startDevServer({ rootToken: ROOT_TOKEN, node: node.path });
    servers.push({ name: 'file audit', server: audited });
    for (const { server } of servers) await ok(server, 'POST', 'secret/foo', { value: 'bar' });
    await ok(audited, 'POST', 'sys/audit/file', { type: 'file', options: { file_path: auditFile } });

    const results = Object.fromEntries(servers.map((s) => [s.name, []]));
    const measure = async (s, seconds) => {
      const meter = cpuMeter(s.server.handle.child.pid);
      const r = await runWrk(`${s.server.url}${READ_PATH}`, { connections, duration: seconds, headers: { 'X-Nomad-Token': ROOT_TOKEN } });
      const { cpuUs } = meter(r.requests);
      assertClean(`audit ${s.name}`, r);
      return { rps: r.rps, requests: r.requests, cpuUs };
    };
    for (const s of servers) await measure(s, warmup);
    for (let i = 1; i <= rounds; i++) {
      const order = i % 2 === 0 ? [...servers].reverse() : servers;
      for (const s of order) {
        const m = await measure(s, duration);
        results[s.name].push(m);
        log(`  round ${i} ${s.name.padEnd(10)} ${Math.round(m.rps).toLocaleString('en-US').padStart(7)} req/s  ${m.cpuUs.toFixed(1)} µs CPU/request`);
      }
    }
    const summary = Object.fromEntries(Object.entries(results).map(([n, ms]) => [n, { rps: median(ms.map((m) => m.rps)), cpuUs: median(ms.map((m) => m.cpuUs)) }]));
    const perRound = results['file audit'].map((m, i) => m.rps / results['no audit'][i].rps);
    return { summary, ratio: summary['file audit'].rps / summary['no audit'].rps, perRound, auditBytes: statSync(auditFile).size, rounds, node: node.version };
  } finally {
    await Promise.all(servers.map((s) => s.server.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmark = {
  id: 'audit',
  title: 'Audit: the authenticated read with a file audit device against none',
  needsWrk: true,
  run: benchAudit,
  describe: (o) => `audit: wrk -t1 -c${o.connections}, ${o.warmup}s warm-up + ${o.rounds} × ${o.duration}s per server, alternating (no audit, file audit)`,
  summaryRows: (r) => {
    const a = r.summary['file audit'];
    const n = r.summary['no audit'];
    const lo = Math.min(...r.perRound);
    const hi = Math.max(...r.perRound);
    return [
      { what: 'audit read, no device', result: `${Math.round(n.rps).toLocaleString('en-US')} req/s · ${n.cpuUs.toFixed(1)} µs CPU/request` },
      { what: 'audit read, one file device', result: `${Math.round(a.rps).toLocaleString('en-US')} req/s · ${a.cpuUs.toFixed(1)} µs CPU/request · ${(r.auditBytes / 2 ** 20).toFixed(0)} MiB of log written` },
      { what: 'audit read rate, file device / none', result: `${r.ratio.toFixed(2)} (per round ${lo.toFixed(2)}–${hi.toFixed(2)})`, target: `≥ ${TARGET_RATIO}`, met: r.ratio >= TARGET_RATIO },
    ];
  },
};
