// Read benchmark: GET /v1/secret/foo on the nomad-api dev server versus a bare node:http
// server (bench/bare-server.mjs) answering a JSON body of the same byte length.
// Both are driven by `wrk -t1 -c<C> -d<D>s --latency` in alternating rounds within one run.
// The figure of record is each server's CPU time per request (utime + stime from
// /proc/<pid>/stat over a wrk run ÷ the requests wrk completed), reported beside req/s:
// req/s on this shared 2-core box moves with whatever else runs, CPU per request far less.
// With --baseline=DIR (another built checkout) its dev server is a third target in the same
// rounds (bare, baseline, this tree; the order rotates every round), for a before/after.
// With --node=PATH every server runs on that node binary.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkoutRoot, serverNode, startDevServer } from './lib/devserver.mjs';
import { request } from './lib/net.mjs';
import { spawnTracked, stopChild, waitForOutput } from './lib/proc.mjs';
import { compareSummaries, describeRatio, describeSummary, fmtCpu, maxForeignShare, runAlternatingRounds, summariseRounds } from './lib/rounds.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT_TOKEN = 'bench-root-token';
export const READ_PATH = '/v1/secret/foo';
/** Target on the figure of record: bare CPU per request / nomad CPU per request. */
export const TARGET_RATIO = 0.75;

/**
 * Start bench/bare-server.mjs answering `bodyBytes`-byte JSON; resolves { url, handle }.
 * node: the node binary (default: the one running the bench).
 */
export async function startBareServer(bodyBytes, nodeArgs = [], { node = process.execPath } = {}) {
  const handle = spawnTracked(node, [...nodeArgs, path.join(HERE, 'bare-server.mjs'), `--body-bytes=${bodyBytes}`]);
  const m = await waitForOutput(handle, /listening (http:\/\/\S+)/);
  return { url: m[1], handle };
}

export { assertClean } from './lib/rounds.mjs';

/** Write secret/foo on a dev server and read it back; resolves the answer's byte length. */
async function prepareNomad(server, auth) {
  const put = await request(`${server.url}${READ_PATH}`, { method: 'POST', headers: auth, body: { value: 'bar' } });
  if (put.status !== 204 && put.status !== 200) throw new Error(`writing ${READ_PATH} answered ${put.status}: ${put.body}`);
  const get = await request(`${server.url}${READ_PATH}`, { headers: auth });
  if (get.status !== 200) throw new Error(`GET ${READ_PATH} answered ${get.status}: ${get.body}`);
  const parsed = JSON.parse(get.body.toString('utf8'));
  if (parsed?.data?.value !== 'bar') throw new Error(`GET ${READ_PATH} returned unexpected body: ${get.body}`);
  return get.body.length;
}

/**
 * opts: { duration, rounds, connections, warmup, maxForeign, baseline?, node? }. log: line printer.
 * Resolves { bodyBytes, node, bare: summary, nomad: summary, baseline?: summary & { root },
 *   ratio (nomad/bare req/s), ratioMin/Max, cpuRatio (bare/nomad CPU per request), cpuRatioMin/Max,
 *   baselineRatio?, baselineCpuRatio?, cpuChange? (nomad vs baseline CPU per request, −0.05 = 5% less),
 *   target, redone, maxForeignPct } where summary = lib/rounds.mjs summariseRounds().
 */
