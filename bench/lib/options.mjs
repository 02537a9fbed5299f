// Benchmark options from argv (--name=value) with env fallbacks (BENCH_NAME).
/** Benchmark ids accepted by --only (keep in step with BENCHMARKS in bench/run.mjs). */
export const ONLY = ['read', 'inproc', 'acl', 'cold', 'storage', 'edge', 'auth', 'cli', 'audit', 'etcd', 'failover', 'package', 'snapshot'];
const DEFS = {
  duration: { env: 'BENCH_DURATION', def: 5, num: true, help: 'seconds per measured wrk round' },
  rounds: { env: 'BENCH_ROUNDS', def: 5, num: true, help: 'measured rounds per server or token (read: alternating bare/[baseline/]nomad; acl: root/non-root)' },
  connections: { env: 'BENCH_CONNECTIONS', def: 50, num: true, help: 'wrk connections (-c); wrk always uses -t1' },
  warmup: { env: 'BENCH_WARMUP', def: 2, num: true, help: 'seconds of unmeasured warm-up per server' },
  'cli-runs': { env: 'BENCH_CLI_RUNS', def: 20, num: true, help: 'cli: runs of each command and of curl' },
  'cold-runs': { env: 'BENCH_COLD_RUNS', def: 10, num: true, help: 'cold-start repetitions (cold; package: alternating rounds)' },
  'storage-seconds': { env: 'BENCH_STORAGE_SECONDS', def: 3, num: true, help: 'storage: seconds per wrk run and per disk baseline (bench/storage.mjs --seconds)' },
  'storage-rounds': { env: 'BENCH_STORAGE_ROUNDS', def: 5, num: true, help: 'storage: rounds (bench/storage.mjs --rounds)' },
  'quiet-wait': { env: 'BENCH_QUIET_WAIT', def: 60, num: true, zero: true, help: 'seconds to wait for other processes to go quiet before each benchmark (0: no wait)' },
  'max-foreign': { env: 'BENCH_MAX_FOREIGN', def: 15, num: true, help: '% of the machine other processes may use during a round/run before it is redone (twice at most)' },
  only: { env: 'BENCH_ONLY', def: '', num: false, help: 'run one benchmark: read | inproc | acl | cold | storage | edge | auth | cli | audit | etcd | failover | package | snapshot' },
  scenarios: { env: 'BENCH_SCENARIOS', def: '', num: false, help: 'edge: a comma-separated subset of get, get-after-list, list, list-query' },
  baseline: { env: 'BENCH_BASELINE', def: '', num: false, defText: 'none', help: 'read, edge: another checkout (built) whose dev server is measured alongside, alternating (read: bare, baseline, this tree)' },
  node: { env: 'BENCH_NODE', def: '', num: false, defText: 'the node running the bench', help: 'read, acl, edge, auth, cli, audit, etcd: the node binary the servers run on' },
  check: { env: 'BENCH_CHECK', def: false, bool: true, help: 'exit 1 when a target is missed' },
};

export function usage() {
  return (
    'usage: npm run bench -- [options]   (or node bench/run.mjs [options])\n' +
    Object.entries(DEFS)
      .map(([k, d]) => `  --${k}${d.bool ? '' : '=…'}`.padEnd(22) + `${d.help} (env ${d.env}, default ${d.defText ?? (d.def === '' ? 'all' : d.def)})`)
      .join('\n') +
    '\n'
  );
}

export function parseOptions(argv = process.argv.slice(2), env = process.env) {
  const opts = {};
  const fromArgv = {};
  for (const arg of argv) {
    if (arg === '-h' || arg === '--help') return { help: true };
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[1] in DEFS)) throw new Error(`unknown argument ${arg}\n${usage()}`);
    fromArgv[m[1]] = m[2] ?? 'true';
  }
  const overrides = [];
  for (const [name, d] of Object.entries(DEFS)) {
    let raw = fromArgv[name];
    if (raw === undefined && env[d.env] !== undefined && env[d.env] !== '') {
      raw = env[d.env];
      overrides.push(`${d.env}=${raw}`);
    }
    let v = raw ?? d.def;
    if (d.num) {
      v = Number(v);
      if (!Number.isFinite(v) || v < 0 || (v === 0 && !d.zero)) throw new Error(`--${name} must be a positive number, got ${raw}`);
    } else if (d.bool) {
      v = v === true || v === 'true' || v === '1';
    }
    opts[name.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = v;
  }
  if (opts.only && !ONLY.includes(opts.only)) throw new Error(`--only must be one of ${ONLY.join(', ')}, got ${opts.only}`);
  opts.envOverrides = overrides;
  opts.argv = argv;
  return opts;
}
