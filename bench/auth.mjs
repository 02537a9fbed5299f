// Auth benchmark (issue 11), on one dev server:
//   userpass-login  POST auth/userpass/login/bench: logins a second, bounded on purpose by
//                   scrypt (its cost parameters are printed); the mount's login limit is lifted
//                   with a stored quota, as an operator would;
//   approle-login   POST auth/approle/login with an unlimited-use secret id (same lift);
//   rejected        POST auth/limited/login (approle, wrong credentials) from one address under
//                   the built-in login limit: after the burst nearly every answer is a 429,
//                   decided before the body is parsed; the few let through (10 a second) are
//                   cheap 400s, so the figure is the refusal's cost;
//   rejected-get    the same refusal for a GET (no request body);
//   read            GET secret/foo with the root token (a cached kv read), measured in the same
//                   rounds, alternating with the refusals: a rejection may not cost more;
//   bare-post, bare-get  bench/bare-server.mjs --refuse: node:http answering the same 429 and
//                   nothing else, for how much of a refusal is node's own.
// Figures: req/s and the server's CPU time per request (utime + stime from /proc/<pid>/stat
// over the wrk run ÷ requests completed). Then, in a child process with --expose-gc, the
// memory of the bucket table after 100,000 distinct limited addresses.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMeter } from './lib/cpu.mjs';
import { REPO_ROOT, serverNode, startDevServer } from './lib/devserver.mjs';
import { request } from './lib/net.mjs';
import { assertClean } from './lib/rounds.mjs';
import { median } from './lib/stats.mjs';
import { runWrk } from './lib/wrk.mjs';
import { spawnTracked, stopChild, waitForOutput } from './lib/proc.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT_TOKEN = 'bench-root-token';
const PASSWORD = 'bench password';

async function ok(server, method, apiPath, body) {
  const res = await request(`${server.url}/v1/${apiPath}`, { method, headers: { 'X-Nomad-Token': ROOT_TOKEN }, body });
  if (res.status >= 300) throw new Error(`${method} ${apiPath} answered ${res.status}: ${res.body}`);
  return res.body.length > 0 ? JSON.parse(res.body.toString('utf8')) : null;
}

/** Mounts, users, roles and quotas; resolves the approle credentials. */
async function prepare(server) {
  await ok(server, 'POST', 'secret/foo', { value: 'bar' });
  for (const [mount, type] of [['userpass', 'userpass'], ['limited', 'approle'], ['approle', 'approle']]) {
    await ok(server, 'POST', `sys/auth/${mount}`, { type });
  }
  await ok(server, 'POST', 'auth/userpass/users/bench', { password: PASSWORD, token_ttl: '10m' });
  for (const mount of ['userpass', 'approle']) {
    await ok(server, 'POST', `sys/quotas/rate-limit/bench-${mount}`, { path: `auth/${mount}/`, rate: 1e6, burst: 1e6 });
  }
  await ok(server, 'POST', 'auth/approle/role/bench', { token_ttl: '10m' });
  const roleId = (await ok(server, 'GET', 'auth/approle/role/bench/role-id')).data.role_id;
  const secretId = (await ok(server, 'POST', 'auth/approle/role/bench/secret-id')).data.secret_id;
  return { roleId, secretId };
}

const COUNT_STATUSES = `local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) limited = 0; other = 0 end
function response(status, headers, body) if status == 429 then limited = limited + 1 else other = other + 1 end end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do io.write(string.format("statuses: 429=%d other=%d\\n", t:get("limited"), t:get("other"))) end
end
`;

/** A POST of `body`; with `countStatuses`, wrk also prints how many answers were 429 (wrk -t1). */
function postScript(dir, name, body, countStatuses = false) {
  const file = path.join(dir, `${name}.lua`);
  const lua = `wrk.method = "POST"\nwrk.body = '${JSON.stringify(body)}'\nwrk.headers["Content-Type"] = "application/json"\n`;
  writeFileSync(file, countStatuses ? lua + COUNT_STATUSES : lua);
  return file;
}

/** A GET, counting the 429 answers. */
function statusScript(dir, name) {
  const file = path.join(dir, `${name}.lua`);
  writeFileSync(file, COUNT_STATUSES);
  return file;
}