export async function benchRead(opts, log = console.log) {
  const { duration, rounds, connections, warmup } = opts;
  const maxForeignPct = opts.maxForeign ?? 15;
  const node = serverNode(opts.node);
  const baselineRoot = opts.baseline ? checkoutRoot(opts.baseline) : null;
  const servers = [];
  let bare;
  try {
    const auth = { 'X-Nomad-Token': ROOT_TOKEN };
    const nomad = await startDevServer({ rootToken: ROOT_TOKEN, node: node.path });
    servers.push(nomad);
    const bodyBytes = await prepareNomad(nomad, auth);
    log(`nomad-api dev server (this tree) at ${nomad.url}, node ${node.version}; GET ${READ_PATH} -> 200, ${bodyBytes}-byte body`);

    let baseline;
    if (baselineRoot) {
      baseline = await startDevServer({ rootToken: ROOT_TOKEN, root: baselineRoot, node: node.path });
      servers.push(baseline);
      const baseBytes = await prepareNomad(baseline, auth);
      log(`nomad-api dev server (baseline ${baselineRoot}) at ${baseline.url}; GET ${READ_PATH} -> 200, ${baseBytes}-byte body`);
      if (baseBytes !== bodyBytes) log(`  note: the baseline answers ${baseBytes} bytes, this tree ${bodyBytes}; the bare server answers ${bodyBytes}`);
    }

    bare = await startBareServer(bodyBytes, [], { node: node.path });
    const bareCheck = await request(`${bare.url}/`);
    if (bareCheck.status !== 200 || bareCheck.body.length !== bodyBytes) {
      throw new Error(`bare server answered ${bareCheck.status} with ${bareCheck.body.length} bytes, expected 200 with ${bodyBytes}`);
    }
    log(`bare node:http server at ${bare.url}; GET / -> 200, ${bareCheck.body.length}-byte body`);

    // Same request bytes to all: the bare server just ignores the token header.
    const targets = [
      { name: 'bare', url: `${bare.url}${READ_PATH}`, headers: auth, pid: bare.handle.child.pid },
      ...(baseline ? [{ name: 'baseline', url: `${baseline.url}${READ_PATH}`, headers: auth, pid: baseline.handle.child.pid }] : []),
      { name: 'nomad', url: `${nomad.url}${READ_PATH}`, headers: auth, pid: nomad.handle.child.pid },
    ];
    const order = baseline ? 'rotate' : 'fixed';
    log(
      `wrk -t1 -c${connections} --latency -H 'X-Nomad-Token: …' (same request to every server); warm-up ${warmup}s each, then ${rounds} round(s) of ${duration}s per server, ` +
        `alternating${order === 'rotate' ? ' (the order rotates each round)' : ''}; CPU/req = the server's utime+stime over the wrk run ÷ requests wrk completed`,
    );
    const pids = targets.map((t) => t.pid);
    const { results, redone } = await runAlternatingRounds({ targets, pids, connections, warmup, duration, rounds, maxForeignPct, log, label: 'read', order });
    const out = {
      bodyBytes,
      connections,
      duration,
      rounds,
      node: node.version,
      bare: summariseRounds(results.bare),
      nomad: summariseRounds(results.nomad),
      target: TARGET_RATIO,
      redone,
    };
    const vsBare = compareSummaries(out.nomad, out.bare);
    Object.assign(out, { ratio: vsBare.rps, ratioMin: vsBare.rpsMin, ratioMax: vsBare.rpsMax, cpuRatio: vsBare.cpu, cpuRatioMin: vsBare.cpuMin, cpuRatioMax: vsBare.cpuMax });
    if (baseline) {
      out.baseline = { root: baselineRoot, ...summariseRounds(results.baseline) };
      const b = compareSummaries(out.baseline, out.bare);
      Object.assign(out, { baselineRatio: b.rps, baselineRatioMin: b.rpsMin, baselineRatioMax: b.rpsMax, baselineCpuRatio: b.cpu, baselineCpuRatioMin: b.cpuMin, baselineCpuRatioMax: b.cpuMax });
      const change = compareSummaries(out.baseline, out.nomad); // its cpu: nomad / baseline CPU per request
      Object.assign(out, { cpuChange: change.cpu === null ? null : change.cpu - 1, cpuChangeMin: change.cpuMin === null ? null : change.cpuMin - 1, cpuChangeMax: change.cpuMax === null ? null : change.cpuMax - 1 });
    }
    log('  medians (min–max over rounds):');
    for (const name of targets.map((t) => t.name)) log(`    ${name.padEnd(8)} ${describeSummary(out[name])}`);
    log(`    nomad:    CPU/req bare/nomad ${describeRatio(out.cpuRatio, out.cpuRatioMin, out.cpuRatioMax)} · req/s nomad/bare ${describeRatio(out.ratio, out.ratioMin, out.ratioMax)}`);
    if (baseline) {
      log(`    baseline: CPU/req bare/baseline ${describeRatio(out.baselineCpuRatio, out.baselineCpuRatioMin, out.baselineCpuRatioMax)} · req/s baseline/bare ${describeRatio(out.baselineRatio, out.baselineRatioMin, out.baselineRatioMax)}`);
      log(`    this tree vs baseline: CPU/req ${describeChange(out)}`);
    }
    out.maxForeignPct = maxForeignShare(results, maxForeignPct, log);
    return out;
  } catch (err) {
    if (err instanceof Error && !err.message.includes('dev server (pid')) for (const s of servers) err.message += `\n${s.describeFailure()}`;
    throw err;
  } finally {
    await Promise.all([...servers.map((s) => s.stop()), bare && stopChild(bare.handle)]);
  }
}

