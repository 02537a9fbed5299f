// Read bisection (issue 10): where does an authenticated cached read (GET /v1/secret/foo, root
// token, dev server, in-memory storage) spend its CPU compared with a bare node:http server?
// One bench/bisect-server.mjs process per stage, each adding one real step back:
//   bare          node:http writeHead + end(Buffer) of the real answer's bytes (on the project's listener)
//   bare+headers  + reading the token header and the socket's remote address
//   send          + the project's sendJson (its header list, Buffer.from per request) and nextRequestId
//   edge          the real createRequestHandler over a stub core (answerNow: a fixed Response)
//   core          the real createRequestHandler over the real core: the full path
//   nomad         the dev server's own listener: a control that should equal core
// All are driven by `wrk -t1 -c<C> -d<D>s` in alternating rounds (the order rotates every round);
// the figure is each server's CPU time per request (utime+stime from /proc/<pid>/stat over the
// wrk run ÷ the requests wrk completed), with req/s beside it.
//   node bench/run.mjs --only=bisect [--rounds=5] [--duration=5] [--stages=bare,…] [--node=PATH] [--cpu-prof]
// --cpu-prof runs the stage servers with `node --cpu-prof --cpu-prof-dir=<tmp>/<stage>` and prints
// where the profiles are (the profiler costs CPU too: compare those numbers only with each other).
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverNode } from './lib/devserver.mjs';
import { request } from './lib/net.mjs';
import { spawnTracked, stopChild, waitForOutput } from './lib/proc.mjs';
import { compareSummaries, describeRatio, maxForeignShare, runAlternatingRounds, summariseRounds } from './lib/rounds.mjs';
import { max, min } from './lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const SERVER = path.join(HERE, 'bisect-server.mjs');
const ROOT_TOKEN = 'bench-root-token';
const READ_PATH = '/v1/secret/foo';
/** In the order each adds one step back (keep in step with bisect-server.mjs STAGES). */
export const STAGES = ['bare', 'bare+headers', 'send', 'edge', 'core', 'core-twice', 'nomad'];
const WHAT = {
  bare: 'writeHead + end(Buffer), 2 headers',
  'bare+headers': '+ token header, remoteAddress',
  send: '+ sendJson, nextRequestId',
  edge: 'createRequestHandler, stub core',
  core: 'createRequestHandler, real core',
  nomad: "dev server's own listener: control",
};

/** "bare,core" -> ['bare', 'core'] (all stages when empty); throws on an unknown or repeated one. */
export function parseStages(text) {
  if (!text) return [...STAGES];
  const chosen = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of chosen) if (!STAGES.includes(s)) throw new Error(`--stages: unknown stage '${s}' (known: ${STAGES.join(', ')})`);
  if (new Set(chosen).size !== chosen.length) throw new Error(`--stages: a stage is listed twice in '${text}'`);
  if (chosen.length === 0) throw new Error('--stages: no stage given');
  return chosen;
}

async function startStage(stage, node, nodeArgs) {
  const handle = spawnTracked(node, [...nodeArgs, SERVER, `--stage=${stage}`], { cwd: ROOT });
  const m = await waitForOutput(handle, /listening (http:\/\/\S+) .*body-bytes=(\d+)/, 30000);
  return { stage, url: m[1], bodyBytes: Number(m[2]), handle, pid: handle.child.pid };
}

/** Every stage must answer 200 with a body as long as the real one, holding the secret. */
async function checkStage(s, bodyBytes, auth) {
  const r = await request(`${s.url}${READ_PATH}`, { headers: auth });
  if (r.status !== 200) throw new Error(`stage ${s.stage}: GET ${READ_PATH} answered ${r.status}: ${r.body}`);
  if (r.body.length !== bodyBytes) throw new Error(`stage ${s.stage}: ${r.body.length}-byte answer, expected ${bodyBytes}: ${r.body}`);
  if (JSON.parse(r.body.toString('utf8'))?.data?.value !== 'bar') throw new Error(`stage ${s.stage}: unexpected answer ${r.body}`);
  return r;
}

/** Per-round paired differences ours − prev of CPU µs per request (same round, back to back). */
function pairedDeltas(ours, prev) {
  const n = Math.min(ours.rounds.length, prev.rounds.length);
  const out = [];
  for (let i = 0; i < n; i++) {
    const a = ours.rounds[i].cpuUs;
    const b = prev.rounds[i].cpuUs;
    if (Number.isFinite(a) && Number.isFinite(b)) out.push(a - b);
  }
  return out;
}

const sign = (x) => (Math.abs(x) < 0.05 ? '±0.0' : `${x > 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`);
const us1 = (x) => (x === null || x === undefined ? '?' : x.toFixed(1));
const int = (x) => Math.round(x).toLocaleString('en-US');