export async function benchAuth(opts, log = console.log) {
  const { duration, rounds, warmup } = opts;
  const node = serverNode(opts.node);
  const dir = mkdtempSync(path.join(tmpdir(), 'nomad-auth-'));
  const server = await startDevServer({ rootToken: ROOT_TOKEN, node: node.path });
  const bare = spawnTracked(node.path, [path.join(HERE, 'bare-server.mjs'), '--refuse']);
  try {
    const bareUrl = (await waitForOutput(bare, /listening (http:\/\/\S+)/))[1];
    const { roleId, secretId } = await prepare(server);
    const scenarios = {
      // scrypt runs on libuv's pool (4 threads): a few connections keep it busy.
      'userpass-login': { path: '/v1/auth/userpass/login/bench', connections: 4, script: postScript(dir, 'userpass', { password: PASSWORD }), expect: 'ok' },
      'approle-login': { path: '/v1/auth/approle/login', connections: 4, script: postScript(dir, 'approle', { role_id: roleId, secret_id: secretId }), expect: 'ok' },
      rejected: { path: '/v1/auth/limited/login', connections: opts.connections, script: postScript(dir, 'rejected', { role_id: 'none', secret_id: 'none' }, true), expect: 'refused' },
      'rejected-get': { path: '/v1/auth/limited/login', connections: opts.connections, script: statusScript(dir, 'rejected-get'), expect: 'refused' },
      read: { path: '/v1/secret/foo', connections: opts.connections, headers: { 'X-Nomad-Token': ROOT_TOKEN }, expect: 'ok' },
      'bare-post': { base: bareUrl, pid: bare.child.pid, path: '/', connections: opts.connections, script: postScript(dir, 'bare-post', { role_id: 'none', secret_id: 'none' }, true), expect: 'refused' },
      'bare-get': { base: bareUrl, pid: bare.child.pid, path: '/', connections: opts.connections, script: statusScript(dir, 'bare-get'), expect: 'refused' },
    };
    const measure = async (name, seconds) => {
      const s = scenarios[name];
      const meter = cpuMeter(s.pid ?? server.handle.child.pid);
      const r = await runWrk(`${s.base ?? server.url}${s.path}`, { connections: s.connections, duration: seconds, headers: s.headers, script: s.script });
      const { cpuUs } = meter(r.requests);
      if (cpuUs === null) throw new Error(`auth ${name}: no CPU time from /proc/<pid>/stat (this benchmark needs Linux)`);
      let refusedShare;
      if (s.expect === 'ok') assertClean(`auth ${name}`, r);
      else {
        const m = /statuses: 429=(\d+) other=(\d+)/.exec(r.raw);
        const errors = Object.values(r.socketErrors).reduce((a, b) => a + b, 0);
        if (!m || errors > 0) throw new Error(`auth ${name}: no status counts or socket errors\n${r.raw}`);
        refusedShare = Number(m[1]) / (Number(m[1]) + Number(m[2]));
        if (refusedShare < 0.99) throw new Error(`auth ${name}: only ${(refusedShare * 100).toFixed(1)}% of the answers were 429\n${r.raw}`);
      }
      return { rps: r.rps, requests: r.requests, cpuUs, refusedShare };
    };
    const results = Object.fromEntries(Object.keys(scenarios).map((n) => [n, []]));
    // The refusals and the read first, on a fresh server: after the login runs it holds
    // about 100,000 tokens and leases, and everything it answers costs more (BENCHMARKS.md).
    const groups = [['rejected', 'rejected-get', 'read', 'bare-post', 'bare-get'], ['userpass-login'], ['approle-login']];
    for (const group of groups) {
      for (const name of group) await measure(name, warmup);
      for (let i = 1; i <= rounds; i++) {
        const order = i % 2 === 0 ? [...group].reverse() : group;
        for (const name of order) {
          const m = await measure(name, duration);
          results[name].push(m);
          log(`  round ${i} ${name.padEnd(15)} ${Math.round(m.rps).toLocaleString('en-US').padStart(7)} req/s  ${m.cpuUs.toFixed(1)} µs CPU/request`);
        }
      }
    }
    const summary = Object.fromEntries(
      Object.entries(results).map(([n, ms]) => [n, { rps: median(ms.map((m) => m.rps)), cpuUs: median(ms.map((m) => m.cpuUs)), all: ms.map((m) => m.cpuUs) }]),
    );
    const memory = JSON.parse(execFileSync(node.path, ['--expose-gc', path.join(HERE, 'quota-memory-child.mjs'), `--addresses=100000`], { cwd: REPO_ROOT, encoding: 'utf8' }));
    return { summary, memory, scrypt: memory.scrypt, rounds, duration, node: node.version };
  } finally {
    await stopChild(bare);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const us = (x) => `${x.toFixed(1)} µs`;

export const benchmark = {
  id: 'auth',
  title: 'Auth: userpass and approle logins a second, the cost of a 429, bucket memory',
  needsWrk: true,
  run: benchAuth,
  describe: (o) => `auth: wrk -t1 (logins -c4, rejected/read -c${o.connections}), ${o.warmup}s warm-up + ${o.rounds} × ${o.duration}s per scenario; rejected and read alternate`,
  summaryRows: (r) => {
    const s = r.summary;
    const c = r.scrypt;
    return [
      { what: `auth userpass login (scrypt N=${c.N}, r=${c.r}, p=${c.p})`, result: `${Math.round(s['userpass-login'].rps)} logins/s · ${(s['userpass-login'].cpuUs / 1000).toFixed(1)} ms CPU each` },
      { what: 'auth approle login', result: `${Math.round(s['approle-login'].rps)} logins/s · ${us(s['approle-login'].cpuUs)} CPU each` },
      { what: 'auth cached kv read (CPU per request)', result: `${us(s.read.cpuUs)} · ${Math.round(s.read.rps).toLocaleString('en-US')} req/s` },
      {
        what: 'auth 429 of a GET (CPU per request)',
        result: `${us(s['rejected-get'].cpuUs)} · ${Math.round(s['rejected-get'].rps).toLocaleString('en-US')} req/s (bare node:http's 429: ${us(s['bare-get'].cpuUs)})`,
        target: 'rejection ≤ read',
        met: s['rejected-get'].cpuUs <= s.read.cpuUs,
      },
      {
        what: 'auth 429 of a login POST (CPU per request)',
        result: `${us(s.rejected.cpuUs)} · ${Math.round(s.rejected.rps).toLocaleString('en-US')} req/s (bare node:http's 429 of the same POST: ${us(s['bare-post'].cpuUs)})`,
        target: 'rejection ≤ read',
        met: s.rejected.cpuUs <= s.read.cpuUs,
      },
      {
        what: `auth bucket table after ${r.memory.addresses.toLocaleString('en-US')} limited addresses`,
        result: `${r.memory.entries.toLocaleString('en-US')} buckets (cap ${r.memory.maxEntries.toLocaleString('en-US')}), heap +${r.memory.heapMiB.toFixed(1)} MiB, estimate ${r.memory.estimateMiB.toFixed(1)} MiB`,
      },
    ];
  },
};
