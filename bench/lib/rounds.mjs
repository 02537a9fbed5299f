// Alternating wrk rounds shared by the read and ACL benchmarks: every target gets a warm-up,
// then each round measures every target once, and a round is redone (up to twice) when
// other processes on this shared machine took a noticeable share of the CPU meanwhile.
// Each wrk run records the serving process's CPU time per request (lib/cpu.mjs cpuMeter)
// beside wrk's req/s: on this shared 2-core box the CPU figure is the one of record.
import { cpuDelta, cpuMeter, cpuSnapshot, measureUncontended } from './cpu.mjs';
import { max, median, min } from './stats.mjs';
import { describeWrk, runWrk } from './wrk.mjs';

/** Throws when wrk saw errors: the numbers would mean nothing. */
export function assertClean(label, r) {
  const errs = r.socketErrors;
  const socketErrs = errs.connect + errs.read + errs.write + errs.timeout;
  if (r.non2xx !== 0 || socketErrs !== 0) {
    throw new Error(
      `${label}: wrk saw ${r.non2xx} non-2xx/3xx responses and socket errors ${JSON.stringify(errs)}; ` +
        `the numbers would be meaningless.\nwrk ${r.args.join(' ')}\n${r.raw}`,
    );
  }
}

/** The order of the targets in round i (1-based): 'fixed', 'flip' (reversed every other round) or 'rotate' (by one each round). */
function roundOrder(targets, i, order) {
  if (order === 'flip') return i % 2 === 0 ? [...targets].reverse() : targets;
  if (order === 'rotate') {
    const k = (i - 1) % targets.length;
    return [...targets.slice(k), ...targets.slice(0, k)];
  }
  return targets;
}

/**
 * targets: [{ name, url, headers, pid }] (pid: the process serving that target; its CPU time
 * over each wrk run is divided by the requests wrk completed). pids: the server processes
 * (their CPU is not "foreign"). order: 'fixed' | 'flip' | 'rotate' (see roundOrder).
 * Returns { results: { [name]: wrkResult[] } (each with cpuUs, cpuMs), redone }.
 */
export async function runAlternatingRounds({ targets, pids, connections, warmup, duration, rounds, maxForeignPct, log, label, order = 'fixed' }) {
  const width = Math.max(...targets.map((t) => t.name.length));
  const measure = async (t, seconds, roundLabel) => {
    const before = cpuSnapshot(pids);
    const meter = cpuMeter(t.pid);
    const r = await runWrk(t.url, { threads: 1, connections, headers: t.headers, duration: seconds });
    Object.assign(r, meter(r.requests));
    const cpu = cpuDelta(before, cpuSnapshot(pids));
    r.foreignPct = cpu?.foreignPct ?? null;
    assertClean(`${label} ${t.name} ${roundLabel}`, r);
    const other = r.foreignPct === null ? '' : `  other procs ${r.foreignPct.toFixed(0)}%${r.foreignPct >= maxForeignPct ? ' (!)' : ''}`;
    log(`  ${roundLabel.padEnd(8)} ${t.name.padEnd(width)} ${fmtCpu(r.cpuUs).padStart(8)} CPU/req ${describeWrk(r)}${other}`);
    return r;
  };
  for (const t of targets) await measure(t, warmup, 'warm-up');
  const results = Object.fromEntries(targets.map((t) => [t.name, []]));
  let redone = 0;
  for (let i = 1; i <= rounds; i++) {
    const { value: pair, attempts } = await measureUncontended(
      async () => {
        const pair = {};
        for (const t of roundOrder(targets, i, order)) pair[t.name] = await measure(t, duration, `round ${i}`);
        return pair;
      },
      { pids: () => pids, maxForeignPct, label: `  round ${i}`, log },
    );
    redone += attempts - 1;
    for (const t of targets) results[t.name].push(pair[t.name]);
  }
  return { results, redone };
}

const known = (xs) => xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x));
const spread = (xs) => (xs.length ? { median: median(xs), min: min(xs), max: max(xs) } : { median: null, min: null, max: null });