/**
 * opts: { duration, rounds, connections, warmup, maxForeign, node?, stages?, cpuProf? }.
 * Resolves { stages, summary: { [stage]: summariseRounds() & { deltaUs?, deltaMin?, deltaMax? } },
 *   bodyBytes, node, cpuRatio (bare/core CPU per request) & Min/Max, rpsRatio, profiles?, … }.
 */
export async function benchBisect(opts, log = console.log) {
  const { duration, rounds, connections, warmup } = opts;
  const maxForeignPct = opts.maxForeign ?? 15;
  const stages = parseStages(opts.stages);
  const node = serverNode(opts.node);
  const profRoot = opts.cpuProf ? mkdtempSync(path.join(tmpdir(), 'nomad-bisect-prof-')) : null;
  const auth = { 'X-Nomad-Token': ROOT_TOKEN };
  const servers = [];
  let profiles;
  try {
    for (const stage of stages) {
      let nodeArgs = [];
      if (profRoot) {
        const dir = path.join(profRoot, stage);
        mkdirSync(dir, { recursive: true });
        nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
      }
      servers.push(await startStage(stage, node.path, nodeArgs));
    }
    const bodyBytes = servers[0].bodyBytes;
    for (const s of servers) {
      if (s.bodyBytes !== bodyBytes) throw new Error(`stage ${s.stage} answers ${s.bodyBytes} bytes, stage ${servers[0].stage} ${bodyBytes}`);
      await checkStage(s, bodyBytes, auth);
      log(`  ${s.stage.padEnd(12)} ${s.url}  pid ${s.pid}  (${WHAT[s.stage]})`);
    }
    log(
      `node ${node.version} (${node.path}); every stage answers GET ${READ_PATH} 200 with ${bodyBytes} bytes. ` +
        `wrk -t1 -c${connections} --latency -H 'X-Nomad-Token: …'; warm-up ${warmup}s each, then ${rounds} round(s) of ${duration}s per stage, ` +
        'the order rotating each round; CPU/req = the stage server\'s utime+stime over the wrk run ÷ requests wrk completed',
    );
    if (profRoot) log(`  --cpu-prof: the servers run under the V8 profiler, which costs CPU too; profiles go to ${profRoot}/<stage>/`);

    const targets = servers.map((s) => ({ name: s.stage, url: `${s.url}${READ_PATH}`, headers: auth, pid: s.pid }));
    const pids = targets.map((t) => t.pid);
    const { results, redone } = await runAlternatingRounds({ targets, pids, connections, warmup, duration, rounds, maxForeignPct, log, label: 'bisect', order: 'rotate' });

    const summary = {};
    let prev = null;
    for (const stage of stages) {
      const s = summariseRounds(results[stage]);
      if (prev && s.cpuUs !== null && summary[prev].cpuUs !== null) {
        const d = pairedDeltas(s, summary[prev]);
        Object.assign(s, { deltaUs: s.cpuUs - summary[prev].cpuUs, deltaMin: d.length ? min(d) : null, deltaMax: d.length ? max(d) : null });
      }
      summary[stage] = s;
      prev = stage;
    }
    const out = { stages, summary, bodyBytes, node: node.version, nodePath: node.path, rounds, duration, connections, redone, cpuProf: Boolean(profRoot) };
    if (summary.bare && summary.core) {
      const c = compareSummaries(summary.core, summary.bare); // cpu: bare / core CPU per request
      Object.assign(out, { cpuRatio: c.cpu, cpuRatioMin: c.cpuMin, cpuRatioMax: c.cpuMax, rpsRatio: c.rps, rpsRatioMin: c.rpsMin, rpsRatioMax: c.rpsMax });
      out.gapUs = summary.core.cpuUs !== null && summary.bare.cpuUs !== null ? summary.core.cpuUs - summary.bare.cpuUs : null;
    }
    if (summary.core && summary.nomad) {
      const c = compareSummaries(summary.nomad, summary.core); // cpu: core / nomad
      Object.assign(out, { controlRatio: c.cpu, controlRatioMin: c.cpuMin, controlRatioMax: c.cpuMax });
    }
    out.maxForeignPct = maxForeignShare(results, maxForeignPct, log);
    for (const line of table(out)) log(line);
    return out;
  } finally {
    await Promise.all(servers.map((s) => stopChild(s.handle)));
    if (profRoot) {
      profiles = listProfiles(profRoot, stages);
      log('  CPU profiles (written as the servers exited):');
      for (const [stage, files] of Object.entries(profiles)) log(`    ${stage.padEnd(12)} ${files.length ? files.join(', ') : '(none written)'}`);
      log(`  summarise one with: node bench/profile-summary.mjs ${path.join(profRoot, stages.at(-1))} [--top=N] [--inclusive]`);
    }
  }
}

