// Alternating wrk rounds shared by the read and ACL benchmarks: every target gets a warm-up,
// then each round measures every target once, and a round is redone (up to twice) when
// other processes on this shared machine took a noticeable share of the CPU meanwhile.
import { cpuDelta, cpuSnapshot, measureUncontended } from './cpu.mjs';
import { max, median } from './stats.mjs';
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

/**
 * targets: [{ name, url, headers }]. pids: the server processes (their CPU is not "foreign").
 * flipOrder: alternate which target goes first in each round.
 * Returns { results: { [name]: wrkResult[] }, redone }.
 */
export async function runAlternatingRounds({ targets, pids, connections, warmup, duration, rounds, maxForeignPct, log, label, flipOrder = false }) {
  const width = Math.max(...targets.map((t) => t.name.length));
  const measure = async (t, seconds, roundLabel) => {
    const before = cpuSnapshot(pids);
    const r = await runWrk(t.url, { threads: 1, connections, headers: t.headers, duration: seconds });
    const cpu = cpuDelta(before, cpuSnapshot(pids));
    r.foreignPct = cpu?.foreignPct ?? null;
    assertClean(`${label} ${t.name} ${roundLabel}`, r);
    const other = r.foreignPct === null ? '' : `  other procs ${r.foreignPct.toFixed(0)}%${r.foreignPct >= maxForeignPct ? ' (!)' : ''}`;
    log(`  ${roundLabel.padEnd(8)} ${t.name.padEnd(width)} ${describeWrk(r)}${other}`);
    return r;
  };
  for (const t of targets) await measure(t, warmup, 'warm-up');
  const results = Object.fromEntries(targets.map((t) => [t.name, []]));
  let redone = 0;
  for (let i = 1; i <= rounds; i++) {
    const order = flipOrder && i % 2 === 0 ? [...targets].reverse() : targets;
    const { value: pair, attempts } = await measureUncontended(
      async () => {
        const pair = {};
        for (const t of order) pair[t.name] = await measure(t, duration, `round ${i}`);
        return pair;
      },
      { pids: () => pids, maxForeignPct, label: `  round ${i}`, log },
    );
    redone += attempts - 1;
    for (const t of targets) results[t.name].push(pair[t.name]);
  }
  return { results, redone };
}

/** Medians of a target's rounds, with the rounds kept for the report. */
export function summariseRounds(rs) {
  return {
    rounds: rs.map((r) => ({ rps: r.rps, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, requests: r.requests, foreignPct: r.foreignPct })),
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.latency.p50)),
    p99: median(rs.map((r) => r.latency.p99)),
    requests: rs.reduce((a, r) => a + (r.requests ?? 0), 0),
  };
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