/** −0.052 -> "−5.2%", null -> "?" */
const fmtChange = (x) => (x === null || x === undefined ? '?' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`);
/** "+1.9% (per round −3.0% to +6.1%; 23.7 µs vs 23.3 µs)" */
const describeChange = (r) =>
  `${fmtChange(r.cpuChange)} (${r.cpuChangeMin === null ? '' : `per round ${fmtChange(r.cpuChangeMin)} to ${fmtChange(r.cpuChangeMax)}; `}${fmtCpu(r.nomad.cpuUs)} vs ${fmtCpu(r.baseline.cpuUs)})`;

/** Descriptor used by bench/run.mjs. */
export const benchmark = {
  id: 'read',
  title: `Read: GET ${READ_PATH} on nomad-api vs a bare node:http server (CPU per request and req/s)`,
  needsWrk: true,
  run: benchRead,
  describe: (o) =>
    `read: wrk -t1 -c${o.connections}, ${o.warmup}s warm-up + ${o.rounds} × ${o.duration}s per server, alternating` +
    `${o.baseline ? ` (bare, baseline ${o.baseline}, this tree; order rotating)` : ''}; CPU/req = server utime+stime ÷ wrk's requests`,
  summaryRows: (r) => [
    { what: `read, bare node:http (${r.bodyBytes}-byte JSON), median (min–max) of ${r.rounds}`, result: describeSummary(r.bare) },
    ...(r.baseline ? [{ what: `read, baseline nomad-api (${r.baseline.root}) GET ${READ_PATH}, median (min–max) of ${r.rounds}`, result: describeSummary(r.baseline) }] : []),
    { what: `read, nomad-api${r.baseline ? ' (this tree)' : ''} GET ${READ_PATH}, median (min–max) of ${r.rounds}`, result: describeSummary(r.nomad) },
    {
      what: 'read CPU per request, bare / nomad (figure of record; per-round min–max)',
      result: describeRatio(r.cpuRatio, r.cpuRatioMin, r.cpuRatioMax),
      ...(r.cpuRatio === null ? {} : { target: `≥ ${r.target}`, met: r.cpuRatio >= r.target }),
    },
    { what: 'read req/s, nomad / bare (per-round min–max)', result: describeRatio(r.ratio, r.ratioMin, r.ratioMax) },
    ...(r.baseline
      ? [
          { what: 'read CPU per request, bare / baseline (per-round min–max)', result: describeRatio(r.baselineCpuRatio, r.baselineCpuRatioMin, r.baselineCpuRatioMax) },
          { what: 'read req/s, baseline / bare (per-round min–max)', result: describeRatio(r.baselineRatio, r.baselineRatioMin, r.baselineRatioMax) },
          { what: 'read CPU per request, this tree vs baseline (− = cheaper)', result: describeChange(r) },
        ]
      : []),
    ...(r.maxForeignPct === null ? [] : [{ what: 'read: max CPU used by other processes during a kept round', result: `${r.maxForeignPct.toFixed(0)}% of the machine (${r.redone} round(s) redone)` }]),
  ],
};
