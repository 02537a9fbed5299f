// Cold-start benchmark: wall time from spawning `node bin/nomad-api server -dev` to its first
// 200 answer on GET /v1/sys/health (polled every few ms over node:http), N times. For scale,
// each run is paired with the same measurement on bench/bare-server.mjs (Node's own floor:
// process start + loading node:http + listen).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuDelta, cpuSnapshot, measureUncontended } from './lib/cpu.mjs';
import { startDevServer } from './lib/devserver.mjs';
import { freePort, pollUntil } from './lib/net.mjs';
import { spawnTracked, stopChild } from './lib/proc.mjs';
import { max, median, min } from './lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const TARGET_MEDIAN_MS = 300;

/** Spawn bench/bare-server.mjs and time spawn -> first 200. */
async function bareColdStart(pollIntervalMs) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const handle = spawnTracked(process.execPath, [path.join(HERE, 'bare-server.mjs'), `--port=${port}`]);
  const isDead = () => (handle.child.exitCode !== null ? `bare server exited:\n${handle.stderr.text}` : false);
  try {
    const ready = await pollUntil(`http://127.0.0.1:${port}/v1/sys/health`, { intervalMs: pollIntervalMs, isDead });
    return Number(ready - t0) / 1e6;
  } finally {
    await stopChild(handle);
  }
}

/**
 * opts: { coldRuns, pollIntervalMs? }.
 * Resolves { runs: [{readyMs, stopMs, exit, bareMs}], min, median, max, bareMedian, target, foreignPct }.
 */
export async function benchColdStart(opts, log = console.log) {
  const n = opts.coldRuns;
  const pollIntervalMs = opts.pollIntervalMs ?? 5;
  const runs = [];
  let redone = 0;
  const before = cpuSnapshot();
  for (let i = 1; i <= n; i++) {
    // Children are reaped before the snapshot, so all their CPU counts as ours.
    const { value, attempts } = await measureUncontended(
      async () => {
        const server = await startDevServer({ pollIntervalMs });
        const readyMs = Number(server.readyAt - server.spawnedAt) / 1e6;
        const stopped = await server.stop();
        const bareMs = await bareColdStart(pollIntervalMs);
        return { server, readyMs, stopped, bareMs };
      },
      { maxForeignPct: opts.maxForeign ?? 15, label: `  run ${i}`, log },
    );
    const { server, readyMs, stopped, bareMs } = value;
    redone += attempts - 1;
    const exit = stopped.signal ?? stopped.code;
    runs.push({ readyMs, stopMs: stopped.ms, exit, bareMs });
    log(`  run ${String(i).padStart(2)}  nomad ready in ${readyMs.toFixed(1)} ms (SIGTERM -> exit ${exit} in ${stopped.ms.toFixed(1)} ms)   bare node:http ready in ${bareMs.toFixed(1)} ms`);
    if (stopped.code !== 0) log(`  warning: dev server exited with ${exit} after SIGTERM (expected 0)\n${server.describeFailure()}`);
  }
  const cpu = cpuDelta(before, cpuSnapshot());
  if (cpu && cpu.foreignPct >= (opts.maxForeign ?? 15)) log(`  warning: other processes used ${cpu.foreignPct.toFixed(0)}% of the machine meanwhile; numbers are skewed`);
  const ready = runs.map((r) => r.readyMs);
  return {
    runs,
    pollIntervalMs,
    min: min(ready),
    median: median(ready),
    max: max(ready),
    stopMedian: median(runs.map((r) => r.stopMs)),
    bareMedian: median(runs.map((r) => r.bareMs)),
    target: TARGET_MEDIAN_MS,
    foreignPct: cpu?.foreignPct ?? null,
    redone,
  };
}

/** Descriptor used by bench/run.mjs. */
export const benchmark = {
  id: 'cold',
  title: 'Cold start: spawn `nomad-api server -dev` → first 200 on GET /v1/sys/health',
  needsWrk: false,
  run: benchColdStart,
  describe: (o) => `cold start: ${o.coldRuns} runs, health polled every 5 ms, each paired with a bare node:http start`,
  summaryRows: (r) => [
    {
      what: `cold start to first 200 /v1/sys/health (${r.runs.length} runs)`,
      result: `min ${r.min.toFixed(0)} · median ${r.median.toFixed(0)} · max ${r.max.toFixed(0)} ms`,
      target: `median < ${r.target} ms`,
      met: r.median < r.target,
    },
    { what: 'cold start, bare node:http server for scale (median)', result: `${r.bareMedian.toFixed(0)} ms` },
    { what: 'dev server SIGTERM → exit (median)', result: `${r.stopMedian.toFixed(0)} ms` },
    ...(r.foreignPct === null ? [] : [{ what: 'cold start: CPU used by other processes (whole benchmark)', result: `${r.foreignPct.toFixed(0)}% of the machine (${r.redone} run(s) redone)` }]),
  ],
};
