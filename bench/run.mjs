#!/usr/bin/env node
// Benchmark entry point: `npm run bench` (builds first) or `node bench/run.mjs [options]`.
// Runs each benchmark in BENCHMARKS (or the one chosen with --only=…) and prints a summary
// block meant to be pasted into BENCHMARKS.md. To add a benchmark: write bench/<name>.mjs
// exporting `benchmark = { id, title, needsWrk, run(opts, log), describe(opts), summaryRows(result) }`
// and list it below (and in --only's accepted values, ONLY in bench/lib/options.mjs).
import { benchmark as read } from './read.mjs';
import { benchmark as acl } from './acl.mjs';
import { benchmark as cold } from './cold-start.mjs';
import { benchmark as storage } from './storage-run.mjs';
import { benchmark as inproc } from './inproc.mjs';
import { benchmark as edge } from './edge.mjs';
import { benchmark as bisect } from './bisect.mjs';
import { benchmark as auth } from './auth.mjs';
import { benchmark as cli } from './cli.mjs';
import { benchmark as audit } from './audit.mjs';
import { benchmark as etcd } from './etcd.mjs';
import { benchmark as failover } from './failover.mjs';
import { benchmark as pkg } from './package.mjs';
import { benchmark as snapshot } from './snapshot.mjs';
import { waitForQuiet } from './lib/cpu.mjs';
import { serverNode } from './lib/devserver.mjs';
import { machineInfo } from './lib/machine.mjs';
import { parseOptions, usage } from './lib/options.mjs';
import { stopAll } from './lib/proc.mjs';
import { ensureWrk } from './lib/wrk.mjs';

// bisect (onlyWhenAsked) is a diagnostic, not part of the full run: `--only=bisect` runs it.
const BENCHMARKS = [read, inproc, acl, cold, storage, edge, auth, cli, audit, etcd, failover, pkg, snapshot, bisect];

/**
 * bisect's own options, taken out of argv before lib/options.mjs sees it (that parser knows
 * neither --only=bisect nor these): --stages=a,b,… and --cpu-prof, accepted with --only=bisect
 * only (BENCH_ONLY=bisect works too). Returns { argv, env, bisect: { stages, cpuProf } | null }.
 */
function takeBisectOptions(argv, env) {
  const only = argv.findLast((a) => a.startsWith('--only='))?.slice(7) ?? env.BENCH_ONLY;
  if (only !== 'bisect') return { argv, env, bisect: null };
  const rest = [];
  const bisectOpts = { stages: '', cpuProf: false };
  for (const a of argv) {
    if (a.startsWith('--only=')) continue;
    if (a.startsWith('--stages=')) bisectOpts.stages = a.slice(9);
    else if (a === '--cpu-prof' || a === '--cpu-prof=true') bisectOpts.cpuProf = true;
    else rest.push(a);
  }
  const { BENCH_ONLY, ...otherEnv } = env;
  return { argv: rest, env: otherEnv, bisect: bisectOpts };
}

const BISECT_USAGE =
  '  --only=bisect         issue 10: CPU per request of GET /v1/secret/foo stage by stage, bare node:http → full nomad-api (not in the full run)\n' +
  '    --stages=a,b,…      bisect: a subset of bare, bare+headers, send, edge, core, nomad, in the order given (default all)\n' +
  '    --cpu-prof          bisect: run the stage servers under node --cpu-prof (profiles in a temp dir, printed at the end)\n';

const log = (line = '') => process.stdout.write(`${line}\n`);

function commandLine(opts) {
  const env = opts.envOverrides.length ? `${opts.envOverrides.join(' ')} ` : '';
  if (process.env.npm_lifecycle_event === 'bench') return `${env}npm run bench${opts.argv.length ? ` -- ${opts.argv.join(' ')}` : ''}`;
  return `${env}node bench/run.mjs${opts.argv.length ? ` ${opts.argv.join(' ')}` : ''}`;
}

async function main() {
  let opts;
  try {
    const argv = process.argv.slice(2);
    const split = takeBisectOptions(argv, process.env);
    opts = parseOptions(split.argv, split.env);
    if (split.bisect && !opts.help) {
      Object.assign(opts, { only: 'bisect', ...split.bisect, argv });
      if (process.env.BENCH_ONLY === 'bisect' && !argv.some((a) => a.startsWith('--only='))) opts.envOverrides.unshift('BENCH_ONLY=bisect');
      bisect.describe(opts); // throws on an unknown stage now, before any server starts
    }
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(usage() + BISECT_USAGE);
    return 0;
  }
  const selected = BENCHMARKS.filter((b) => (opts.only ? b.id === opts.only : !b.onlyWhenAsked));
  if (selected.some((b) => b.needsWrk)) {
    const wrk = await ensureWrk(log);
    log(`wrk: ${wrk}`);
  }
  const machine = await machineInfo();
  // --node: the servers (read, acl, edge, bisect) run on another node binary than the bench itself.
  const servers = opts.node ? serverNode(opts.node) : null;
  const started = new Date();
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.os}; node ${machine.node}; wrk ${machine.wrk}`);
  if (servers) log(`servers (read, acl, edge, bisect) run on node ${servers.version}: ${servers.path}`);
  log('note: the servers and wrk share these cores, so expect ±10–15% between runs');

  const done = [];
  for (const b of selected) {
    log(`\n== ${b.title}`);
    if (opts.quietWait > 0) await waitForQuiet({ maxWaitMs: opts.quietWait * 1000, log: (l) => log(`  ${l}`) });
    const t0 = Date.now();
    const result = await b.run(opts, log);
    log(`   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    done.push({ b, result, rows: b.summaryRows(result) });
  }

  const rows = done.flatMap((d) => d.rows);
  const missed = rows.filter((r) => r.met === false);
  log('\n===== summary (paste into BENCHMARKS.md) =====');
  log(`Date: ${started.toISOString().replace(/:\d\d\.\d+Z$/, 'Z')} · git ${machine.git}`);
  log(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.os}`);
  log(`Node ${machine.node}${servers ? ` (servers of read, acl, edge, bisect: node ${servers.version}, ${servers.path})` : ''} · wrk ${machine.wrk}`);
  log(`Command: \`${commandLine(opts)}\``);
  for (const d of done) log(`  - ${d.b.describe(opts)}`);
  log('');
  log('| benchmark | result | target |');
  log('|---|---|---|');
  for (const r of rows) log(`| ${r.what} | ${r.result} | ${r.target ? `${r.target}: ${r.met ? 'met' : '**MISSED**'}` : '–'} |`);
  log('==============================================');
  if (missed.length) log(`\n${missed.length} target(s) missed${opts.check ? ' (--check: exit 1)' : ''}`);
  return missed.length && opts.check ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`\nbench FAILED: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
