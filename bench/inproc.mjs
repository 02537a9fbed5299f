// In-process benchmark: what nomad-api's own code costs per authenticated, cached
// GET /v1/secret/foo, with node:http and the network taken out (bench/inproc-child.mjs drives
// the real request handler over stand-ins for node's request and response). No target: it
// explains the read ratio, whose remainder is node's HTTP machinery and the kernel.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd } from './lib/proc.mjs';
import { max, median, min } from './lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** opts: { inprocRequests?, inprocRounds? }. Resolves { nsPerRequest: [...], median, min, max, bytesPerRequest }. */
export async function benchInproc(opts, log = console.log) {
  const requests = opts.inprocRequests ?? 20000;
  const rounds = opts.inprocRounds ?? 15;
  const r = await runToEnd(process.execPath, [path.join(HERE, 'inproc-child.mjs'), `--requests=${requests}`, `--rounds=${rounds}`]);
  if (r.code !== 0) throw new Error(`inproc-child exited ${r.code}:\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  const result = { ...out, requests, rounds, median: median(out.nsPerRequest), min: min(out.nsPerRequest), max: max(out.nsPerRequest) };
  log(`  ${rounds} rounds of ${requests} requests: min ${result.min.toFixed(0)} · median ${result.median.toFixed(0)} · max ${result.max.toFixed(0)} ns/request; ${result.bytesPerRequest.toFixed(0)} bytes allocated/request`);
  return result;
}

export const benchmark = {
  id: 'inproc',
  title: 'In-process: nomad-api\'s own work per cached read, without node:http or sockets',
  needsWrk: false,
  run: benchInproc,
  describe: (o) => `inproc: ${o.inprocRounds ?? 15} rounds of ${o.inprocRequests ?? 20000} GET /v1/secret/foo through the request handler, in one process`,
  summaryRows: (r) => [
    { what: `in-process cached read, nomad-api's own code (median of ${r.rounds})`, result: `${(r.median / 1000).toFixed(2)} µs/request (min ${(r.min / 1000).toFixed(2)}) · ${Math.round(r.bytesPerRequest).toLocaleString('en-US')} bytes allocated/request` },
  ],
};
