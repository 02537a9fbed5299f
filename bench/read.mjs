// Read benchmark: GET /v1/secret/foo on the nomad-api dev server versus a bare node:http
// server (bench/bare-server.mjs) answering a JSON body of the same byte length.
// Both are driven by `wrk -t1 -c<C> -d<D>s --latency` in alternating rounds within one run.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevServer } from './lib/devserver.mjs';
import { request } from './lib/net.mjs';
import { spawnTracked, stopChild, waitForOutput } from './lib/proc.mjs';
import { maxForeignShare, runAlternatingRounds, summariseRounds } from './lib/rounds.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT_TOKEN = 'bench-root-token';
export const READ_PATH = '/v1/secret/foo';
export const TARGET_RATIO = 0.75;

/** Start bench/bare-server.mjs answering `bodyBytes`-byte JSON; resolves { url, handle }. */
export async function startBareServer(bodyBytes, nodeArgs = []) {
  const handle = spawnTracked(process.execPath, [...nodeArgs, path.join(HERE, 'bare-server.mjs'), `--body-bytes=${bodyBytes}`]);
  const m = await waitForOutput(handle, /listening (http:\/\/\S+)/);
  return { url: m[1], handle };
}

export { assertClean } from './lib/rounds.mjs';

/**
 * opts: { duration, rounds, connections, warmup }. log: line printer.
 * Resolves { bodyBytes, bare: {rounds, rps, p50, p99}, nomad: {…}, ratio, target }.
 */
export async function benchRead(opts, log = console.log) {
  const { duration, rounds, connections, warmup } = opts;
  const maxForeignPct = opts.maxForeign ?? 15;
  let nomad;
  let bare;
  try {
    nomad = await startDevServer({ rootToken: ROOT_TOKEN });
    const auth = { 'X-Nomad-Token': ROOT_TOKEN };
    const put = await request(`${nomad.url}${READ_PATH}`, { method: 'POST', headers: auth, body: { value: 'bar' } });
    if (put.status !== 204 && put.status !== 200) throw new Error(`writing ${READ_PATH} answered ${put.status}: ${put.body}`);
    const get = await request(`${nomad.url}${READ_PATH}`, { headers: auth });
    if (get.status !== 200) throw new Error(`GET ${READ_PATH} answered ${get.status}: ${get.body}`);
    const parsed = JSON.parse(get.body.toString('utf8'));
    if (parsed?.data?.value !== 'bar') throw new Error(`GET ${READ_PATH} returned unexpected body: ${get.body}`);
    const bodyBytes = get.body.length;
    log(`nomad-api dev server at ${nomad.url}; GET ${READ_PATH} -> 200, ${bodyBytes}-byte body`);

    bare = await startBareServer(bodyBytes);
    const bareCheck = await request(`${bare.url}/`);
    if (bareCheck.status !== 200 || bareCheck.body.length !== bodyBytes) {
      throw new Error(`bare server answered ${bareCheck.status} with ${bareCheck.body.length} bytes, expected 200 with ${bodyBytes}`);
    }
    log(`bare node:http server at ${bare.url}; GET / -> 200, ${bareCheck.body.length}-byte body`);

    // Same request bytes to both: the bare server just ignores the token header.
    const targets = [
      { name: 'bare', url: `${bare.url}${READ_PATH}`, headers: auth },
      { name: 'nomad', url: `${nomad.url}${READ_PATH}`, headers: auth },
    ];
    log(`wrk -t1 -c${connections} --latency -H 'X-Nomad-Token: …' (same request to both servers); warm-up ${warmup}s each, then ${rounds} round(s) of ${duration}s per server, alternating`);
    const pids = [nomad.handle.child.pid, bare.handle.child.pid];
    const { results, redone } = await runAlternatingRounds({ targets, pids, connections, warmup, duration, rounds, maxForeignPct, log, label: 'read' });
    const out = {
      bodyBytes,
      connections,
      duration,
      rounds,
      bare: summariseRounds(results.bare),
      nomad: summariseRounds(results.nomad),
      target: TARGET_RATIO,
      redone,
    };
    out.ratio = out.nomad.rps / out.bare.rps;
    log(`  medians: bare ${Math.round(out.bare.rps)} req/s, nomad ${Math.round(out.nomad.rps)} req/s, ratio ${out.ratio.toFixed(3)}`);
    out.maxForeignPct = maxForeignShare(results, maxForeignPct, log);
    return out;
  } catch (err) {
    if (nomad && err instanceof Error && !err.message.includes('dev server (pid')) err.message += `\n${nomad.describeFailure()}`;
    throw err;
  } finally {
    await Promise.all([nomad?.stop(), bare && stopChild(bare.handle)]);
  }
}

const ms = (x) => `${x.toFixed(2)} ms`;
const rate = (x) => `${Math.round(x).toLocaleString('en-US')} req/s`;

/** Descriptor used by bench/run.mjs. */
export const benchmark = {
  id: 'read',
  title: `Read: GET ${READ_PATH} on nomad-api vs a bare node:http server`,
  needsWrk: true,
  run: benchRead,
  describe: (o) => `read: wrk -t1 -c${o.connections}, ${o.warmup}s warm-up + ${o.rounds} × ${o.duration}s per server, alternating`,
  summaryRows: (r) => [
    { what: `read, bare node:http (${r.bodyBytes}-byte JSON), median of ${r.rounds}`, result: `${rate(r.bare.rps)} · p50 ${ms(r.bare.p50)} · p99 ${ms(r.bare.p99)}` },
    { what: `read, nomad-api GET ${READ_PATH}, median of ${r.rounds}`, result: `${rate(r.nomad.rps)} · p50 ${ms(r.nomad.p50)} · p99 ${ms(r.nomad.p99)}` },
    { what: 'read ratio nomad / bare', result: r.ratio.toFixed(2), target: `≥ ${r.target}`, met: r.ratio >= r.target },
    ...(r.maxForeignPct === null ? [] : [{ what: 'read: max CPU used by other processes during a kept round', result: `${r.maxForeignPct.toFixed(0)}% of the machine (${r.redone} round(s) redone)` }]),
  ],
};