function listProfiles(root, stages) {
  const out = {};
  for (const stage of stages) {
    const dir = path.join(root, stage);
    try {
      out[stage] = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
    } catch {
      out[stage] = [];
    }
  }
  return out;
}

/** The result as a markdown table, plus the bare/core ratio and the control. */
function table(r) {
  const gap = r.gapUs;
  const bareIdx = r.stages.indexOf('bare');
  const coreIdx = r.stages.indexOf('core');
  // Each step's Δ as a share of the whole bare→core gap, when the stages run from bare to core.
  const showShare = gap !== null && gap !== undefined && gap > 0 && bareIdx < coreIdx;
  const lines = [
    '',
    `  CPU per request by stage: median (min–max) of ${r.rounds} round(s) of ${r.duration}s; Δ = this stage's median − the one above's (in brackets: min–max of the per-round differences)`,
    '',
    `| stage | CPU µs/req median (min–max) | Δ vs previous stage | ${showShare ? 'share of bare→core | ' : ''}req/s median |`,
    `|---|---|---|${showShare ? '---|' : ''}---|`,
  ];
  r.stages.forEach((stage, i) => {
    const s = r.summary[stage];
    const cpu = s.cpuUs === null ? '?' : `${us1(s.cpuUs)} (${us1(s.cpuUsMin)}–${us1(s.cpuUsMax)})`;
    const delta =
      s.deltaUs === undefined ? '–' : `${sign(s.deltaUs)} µs${s.deltaMin === null ? '' : ` (${sign(s.deltaMin)} to ${sign(s.deltaMax)})`}`;
    const inGap = showShare && i > bareIdx && i <= coreIdx && s.deltaUs !== undefined;
    const share = showShare ? `${inGap ? `${Math.round((100 * s.deltaUs) / gap)}%` : '–'} | ` : '';
    lines.push(`| ${stage} | ${cpu} | ${delta} | ${share}${int(s.rps)} (${int(s.rpsMin)}–${int(s.rpsMax)}) |`);
  });
  lines.push('');
  if (r.cpuRatio !== undefined) {
    lines.push(`  CPU per request bare/core: ${describeRatio(r.cpuRatio, r.cpuRatioMin, r.cpuRatioMax)} (per-round min–max) · req/s core/bare: ${describeRatio(r.rpsRatio, r.rpsRatioMin, r.rpsRatioMax)}`);
  }
  if (r.controlRatio !== undefined) lines.push(`  control: CPU per request core/nomad ${describeRatio(r.controlRatio, r.controlRatioMin, r.controlRatioMax)} (1 = the second listener costs what the product's does)`);
  if (r.cpuProf) lines.push('  (run under --cpu-prof: every figure includes the profiler\'s own cost)');
  return lines;
}

/** Descriptor used by bench/run.mjs (run only when asked for: --only=bisect). */
export const benchmark = {
  id: 'bisect',
  title: `Bisect: CPU per request of GET ${READ_PATH}, from a bare node:http answer to the full nomad-api path, stage by stage`,
  needsWrk: true,
  onlyWhenAsked: true,
  run: benchBisect,
  describe: (o) =>
    `bisect: stages ${parseStages(o.stages).join(', ')}; wrk -t1 -c${o.connections}, ${o.warmup}s warm-up + ${o.rounds} × ${o.duration}s per stage, order rotating; ` +
    `CPU/req = stage server utime+stime ÷ wrk's requests${o.cpuProf ? '; under --cpu-prof' : ''}`,
  summaryRows: (r) => [
    ...r.stages.map((stage) => {
      const s = r.summary[stage];
      const delta = s.deltaUs === undefined ? '' : ` · Δ ${sign(s.deltaUs)} µs vs previous`;
      return {
        what: `bisect ${stage} (${WHAT[stage]}), median (min–max) of ${r.rounds}`,
        result: `${us1(s.cpuUs)} µs CPU/req (${us1(s.cpuUsMin)}–${us1(s.cpuUsMax)})${delta} · ${int(s.rps)} req/s`,
      };
    }),
    ...(r.cpuRatio !== undefined ? [{ what: 'bisect CPU per request, bare / core (per-round min–max)', result: describeRatio(r.cpuRatio, r.cpuRatioMin, r.cpuRatioMax) }] : []),
    ...(r.controlRatio !== undefined ? [{ what: 'bisect control: CPU per request, core / nomad (per-round min–max)', result: describeRatio(r.controlRatio, r.controlRatioMin, r.controlRatioMax) }] : []),
    ...(r.maxForeignPct === null ? [] : [{ what: 'bisect: max CPU used by other processes during a kept round', result: `${r.maxForeignPct.toFixed(0)}% of the machine (${r.redone} round(s) redone)` }]),
  ],
};
