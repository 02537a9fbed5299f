// Cold-start benchmark: wall time from spawning `node bin/nomad-api server -dev` to its first
// 200 answer on GET /v1/sys/health (polled every few ms over node:http), N times.
import { startDevServer } from './lib/devserver.mjs';
import { cpuDelta, cpuSnapshot } from './lib/cpu.mjs';
import { max, median, min } from './lib/stats.mjs';

export const TARGET_MEDIAN_MS = 300;

/** opts: { coldRuns, pollIntervalMs? }. Resolves { runs: [{readyMs, stopMs, exit}], min, median, max, target }. */
export async function benchColdStart(opts, log = console.log) {
  const n = opts.coldRuns;
  const pollIntervalMs = opts.pollIntervalMs ?? 5;
  const runs = [];
  const before = cpuSnapshot();
  for (let i = 1; i <= n; i++) {
    const server = await startDevServer({ pollIntervalMs });
    const readyMs = Number(server.readyAt - server.spawnedAt) / 1e6;
    const stopped = await server.stop();
    const exit = stopped.signal ?? stopped.code;
    runs.push({ readyMs, stopMs: stopped.ms, exit });
    log(`  run ${String(i).padStart(2)}  ready in ${readyMs.toFixed(1)} ms   SIGTERM -> exit ${exit} in ${stopped.ms.toFixed(1)} ms`);
    if (stopped.code !== 0) log(`  warning: dev server exited with ${exit} after SIGTERM (expected 0)\n${server.describeFailure()}`);
  }
  const cpu = cpuDelta(before, cpuSnapshot());
  if (cpu && cpu.foreignPct >= 10) log(`  warning: other processes used ${cpu.foreignPct.toFixed(0)}% of the machine meanwhile; numbers are skewed`);
  const ready = runs.map((r) => r.readyMs);
  return {
    runs,
    pollIntervalMs,
    min: min(ready),
    median: median(ready),
    max: max(ready),
    stopMedian: median(runs.map((r) => r.stopMs)),
    target: TARGET_MEDIAN_MS,
    foreignPct: cpu?.foreignPct ?? null,
  };
}

/** Descriptor used by bench/run.mjs. */
export const benchmark = {
  id: 'cold',
  title: 'Cold start: spawn `nomad-api server -dev` → first 200 on GET /v1/sys/health',
  needsWrk: false,
  run: benchColdStart,
  describe: (o) => `cold start: ${o.coldRuns} runs, health polled every 5 ms`,
  summaryRows: (r) => [
    {
      what: `cold start to first 200 /v1/sys/health (${r.runs.length} runs)`,
      result: `min ${r.min.toFixed(0)} · median ${r.median.toFixed(0)} · max ${r.max.toFixed(0)} ms`,
      target: `median < ${r.target} ms`,
      met: r.median < r.target,
    },
    ...(r.foreignPct === null ? [] : [{ what: 'cold start: CPU used by other processes meanwhile', result: `${r.foreignPct.toFixed(0)}% of the machine` }]),
  ],
};