/**
 * Medians of a target's rounds, with min–max spreads and the rounds kept for the report.
 * cpuUs: the server's CPU µs per request (null when /proc could not tell).
 */
export function summariseRounds(rs) {
  const rps = spread(rs.map((r) => r.rps));
  const cpu = spread(known(rs.map((r) => r.cpuUs)));
  return {
    rounds: rs.map((r) => ({ rps: r.rps, cpuUs: r.cpuUs, cpuMs: r.cpuMs, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, requests: r.requests, foreignPct: r.foreignPct })),
    rps: rps.median,
    rpsMin: rps.min,
    rpsMax: rps.max,
    cpuUs: cpu.median,
    cpuUsMin: cpu.min,
    cpuUsMax: cpu.max,
    p50: median(rs.map((r) => r.latency.p50)),
    p99: median(rs.map((r) => r.latency.p99)),
    requests: rs.reduce((a, r) => a + (r.requests ?? 0), 0),
  };
}

/**
 * `ours` against a reference `ref` (two summariseRounds results from the same rounds):
 * rps = ours / ref req/s, cpu = ref / ours CPU per request (both: higher is better for ours,
 * 1 = as cheap as the reference), each the ratio of the medians, with the min–max of the
 * per-round ratios (rounds are paired: same round, back to back).
 */
export function compareSummaries(ours, ref) {
  const n = Math.min(ours.rounds.length, ref.rounds.length);
  const pairs = (f) => known(Array.from({ length: n }, (_, i) => f(ours.rounds[i], ref.rounds[i])));
  const rpsRounds = pairs((o, r) => o.rps / r.rps);
  const cpuRounds = pairs((o, r) => (o.cpuUs && r.cpuUs ? r.cpuUs / o.cpuUs : null));
  return {
    rps: ours.rps / ref.rps,
    rpsMin: rpsRounds.length ? min(rpsRounds) : null,
    rpsMax: rpsRounds.length ? max(rpsRounds) : null,
    cpu: ours.cpuUs && ref.cpuUs ? ref.cpuUs / ours.cpuUs : null,
    cpuMin: cpuRounds.length ? min(cpuRounds) : null,
    cpuMax: cpuRounds.length ? max(cpuRounds) : null,
  };
}

/** 23.41 -> "23.4 µs"; null -> "? µs" */
export const fmtCpu = (x) => (x === null || x === undefined ? '? µs' : `${x.toFixed(1)} µs`);
const fmtRange = (lo, hi, f) => (lo === null || hi === null ? '' : ` (${f(lo)}–${f(hi)})`);
const int = (x) => Math.round(x).toLocaleString('en-US');

/** One summary cell: "23.4 µs CPU/req (22.9–24.1) · 41,234 req/s (38,900–44,010) · p50 1.20 ms · p99 2.10 ms" */
export function describeSummary(s) {
  const cpu = s.cpuUs === null ? 'CPU/req unknown' : `${fmtCpu(s.cpuUs)} CPU/req${fmtRange(s.cpuUsMin, s.cpuUsMax, (x) => x.toFixed(1))}`;
  return `${cpu} · ${int(s.rps)} req/s${fmtRange(s.rpsMin, s.rpsMax, int)} · p50 ${s.p50.toFixed(2)} ms · p99 ${s.p99.toFixed(2)} ms`;
}

/** "0.81 (0.74–0.88)" for a ratio and its per-round spread; "?" when unknown. */
export function describeRatio(x, lo, hi) {
  return x === null || x === undefined ? '?' : `${x.toFixed(2)}${fmtRange(lo, hi, (v) => v.toFixed(2))}`;
}

/**
 * The largest share of the machine other processes took during any kept round (null when
 * /proc could not tell), with a warning logged when it reached `maxForeignPct`.
 */
export function maxForeignShare(results, maxForeignPct, log) {
  const foreign = Object.values(results).flat().map((r) => r.foreignPct).filter((x) => x !== null);
  const worst = foreign.length ? max(foreign) : null;
  if (worst !== null && worst >= maxForeignPct) {
    log(`  warning: other processes used up to ${worst.toFixed(0)}% of the machine during a measured round; numbers are skewed`);
  }
  return worst;
}
