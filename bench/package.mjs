// Single-executable benchmark (issue 15): builds the binary with scripts/package.mjs (on the
// node running the bench, into a temp dir), reports its size, then times the cold start,
// spawn -> first 200 on GET /v1/sys/health (polled every 5 ms), of the binary and of
// `node bin/nomad-api server -dev`, alternating which goes first, --cold-runs rounds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageBinary } from '../scripts/package.mjs';
import { measureUncontended } from './lib/cpu.mjs';
import { startDevServer } from './lib/devserver.mjs';
import { freePort, pollUntil } from './lib/net.mjs';
import { spawnTracked, stopChild } from './lib/proc.mjs';
import { max, median, min } from './lib/stats.mjs';

export const TARGET_BYTES = 120e6;
export const TARGET_MEDIAN_MS = 150;
const POLL_MS = 5;

async function binaryColdStart(binary) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const handle = spawnTracked(binary, ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`]);
  const isDead = () => (handle.child.exitCode !== null ? `binary exited:\n${handle.stderr.text}` : false);
  try {
    return Number((await pollUntil(`http://127.0.0.1:${port}/v1/sys/health`, { intervalMs: POLL_MS, isDead })) - t0) / 1e6;
  } finally {
    await stopChild(handle);
  }
}

async function nodeColdStart() {
  const server = await startDevServer({ pollIntervalMs: POLL_MS });
  await server.stop();
  return Number(server.readyAt - server.spawnedAt) / 1e6;
}

/** opts: { coldRuns, maxForeign }. Resolves { bytes, node, commit, buildMs, runs: [{binaryMs, nodeMs}], binary{min,median,max}, nodeMedian }. */
export async function benchPackage(opts, log = console.log) {
  const dir = mkdtempSync(path.join(tmpdir(), 'nomad-api-bench-package-'));
  try {
    const t0 = Date.now();
    const built = await packageBinary({ outDir: dir });
    const buildMs = Date.now() - t0;
    log(`  built ${path.basename(built.binary)} in ${(buildMs / 1000).toFixed(1)} s: ${built.bytes} bytes, node ${built.node}, commit ${built.commit}${built.stripped ? ', stripped' : ''}`);
    const runs = [];
    for (let i = 1; i <= opts.coldRuns; i++) {
      const binaryFirst = i % 2 === 1;
      const { value } = await measureUncontended(
        async () => {
          const first = binaryFirst ? await binaryColdStart(built.binary) : await nodeColdStart();
          const second = binaryFirst ? await nodeColdStart() : await binaryColdStart(built.binary);
          return binaryFirst ? { binaryMs: first, nodeMs: second } : { binaryMs: second, nodeMs: first };
        },
        { maxForeignPct: opts.maxForeign ?? 15, label: `  round ${i}`, log },
      );
      runs.push(value);
      log(`  round ${String(i).padStart(2)} (${binaryFirst ? 'binary first' : 'node first'})  binary ready in ${value.binaryMs.toFixed(1)} ms   node bin/nomad-api ready in ${value.nodeMs.toFixed(1)} ms`);
    }
    const b = runs.map((r) => r.binaryMs);
    return { ...built, buildMs, runs, binary: { min: min(b), median: median(b), max: max(b) }, nodeMedian: median(runs.map((r) => r.nodeMs)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Descriptor used by bench/run.mjs. */
export const benchmark = {
  id: 'package',
  title: 'Single executable (npm run package): size, and cold start beside `node bin/nomad-api server -dev`',
  needsWrk: false,
  run: benchPackage,
  describe: (o) => `package: binary built on the bench's node, ${o.coldRuns} alternating rounds of cold start (binary, node bin/nomad-api), health polled every ${POLL_MS} ms`,
  summaryRows: (r) => [
    {
      what: `single executable size (node ${r.node}${r.stripped ? ', stripped' : ''})`,
      result: `${r.bytes.toLocaleString('en-US')} B (${(r.bytes / 2 ** 20).toFixed(1)} MiB)`,
      target: '≤ 120 MB',
      met: r.bytes <= TARGET_BYTES,
    },
    {
      what: `single executable cold start to first 200 /v1/sys/health (${r.runs.length} rounds)`,
      result: `min ${r.binary.min.toFixed(0)} · median ${r.binary.median.toFixed(0)} · max ${r.binary.max.toFixed(0)} ms`,
      target: `median ≤ ${TARGET_MEDIAN_MS} ms`,
      met: r.binary.median <= TARGET_MEDIAN_MS,
    },
    { what: 'same rounds: node bin/nomad-api server -dev (median)', result: `${r.nodeMedian.toFixed(0)} ms` },
    { what: 'npm run package build time (after tsc)', result: `${(r.buildMs / 1000).toFixed(1)} s` },
  ],
};
